/* Sealed messages' nonces (drawn in batches per thread, src/swarmwire/crypto.c): no nonce
 * twice in one thread across many batches, nor between threads, nor between a process and
 * its forked child, which must not hand out the rest of its parent's batch. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <cnv/swarmwire.h>

#define RESP_NONCE_AT 10u /* a RESPONSE: version, kind, reqid, then the nonce */
#define PER_THREAD 200u   /* several batches */

static const uint8_t key[CNV_SW_SYM_BYTES] = {7};

/* The nonce of a fresh RESPONSE sealed under key. */
static void response_nonce(uint8_t nonce[CNV_SW_NONCE_BYTES]) {
  uint8_t out[64];
  size_t w = 0;
  assert_int_equal(cnv_sw_response_seal(key, 1, "x", 1, out, sizeof out, &w), CNV_OK);
  memcpy(nonce, out + RESP_NONCE_AT, CNV_SW_NONCE_BYTES);
}

static int cmp_nonce(const void *a, const void *b) { return memcmp(a, b, CNV_SW_NONCE_BYTES); }

/* Asserts that the n nonces (sorted here) are all different. */
static void assert_distinct(uint8_t (*nonces)[CNV_SW_NONCE_BYTES], size_t n) {
  qsort(nonces, n, CNV_SW_NONCE_BYTES, cmp_nonce);
  for (size_t i = 1; i < n; i++) assert_memory_not_equal(nonces[i - 1], nonces[i], CNV_SW_NONCE_BYTES);
}

static uint8_t drawn[2 * PER_THREAD][CNV_SW_NONCE_BYTES];

static void *draw_half(void *arg) {
  uint8_t(*mine)[CNV_SW_NONCE_BYTES] = arg;
  for (size_t i = 0; i < PER_THREAD; i++) response_nonce(mine[i]);
  return NULL;
}

static void test_no_nonce_twice_between_threads(void **state) {
  (void)state;
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, draw_half, drawn[PER_THREAD]), 0);
  draw_half(drawn[0]);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_distinct(drawn, 2 * PER_THREAD);
}

static void test_forked_child_draws_its_own(void **state) {
  (void)state;
  uint8_t parent[CNV_SW_NONCE_BYTES], child[CNV_SW_NONCE_BYTES];
  response_nonce(parent); /* this thread's batch now holds undrawn nonces */
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    uint8_t mine[CNV_SW_NONCE_BYTES];
    response_nonce(mine);
    _exit(write(fds[1], mine, sizeof mine) == (ssize_t)sizeof mine ? 0 : 1);
  }
  close(fds[1]);
  response_nonce(parent); /* the nonce the child would have had without its own batch */
  assert_int_equal(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
  close(fds[0]);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_memory_not_equal(parent, child, CNV_SW_NONCE_BYTES);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_nonce_twice_between_threads),
      cmocka_unit_test(test_forked_child_draws_its_own),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
