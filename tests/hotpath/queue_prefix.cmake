# The prefix MPMC push (cnv_queue_try_push_mpmc_prefix) that the runtime's submit uses.
cnv_test(NAME test_queue_push_prefix SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue_push_prefix.c
         LABELS unit stress TIMEOUT 120)
