/* The cnv tool's built-in demos (src/cli/builtins.c) through a runtime, as `cnv serve` and
 * `cnv mcp serve` register them: their schemas (the runtime refuses a line that does not fit
 * before it runs), demo.echo's text, demo.types' JSON of exactly its arguments (strings byte
 * for byte), demo.sleep's progress and cancellation, demo.fail's failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/builtins.h"
#include "cnv/protocol.h"
#include "cnv/runtime.h"
#include "support/forge.h"

static cnv_runtime *rt;
static cnv_runtime_cq *cq; /* destroyed once the runtime is stopped, as cq_destroy asks */
static uint32_t agent;
static uint8_t result[1 << 16];

static int setup(void **state) {
  (void)state;
  if (sodium_init() < 0) return -1;
  cnv_runtime_config rc;
  cnv_runtime_config_default(&rc);
  rc.max_line = 4000;
  rc.max_result = sizeof result;
  if (cnv_runtime_create(&rc, &rt) != CNV_OK) return -1;
  tkey root;
  tkey_make(&root, 1);
  if (cnv_runtime_trust_add(rt, root.pk) != CNV_OK) return -1;
  if (!cli_builtins_register(rt)) return -1;
  if (agent_add_allowing(rt, root.sk, 2, 0, "demo.*", CNV_EFFECTS_ALL, &agent) != CNV_OK) return -1;
  if (cnv_runtime_cq_create(rt, 4, &cq) != CNV_OK) return -1;
  return cnv_runtime_start(rt) == CNV_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  cnv_status st = cnv_runtime_stop(rt, 5000000000ull);
  cnv_runtime_cq_destroy(cq);
  cnv_runtime_destroy(rt);
  return st == CNV_OK ? 0 : -1;
}

/* Invokes a line; the call must be accepted. */
static void invoke(const char *line, size_t len, cnv_runtime_completion *c) {
  assert_int_equal(cnv_runtime_invoke(rt, agent, line, len, NULL, c, result, sizeof result), CNV_OK);
}

static void echo(void **state) {
  (void)state;
  cnv_runtime_completion c;
  invoke("demo.echo --text PONG", 21, &c);
  assert_int_equal(c.kind, CNV_DONE_RAN);
  assert_int_equal(c.status, CNV_OK);
  assert_int_equal(c.result_len, 4);
  assert_memory_equal(c.result, "PONG", 4);
  /* every byte of a literal value comes back */
  static const char text[] = "a \"b\"\n--c\0d \xc3\xa9";
  char line[256];
  cnv_line_builder b;
  assert_int_equal(cnv_line_init(&b, line, sizeof line, "demo.echo", 9), CNV_OK);
  assert_int_equal(cnv_line_add_string(&b, "text", 4, text, sizeof text - 1), CNV_OK);
  invoke(line, b.len, &c);
  assert_int_equal(c.status, CNV_OK);
  assert_int_equal(c.result_len, sizeof text - 1);
  assert_memory_equal(c.result, text, sizeof text - 1);
}

/* Lines that do not fit a demo's schema are refused before anything runs. */
static void schemas(void **state) {
  (void)state;
  static const char *const bad[] = {
      "demo.echo",                   /* text is required */
      "demo.sleep --ms 30001",       /* past 30000 */
      "demo.sleep --ms -1",          /* below 0 */
      "demo.sleep --ms soon",        /* not an integer */
      "demo.fail --why now",         /* closed: no arguments */
      "demo.types --i 1",            /* s is required */
      "demo.types --s x --e purple", /* not a colour */
      "demo.types --s x --i 1.5",    /* not an integer */
      "demo.types --s x --n abc",    /* not a number */
      "demo.types --s x --b=maybe",  /* not a boolean */
      "demo.types --s x --s y",      /* s is not repeated */
      "demo.types --s x --colour 1", /* closed */
      "demo.types --s x stray",      /* closed: no positionals */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cnv_status st = cnv_runtime_submit(rt, agent, bad[i], strlen(bad[i]));
    if (st != CNV_ERT_DENY_ARGUMENTS) fail_msg("%s: %s", bad[i], cnv_status_name(st));
  }
}

