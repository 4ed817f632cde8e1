/* Capabilities with typed arguments (cnv_runtime_handler_spec.schema): register checks the
 * schema, submit denies a line that does not fit it under "arguments" before anything is
 * queued, and the handler parses the line with call->schema. Also the listing
 * (cnv_runtime_capability_each) and the registry generation. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "cnv_test_util.h"
#include "runtime/rt_fixture.h"
#include "support/text_sink.h"

/* ---- a typed capability: count (integer, required), verbose (boolean), mode (enum) ---- */
static const char *const modes[] = {"fast", "slow"};
static const cnv_arg_spec typed_args[] = {
    {.name = "count", .type = CNV_ARGT_INTEGER, .flags = CNV_ARGF_REQUIRED},
    {.name = "verbose", .type = CNV_ARGT_BOOLEAN},
    {.name = "mode", .type = CNV_ARGT_ENUM, .n_enum = 2, .enum_values = modes},
};
static const cnv_parse_schema typed_closed = {.args = typed_args, .n_args = 3, .flags = CNV_SCHEMA_CLOSED};
/* the same arguments, open: other flags and positionals pass */
static const cnv_parse_schema typed_open = {.args = typed_args, .n_args = 3};

static atomic_uint typed_runs;

/* Counts its runs and answers "count=N verbose=B positionals=P first=WORD", read with
 * call->schema (no cmocka on a worker: a failure shows as an answer the test rejects). */
static cnv_status typed_handler(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  atomic_fetch_add(&typed_runs, 1);
  cnv_arg args[16];
  cnv_invocation inv;
  if (cnv_invocation_init(&inv, args, 16) != CNV_OK ||
      cnv_parse_invocation(c->line, c->line_len, NULL, c->schema, &inv) != CNV_OK) {
    return CNV_EINVAL;
  }
  int64_t count = -1;
  bool verbose = false;
  unsigned positionals = 0;
  char first[32] = "-";
  for (uint32_t i = 0; i < inv.count; i++) {
    const cnv_arg *a = &inv.args[i];
    if (a->kind == CNV_ARG_POSITIONAL) {
      if (positionals++ == 0) snprintf(first, sizeof first, "%.*s", (int)a->value.len, a->value.ptr);
    } else if (a->name.len == 5 && memcmp(a->name.ptr, "count", 5) == 0) {
      if (cnv_arg_int(a, &count) != CNV_OK) return CNV_EINVAL;
    } else if (a->name.len == 7 && memcmp(a->name.ptr, "verbose", 7) == 0) {
      /* a boolean flag: kind LONG_BOOL, never a value taken from the next word */
      if (a->kind != CNV_ARG_LONG_BOOL || cnv_arg_bool(a, &verbose) != CNV_OK) return CNV_EINVAL;
    }
  }
  char out[96];
  int n = snprintf(out, sizeof out, "count=%lld verbose=%d positionals=%u first=%s schema=%d",
                   (long long)count, verbose, positionals, first, c->schema != NULL);
  return cnv_runtime_result_write(r, out, (size_t)n);
}

static void register_spec(rtf *f, const char *path, const cnv_parse_schema *schema, cnv_runtime_handler_fn fn) {
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_USER_INITIATED, .fn = fn, .schema = schema};
  assert_int_equal(cnv_runtime_register(f->rt, path, strlen(path), &spec), CNV_OK);
}

/* Invokes line and returns the completion's status; the result (NUL-terminated) in out. */
static cnv_status invoke_text(rtf *f, uint32_t agent, const char *line, char *out, size_t cap) {
  cnv_runtime_completion c;
  cnv_status st = cnv_runtime_invoke(f->rt, agent, line, strlen(line), NULL, &c, out, cap - 1);
  if (st != CNV_OK) return st;
  assert_int_equal(c.kind, CNV_DONE_RAN);
  out[c.result_len] = '\0';
  return c.status;
}

/* Lines that do not fit the closed schema: denied under "arguments", none reaches the
 * handler, nothing is queued; the lines that fit run. */
