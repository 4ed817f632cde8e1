# The positioned MPMC push (cnv_queue_try_push_mpmc_at) that numbers ledger records.
cnv_test(NAME test_queue_push_at SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue_push_at.c LABELS unit stress
         TIMEOUT 120)
