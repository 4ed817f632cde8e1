# Tests of the MPMC queue and the SPSC ring (src/hotpath/queue.c, spsc.c).
cnv_test(NAME test_queue SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue.c)
cnv_test(NAME test_spsc SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_spsc.c)
cnv_test(NAME test_queue_stress SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue_stress.c LABELS stress
         TIMEOUT 120)
cnv_test(NAME test_queue_linearizability SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue_linearizability.c
         LABELS stress TIMEOUT 120)
# Exhaustive check of the slot/sequence protocol (queue.pml) with spin; label `model`.
find_program(CNV_SPIN_EXE spin REQUIRED)
add_test(NAME test_queue_model COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/run_spin.sh ${CNV_SPIN_EXE}
  ${CMAKE_C_COMPILER} ${CMAKE_CURRENT_LIST_DIR}/queue.pml ${CMAKE_CURRENT_BINARY_DIR}/queue_model)
set_tests_properties(test_queue_model PROPERTIES LABELS model TIMEOUT 300)