static void test_denials(void **state) {
  (void)state;
  rtf f;
  rtf_create(&f, NULL);
  atomic_store(&typed_runs, 0);
  register_spec(&f, "t.typed", &typed_closed, typed_handler);
  uint32_t agent = rtf_agent_start(&f, 0x31);
  static const char *const unfit[] = {
      "t.typed --verbose",                 /* count missing (required) */
      "t.typed --mode=fast",               /* count missing */
      "t.typed --count=abc",               /* wrong type: not an integer */
      "t.typed --count=1.5",               /* wrong type: a number, not an integer */
      "t.typed --count=3 --mode=medium",   /* not one of the enum's values */
      "t.typed --count=3 --verbose=maybe", /* a boolean written neither true nor false */
      "t.typed --count=3 --bogus=1",       /* a flag the closed schema does not declare */
      "t.typed --count=3 --bogus",         /* the same, as a boolean */
      "t.typed --count=3 word",            /* a positional on a closed schema */
      "t.typed --count=3 -v",              /* a short flag on a closed schema */
      "t.typed --count=3 --count=4",       /* given twice, not declared repeated */
  };
  size_t n_unfit = sizeof unfit / sizeof unfit[0];
  for (size_t i = 0; i < n_unfit; i++) {
    uint64_t ticket = 0;
    cnv_runtime_submit_opts o;
    memset(&o, 0, sizeof o);
    assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, unfit[i], strlen(unfit[i]), &o, &ticket),
                     CNV_ERT_DENY_ARGUMENTS);
    assert_int_equal(ticket, 0); /* nothing was accepted */
  }
  char out[128];
  assert_int_equal(invoke_text(&f, agent, "t.typed --count=3 --verbose --mode=slow", out, sizeof out), CNV_OK);
  assert_string_equal(out, "count=3 verbose=1 positionals=0 first=- schema=1");
  assert_int_equal(invoke_text(&f, agent, "t.typed --count=-7", out, sizeof out), CNV_OK);
  assert_string_equal(out, "count=-7 verbose=0 positionals=0 first=- schema=1");
  cnv_runtime_stats s = rtf_settled(f.rt);
  assert_int_equal(s.denied[CNV_RT_DENY_ARGUMENTS], n_unfit);
  assert_int_equal(s.denied_total, n_unfit);
  assert_int_equal(s.accepted, 2);
  assert_int_equal(atomic_load(&typed_runs), 2); /* no unfit line reached the handler */
  text_sink t = {.len = 0};
  assert_int_equal(cnv_runtime_metrics_prometheus(f.rt, text_sink_put, &t), CNV_OK);
  char want[96];
  snprintf(want, sizeof want, "cnv_rt_denied_total{reason=\"arguments\"} %zu\n", n_unfit);
  assert_non_null(strstr(t.text, want));
  rtf_stop_destroy(&f);
}

/* The reason's name, status and mapping, like every other reason. */
static void test_reason(void **state) {
  (void)state;
  assert_string_equal(cnv_runtime_denial_name(CNV_RT_DENY_ARGUMENTS), "arguments");
  assert_int_equal(cnv_runtime_denial_status(CNV_RT_DENY_ARGUMENTS), CNV_ERT_DENY_ARGUMENTS);
  assert_int_equal(cnv_runtime_denial_of(CNV_ERT_DENY_ARGUMENTS), CNV_RT_DENY_ARGUMENTS);
  assert_int_equal(CNV_RT_DENY_ARGUMENTS, CNV_RT_DENY_COUNT - 1);
  assert_string_equal(cnv_status_name(CNV_ERT_DENY_ARGUMENTS), "CNV_ERT_DENY_ARGUMENTS");
}

/* A schema'd boolean flag parses as a boolean for the handler: `--verbose word` is the flag
 * and then a positional, where the line read without the schema gives verbose the value
 * "word". An open schema lets other flags and positionals through. */