static void types(void **state) {
  (void)state;
  static const char s[] = "q\"uo'te\nnew --line\0nul \xc3\xa9\xe2\x9c\x93";
  char line[1024];
  cnv_line_builder b;
  assert_int_equal(cnv_line_init(&b, line, sizeof line, "demo.types", 10), CNV_OK);
  assert_int_equal(cnv_line_add_string(&b, "s", 1, s, sizeof s - 1), CNV_OK);
  assert_int_equal(cnv_line_add_int(&b, "i", 1, INT64_MIN), CNV_OK);
  assert_int_equal(cnv_line_add_number(&b, "n", 1, -0.125), CNV_OK);
  assert_int_equal(cnv_line_add_bool(&b, "b", 1, false), CNV_OK);
  assert_int_equal(cnv_line_add_string(&b, "e", 1, "blue", 4), CNV_OK);
  assert_int_equal(cnv_line_add_string(&b, "tags", 4, "z", 1), CNV_OK);
  assert_int_equal(cnv_line_add_string(&b, "tags", 4, "", 0), CNV_OK);
  assert_int_equal(cnv_line_add_string(&b, "tags", 4, "a", 1), CNV_OK);
  cnv_runtime_completion c;
  invoke(line, b.len, &c);
  assert_int_equal(c.status, CNV_OK);
  assert_int_equal(c.content_type, CNV_CONTENT_JSON);
  json_error_t je;
  json_t *got = json_loadb((const char *)c.result, c.result_len, JSON_ALLOW_NUL, &je);
  assert_non_null(got);
  json_t *want = json_pack("{s:s%,s:I,s:f,s:b,s:s,s:[s,s,s]}", "s", s, sizeof s - 1, "i", (json_int_t)INT64_MIN, "n",
                           -0.125, "b", 0, "e", "blue", "tags", "z", "", "a");
  assert_non_null(want);
  if (!json_equal(got, want)) fail_msg("demo.types answered %.*s", (int)c.result_len, (const char *)c.result);
  json_decref(want);
  json_decref(got);
  /* only what it got: s alone, and a boolean written as the bare flag */
  invoke("demo.types --s one --b", 22, &c);
  assert_int_equal(c.status, CNV_OK);
  assert_int_equal(c.result_len, strlen("{\"s\":\"one\",\"b\":true}"));
  assert_memory_equal(c.result, "{\"s\":\"one\",\"b\":true}", c.result_len);
  /* a string that is not UTF-8 has no JSON form: a failure that says so */
  assert_int_equal(cnv_line_init(&b, line, sizeof line, "demo.types", 10), CNV_OK);
  assert_int_equal(cnv_line_add_string(&b, "s", 1, "\xff", 1), CNV_OK);
  invoke(line, b.len, &c);
  assert_int_equal(c.status, CNV_EINVAL);
  assert_non_null(memmem(c.result, c.result_len, "not UTF-8", 9));
}

static void fail_demo(void **state) {
  (void)state;
  cnv_runtime_completion c;
  invoke("demo.fail", 9, &c);
  assert_int_equal(c.kind, CNV_DONE_RAN);
  assert_int_equal(c.status, CNV_EIO);
  assert_non_null(memmem(c.result, c.result_len, "always fails", 12));
}

/* Progress reports of a short sleep: all of total 120, growing, the last one at 120. */
typedef struct reports {
  _Atomic unsigned n;
  double last, total;
  bool grew;
} reports;

static void on_progress(void *ctx, const cnv_runtime_progress *p) {
  reports *rp = ctx;
  if (atomic_load(&rp->n) > 0 && !(p->progress > rp->last)) rp->grew = false;
  rp->last = p->progress;
  rp->total = p->total;
  atomic_fetch_add(&rp->n, 1u);
}

static void sleep_progress(void **state) {
  (void)state;
  reports rp = {.grew = true};
  cnv_runtime_submit_opts o = {.on_progress = on_progress, .progress_ctx = &rp};
  cnv_runtime_completion c;
  assert_int_equal(cnv_runtime_invoke(rt, agent, "demo.sleep --ms 120", 19, &o, &c, result, sizeof result), CNV_OK);
  assert_int_equal(c.status, CNV_OK);
  assert_true(atomic_load(&rp.n) >= 1);
  assert_true(rp.grew);
  assert_true(rp.total == 120);
  assert_true(rp.last == 120);
  invoke("demo.sleep --ms 0", 17, &c);
  assert_int_equal(c.status, CNV_OK);
}

/* A cancelled sleep returns early: its completion says cancelled. */
static void sleep_cancel(void **state) {
  (void)state;
  reports rp = {.grew = true};
  cnv_runtime_submit_opts o = {.cq = cq, .on_progress = on_progress, .progress_ctx = &rp};
  uint64_t ticket = 0;
  assert_int_equal(cnv_runtime_submit_ex(rt, agent, "demo.sleep --ms 30000", 21, &o, &ticket), CNV_OK);
  while (atomic_load(&rp.n) == 0) { /* running once it reported */
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  assert_int_equal(cnv_runtime_cancel(rt, ticket), CNV_OK);
  cnv_runtime_completion c;
  assert_int_equal(cnv_runtime_cq_wait(cq, 20000, &c, result, sizeof result), CNV_OK);
  assert_int_equal(c.kind, CNV_DONE_CANCELLED);
  assert_int_equal(c.status, CNV_ERT_CANCELLED);
}

/* demo.count counts per key: each run of a key answers one more, other keys apart; its
 * schema wants a key of 1..64 bytes. */
static void count_demo(void **state) {
  (void)state;
  cnv_runtime_completion c;
  for (int i = 1; i <= 3; i++) {
    invoke("demo.count --key a", 18, &c);
    assert_int_equal(c.status, CNV_OK);
    char want[8];
    int n = snprintf(want, sizeof want, "%d", i);
    assert_int_equal(c.result_len, (size_t)n);
    assert_memory_equal(c.result, want, (size_t)n);
  }
  invoke("demo.count --key b", 18, &c);
  assert_int_equal(c.status, CNV_OK);
  assert_int_equal(c.result_len, 1);
  assert_memory_equal(c.result, "1", 1);
  char long_key[100] = "demo.count --key ";
  size_t at = strlen(long_key);
  memset(long_key + at, 'k', 65); /* one byte past 64 */
  long_key[at + 65] = '\0';
  const char *const bad[] = {"demo.count", "demo.count --key \"\"", "demo.count --key a --n 1", long_key};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cnv_status st = cnv_runtime_submit(rt, agent, bad[i], strlen(bad[i]));
    if (st != CNV_ERT_DENY_ARGUMENTS) fail_msg("%s: %s", bad[i], cnv_status_name(st));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(echo),
      cmocka_unit_test(schemas),
      cmocka_unit_test(types),
      cmocka_unit_test(fail_demo),
      cmocka_unit_test(sleep_progress),
      cmocka_unit_test(sleep_cancel),
      cmocka_unit_test(count_demo),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
