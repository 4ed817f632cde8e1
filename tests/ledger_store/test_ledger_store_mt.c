/* The store's reads from other threads while the appending thread writes, syncs and rotates:
 * every record a sync has covered reads back exactly, from any segment, and nothing past the
 * synced count is readable. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/atomic.h"
#include "lfix.h"

#define N 600u

static uint8_t bodies[N][CNV_LEDGER_BODY_FIXED + 128];
static size_t lens[N];
static uint8_t leaves[N][32];

typedef struct shared {
  cnv__lstore *s;
  _Atomic uint64_t synced; /* records the main thread has synced */
  _Atomic uint64_t done;
} shared;

typedef struct rstate {
  shared *sh;
  unsigned seed;
  uint64_t reads, bad;
} rstate;

static void *reader(void *arg) {
  rstate *rs = arg;
  shared *sh = rs->sh;
  uint8_t buf[CNV__LBODY_MAX];
  unsigned x = rs->seed;
  while (!cnv__load_acquire(&sh->done)) {
    /* acquire: pairs with the release after each sync, so every record below n is synced */
    uint64_t n = cnv__load_acquire(&sh->synced);
    x = x * 1103515245u + 12345u;
    size_t len = 0;
    if (n) {
      uint64_t i = (x >> 8) % n;
      if (cnv__lstore_read(sh->s, i, buf, sizeof buf, &len) != CNV_OK || len != lens[i] ||
          memcmp(buf, bodies[i], len) != 0) {
        rs->bad++;
      }
      rs->reads++;
    }
    /* past what the writer can have synced: never readable */
    if (cnv__lstore_read(sh->s, N + (x & 7), buf, sizeof buf, &len) != CNV_ERANGE) rs->bad++;
  }
  return NULL;
}

static void reads_during_appends(void **state) {
  (void)state;
  lfix_chain c = {0};
  static uint8_t pay[128];
  for (uint64_t i = 0; i < N; i++) {
    cnv_ledger_entry e;
    lfix_entry(&e, CNV_LREC_APP, (uint32_t)(i % 128), pay, i);
    size_t len = 0;
    assert_int_equal(cnv_ledger_entry_encode(&e, c.next, c.prev, bodies[i], sizeof bodies[i], &len), CNV_OK);
    lens[i] = len;
    assert_int_equal(cnv_ledger_leaf_hash(bodies[i], len, leaves[i]), CNV_OK);
    memcpy(c.prev, leaves[i], 32);
    c.next++;
  }
  char *dir = lfix_tmpdir();
  static shared sh;
  assert_int_equal(cnv__lstore_open(dir, 4096, 0, NULL, NULL, &sh.s, NULL), CNV_OK);
  rstate rs[2] = {{.sh = &sh, .seed = 7}, {.sh = &sh, .seed = 99}};
  pthread_t th[2];
  for (int t = 0; t < 2; t++) assert_int_equal(pthread_create(&th[t], NULL, reader, &rs[t]), 0);
  for (uint64_t i = 0; i < N; i++) {
    assert_int_equal(cnv__lstore_append(sh.s, i, bodies[i], lens[i], leaves[i]), CNV_OK);
    if (i % 9 == 8 || i + 1 == N) {
      assert_int_equal(cnv__lstore_sync(sh.s, 2), CNV_OK);
      /* release: the sync (and the store's own publication) happen before a reader sees i + 1 */
      cnv__store_release(&sh.synced, i + 1);
    }
  }
  cnv__store_release(&sh.done, 1);
  for (int t = 0; t < 2; t++) {
    assert_int_equal(pthread_join(th[t], NULL), 0);
    assert_int_equal(rs[t].bad, 0);
  }
  assert_true(cnv__lstore_segments(sh.s) > 10);
  cnv__lstore_close(sh.s);
  lfix_rmdir(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(reads_during_appends)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