static void test_bool_for_handler(void **state) {
  (void)state;
  rtf f;
  rtf_create(&f, NULL);
  register_spec(&f, "t.open", &typed_open, typed_handler);
  register_spec(&f, "t.plain", NULL, typed_handler);
  uint32_t agent = rtf_agent_start(&f, 0x32);
  char out[128];
  assert_int_equal(invoke_text(&f, agent, "t.open --verbose word --count=2 --other=x", out, sizeof out), CNV_OK);
  assert_string_equal(out, "count=2 verbose=1 positionals=1 first=word schema=1");
  /* without a schema the same words give verbose a value: the handler refuses that */
  assert_int_equal(invoke_text(&f, agent, "t.plain --verbose word --count=2", out, sizeof out), CNV_EINVAL);
  assert_int_equal(invoke_text(&f, agent, "t.plain --count=2", out, sizeof out), CNV_OK);
  assert_string_equal(out, "count=2 verbose=0 positionals=0 first=- schema=0");
  /* the open schema still checks what it declares */
  assert_int_equal(cnv_runtime_submit(f.rt, agent, "t.open --verbose", 16), CNV_ERT_DENY_ARGUMENTS);
  rtf_stop_destroy(&f);
}

/* A schema of bool_flags only declares no typed arguments: submit checks nothing, and the
 * handler still gets it to parse with. */
static void test_bool_flags_only(void **state) {
  (void)state;
  static const cnv_slice flags[] = {{.ptr = "verbose", .len = 7}};
  static const cnv_parse_schema legacy = {.bool_flags = flags, .n_bool_flags = 1};
  rtf f;
  rtf_create(&f, NULL);
  register_spec(&f, "t.legacy", &legacy, typed_handler);
  uint32_t agent = rtf_agent_start(&f, 0x33);
  char out[128];
  assert_int_equal(invoke_text(&f, agent, "t.legacy --verbose word --anything=1", out, sizeof out), CNV_OK);
  assert_string_equal(out, "count=-1 verbose=1 positionals=1 first=word schema=1");
  rtf_stop_destroy(&f);
}

/* register refuses a schema cnv_schema_validate refuses, and registers nothing. */
static void test_register_bad_schema(void **state) {
  (void)state;
  static const cnv_arg_spec bad_type[] = {{.name = "x", .type = 99}};
  static const cnv_arg_spec twice[] = {{.name = "x", .type = CNV_ARGT_STRING}, {.name = "x", .type = CNV_ARGT_INTEGER}};
  static const cnv_arg_spec bad_name[] = {{.name = "no spaces", .type = CNV_ARGT_STRING}};
  static const cnv_arg_spec empty_enum[] = {{.name = "e", .type = CNV_ARGT_ENUM, .n_enum = 0}};
  static const cnv_parse_schema bad[] = {
      {.args = bad_type, .n_args = 1},
      {.args = twice, .n_args = 2},
      {.args = bad_name, .n_args = 1},
      {.args = empty_enum, .n_args = 1},
  };
  rtf f;
  rtf_create(&f, NULL);
  uint64_t gen = cnv_runtime_registry_generation(f.rt);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = rtf_echo, .schema = &bad[i]};
    assert_int_equal(cnv_runtime_register(f.rt, "t.bad", 5, &spec), CNV_ESCHEMA_INVALID);
  }
  static const cnv_parse_schema null_args = {.args = NULL, .n_args = 1};
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = rtf_echo, .schema = &null_args};
  assert_int_equal(cnv_runtime_register(f.rt, "t.bad", 5, &spec), CNV_EINVAL);
  assert_int_equal(cnv_runtime_registry_generation(f.rt), gen);
  cnv_runtime_capability_stats cs;
  assert_int_equal(cnv_runtime_capability_stats_get(f.rt, "t.bad", 5, &cs), CNV_ENOTFOUND);
  /* the good schema registers under the same path */
  spec.schema = &typed_closed;
  assert_int_equal(cnv_runtime_register(f.rt, "t.bad", 5, &spec), CNV_OK);
  cnv_runtime_destroy(f.rt);
}

/* ---- the listing ---- */
#define LIST_MAX 16

typedef struct listing {
  unsigned n, stop_after;
  char path[LIST_MAX][64];
  cnv_runtime_capability_info info[LIST_MAX];
} listing;

static bool list_one(void *ctx, const cnv_runtime_capability_info *info) {
  listing *l = ctx;
  if (l->n < LIST_MAX) {
    l->info[l->n] = *info;
    snprintf(l->path[l->n], sizeof l->path[0], "%s", info->path);
  }
  l->n++;
  return l->stop_after == 0 || l->n < l->stop_after;
}

