# Tests of the MPMC queue and the SPSC ring (src/hotpath/queue.c, spsc.c).
cnv_test(NAME test_queue SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue.c)
cnv_test(NAME test_spsc SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_spsc.c)
cnv_test(NAME test_queue_stress SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue_stress.c LABELS stress
         TIMEOUT 120)
cnv_test(NAME test_queue_linearizability SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue_linearizability.c
         LABELS stress TIMEOUT 120)
# Exhaustive check of the slot/sequence protocol (queue.pml) with spin; label `model`.
cnv_tool_test(test_queue_model spin spin CNV_SPIN_EXE)
if(CNV_SPIN_EXE)
  add_test(NAME test_queue_model COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/run_spin.sh ${CNV_SPIN_EXE}
    ${CMAKE_C_COMPILER} ${CMAKE_CURRENT_LIST_DIR}/queue.pml ${CMAKE_CURRENT_BINARY_DIR}/queue_model)
endif()
set_tests_properties(test_queue_model PROPERTIES LABELS model TIMEOUT 300)
# The demo used by scripts/run checks its own count and checksum and exits 1 on a mismatch.
if(TARGET cnv_demo_queue)
  add_test(NAME demo_queue COMMAND ${CNV_TEST_LAUNCHER} $<TARGET_FILE:cnv_demo_queue> 200000)
  set_tests_properties(demo_queue PROPERTIES LABELS stress TIMEOUT 120
    ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1 suppressions=${CNV_TSAN_SUPPRESSIONS}")
endif()
