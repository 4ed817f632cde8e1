# Tests of the context pool and the arenas (src/hotpath/pool.c, arena.c, shared_arena.c).
cnv_test(NAME test_pool SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pool.c)
cnv_test(NAME test_arena SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_arena.c)
cnv_test(NAME test_pool_stress SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pool_stress.c LABELS stress
         TIMEOUT 120)
cnv_test(NAME test_arena_stress SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_arena_stress.c
         LABELS stress TIMEOUT 120)