static void test_listing(void **state) {
  (void)state;
  rtf f;
  rtf_create(&f, NULL);
  assert_int_equal(cnv_runtime_registry_generation(f.rt), 1);
  assert_int_equal(cnv_runtime_registry_generation(NULL), 0);
  listing l = {.n = 0};
  uint64_t gen = 0;
  assert_int_equal(cnv_runtime_capability_each(f.rt, list_one, &l, &gen), CNV_OK);
  assert_int_equal(l.n, 0);
  assert_int_equal(gen, 1);
  /* registered out of order; byte order puts "t.a" before "t.a-b" ('-' < 'b') before "t.ab" */
  static const char *const reg[] = {"t.b", "t.ab", "t.a", "t.a-b", "s.z"};
  for (size_t i = 0; i < 5; i++) {
    cnv_runtime_handler_spec spec = {.effects = i == 0 ? CNV_EFFECT_NETWORK : CNV_EFFECT_READ_ONLY, .cls = (int32_t)(i % CNV_DURATION_COUNT), .fn = rtf_echo, .schema = i == 2 ? &typed_closed : NULL, .title = i == 2 ? "Title A" : NULL, .description = i == 2 ? "What a does" : NULL};
    assert_int_equal(cnv_runtime_register(f.rt, reg[i], strlen(reg[i]), &spec), CNV_OK);
    assert_int_equal(cnv_runtime_registry_generation(f.rt), 2 + i);
  }
  cnv_runtime_handler_spec dup = {.effects = CNV_EFFECT_READ_ONLY, .cls = 0, .fn = rtf_echo};
  assert_int_equal(cnv_runtime_register(f.rt, "t.a", 3, &dup), CNV_EEXIST);
  assert_int_equal(cnv_runtime_registry_generation(f.rt), 6); /* a failed register is no change */
  memset(&l, 0, sizeof l);
  assert_int_equal(cnv_runtime_capability_each(f.rt, list_one, &l, &gen), CNV_OK);
  assert_int_equal(gen, 6);
  assert_int_equal(l.n, 5);
  static const char *const want[] = {"s.z", "t.a", "t.a-b", "t.ab", "t.b"};
  for (unsigned i = 0; i < 5; i++) {
    assert_string_equal(l.path[i], want[i]);
    assert_int_equal(l.info[i].path_len, strlen(want[i]));
    assert_int_equal(l.info[i].capability, rtf_cap(want[i]));
  }
  /* t.a (index 1): as registered, the same pointers */
  assert_ptr_equal(l.info[1].schema, &typed_closed);
  assert_string_equal(l.info[1].title, "Title A");
  assert_string_equal(l.info[1].description, "What a does");
  assert_int_equal(l.info[1].cls, 2);
  assert_null(l.info[4].schema); /* t.b */
  assert_null(l.info[4].title);
  assert_int_equal(l.info[4].effects, CNV_EFFECT_NETWORK);
  assert_int_equal(l.info[4].cls, 0);
  /* early stop: fn returning false ends the listing */
  memset(&l, 0, sizeof l);
  l.stop_after = 2;
  assert_int_equal(cnv_runtime_capability_each(f.rt, list_one, &l, NULL), CNV_OK);
  assert_int_equal(l.n, 2);
  assert_string_equal(l.path[1], "t.a");
  /* unregister moves the generation; a failed one does not */
  assert_int_equal(cnv_runtime_unregister(f.rt, "t.a-b", 5), CNV_OK);
  assert_int_equal(cnv_runtime_registry_generation(f.rt), 7);
  assert_int_equal(cnv_runtime_unregister(f.rt, "t.a-b", 5), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_registry_generation(f.rt), 7);
  memset(&l, 0, sizeof l);
  assert_int_equal(cnv_runtime_capability_each(f.rt, list_one, &l, &gen), CNV_OK);
  assert_int_equal(l.n, 4);
  assert_int_equal(gen, 7);
  assert_string_equal(l.path[2], "t.ab");
  assert_int_equal(cnv_runtime_capability_each(NULL, list_one, &l, NULL), CNV_EINVAL);
  assert_int_equal(cnv_runtime_capability_each(f.rt, NULL, &l, NULL), CNV_EINVAL);
  /* the listing works while running, and after stop */
  (void)rtf_agent_start(&f, 0x34);
  memset(&l, 0, sizeof l);
  assert_int_equal(cnv_runtime_capability_each(f.rt, list_one, &l, NULL), CNV_OK);
  assert_int_equal(l.n, 4);
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  memset(&l, 0, sizeof l);
  assert_int_equal(cnv_runtime_capability_each(f.rt, list_one, &l, &gen), CNV_OK);
  assert_int_equal(l.n, 4);
  assert_int_equal(gen, 7);
  cnv_runtime_destroy(f.rt);
}

