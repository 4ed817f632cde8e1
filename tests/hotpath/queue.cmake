# Tests of the MPMC queue and the SPSC ring (src/hotpath/queue.c, spsc.c).
cnv_test(NAME test_queue SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue.c)
cnv_test(NAME test_spsc SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_spsc.c)
cnv_test(NAME test_queue_stress SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue_stress.c LABELS stress
         TIMEOUT 120)
cnv_test(NAME test_queue_linearizability SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue_linearizability.c
         LABELS stress TIMEOUT 120)