/* ---- concurrency: listings and generations while capabilities come and go, and typed
 * submits while their capability is unregistered and registered again ---- */
#define CHURN_ROUNDS 400

typedef struct churn {
  rtf *f;
  uint32_t agent;
  atomic_int done;
  atomic_uint bad; /* a listing out of order, a generation that went back, a wrong status */
} churn;

static bool list_check(void *ctx, const cnv_runtime_capability_info *info) {
  char *prev = ctx;
  if (prev[0] && strcmp(prev, info->path) >= 0) prev[63] = 1; /* out of order */
  snprintf(prev, 63, "%s", info->path);
  return true;
}

static void *lister(void *arg) {
  churn *c = arg;
  uint64_t last = 0;
  while (!atomic_load(&c->done)) {
    char prev[64] = {0};
    uint64_t gen = 0;
    uint64_t before = cnv_runtime_registry_generation(c->f->rt);
    if (cnv_runtime_capability_each(c->f->rt, list_check, prev, &gen) != CNV_OK || prev[63] || gen < before ||
        gen < last) {
      atomic_fetch_add(&c->bad, 1);
    }
    last = gen;
  }
  return NULL;
}

static void *typed_submitter(void *arg) {
  churn *c = arg;
  while (!atomic_load(&c->done)) {
    cnv_status a = cnv_runtime_submit(c->f->rt, c->agent, "t.churn --count=1", 17);
    cnv_status b = cnv_runtime_submit(c->f->rt, c->agent, "t.churn --count=x", 17);
    if ((a != CNV_OK && a != CNV_ERT_DENY_UNKNOWN_CAPABILITY && a != CNV_EFULL) ||
        (b != CNV_ERT_DENY_ARGUMENTS && b != CNV_ERT_DENY_UNKNOWN_CAPABILITY)) {
      atomic_fetch_add(&c->bad, 1);
    }
  }
  return NULL;
}

static void test_churn(void **state) {
  (void)state;
  rtf f;
  rtf_create(&f, NULL);
  register_spec(&f, "t.stay", NULL, rtf_echo);
  churn c = {.f = &f};
  atomic_init(&c.done, 0);
  atomic_init(&c.bad, 0);
  c.agent = rtf_agent_start(&f, 0x35);
  pthread_t th[2];
  assert_int_equal(pthread_create(&th[0], NULL, lister, &c), 0);
  assert_int_equal(pthread_create(&th[1], NULL, typed_submitter, &c), 0);
  uint64_t gen = cnv_runtime_registry_generation(f.rt);
  uint64_t rounds = cnv_test_iters(CHURN_ROUNDS);
  for (uint64_t i = 0; i < rounds; i++) {
    register_spec(&f, "t.churn", &typed_closed, typed_handler);
    assert_int_equal(cnv_runtime_unregister(f.rt, "t.churn", 7), CNV_OK);
  }
  assert_int_equal(cnv_runtime_registry_generation(f.rt), gen + 2 * rounds);
  atomic_store(&c.done, 1);
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
  assert_int_equal(atomic_load(&c.bad), 0);
  rtf_stop_destroy(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_denials),
      cmocka_unit_test(test_reason),
      cmocka_unit_test(test_bool_for_handler),
      cmocka_unit_test(test_bool_flags_only),
      cmocka_unit_test(test_register_bad_schema),
      cmocka_unit_test(test_listing),
      cmocka_unit_test(test_churn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
