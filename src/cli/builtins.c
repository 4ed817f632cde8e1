/* The built-in demo capabilities, the trust roots and the plugin loader of `cnv serve` and
 * `cnv mcp serve` (builtins.h). Each demo declares its arguments (cnv_parse_schema): the
 * runtime refuses a line that does not fit before it is queued, and the handler parses the
 * line with that schema (call->schema) and reads the values through cnv_invocation_find and
 * the typed readers. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cnv/protocol.h"
#include "cnv/runtime.h"
#include "cnv/server.h"
#include "cnv/status.h"

#include "builtins.h"
#include "token.h"

#define MS 1000000ull
/* Arguments one demo line may hold (a longer list fails the call with the parser's error). */
#define DEMO_MAX_ARGS 256u
/* demo.sleep's progress period. */
#define SLEEP_REPORT_MS 50u

/* One demo: the schema the runtime checks and the handler reads with. */
typedef struct demo {
  const char *path;
  int32_t cls;
  cnv_effects effects;
  cnv_runtime_handler_fn fn;
  cnv_parse_schema schema;
  const char *title;
  const char *description;
} demo;

/* A demo line parsed with its schema (submit checked it fits). */
typedef struct demo_args {
  cnv_invocation inv;
  cnv_arg args[DEMO_MAX_ARGS];
} demo_args;

static cnv_status demo_parse(const cnv_runtime_call *call, demo_args *a) {
  cnv_status st = cnv_invocation_init(&a->inv, a->args, DEMO_MAX_ARGS);
  return st == CNV_OK ? cnv_parse_invocation(call->line, call->line_len, NULL, call->schema, &a->inv) : st;
}

/* The first occurrence of --name at or after *from (moved past it), or NULL. */
static const cnv_arg *demo_next(const demo_args *a, const char *name, uint32_t *from) {
  uint32_t i = *from;
  if (cnv_invocation_find(&a->inv, name, strlen(name), &i) != CNV_OK) return NULL;
  *from = i + 1;
  return &a->args[i];
}

static const cnv_arg *demo_find(const demo_args *a, const char *name) {
  uint32_t from = 0;
  return demo_next(a, name, &from);
}

/* A failure with its reason as the result text (the status says what kind). */
static cnv_status demo_fail_with(cnv_runtime_result *r, cnv_status st, const char *why) {
  cnv_status w = cnv_runtime_result_write(r, why, strlen(why));
  return w != CNV_OK ? w : st;
}

/* ---- demo.echo ---- */

static cnv_status demo_echo(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  demo_args a;
  cnv_status st = demo_parse(call, &a);
  if (st != CNV_OK) return st;
  const cnv_arg *text = demo_find(&a, "text");
  if (!text) return CNV_EINVAL;
  return cnv_runtime_result_write(r, text->value.ptr, text->value.len);
}

/* ---- demo.sleep ---- */

/* Sleeps until `end` (monotonic ns) in slices of at most 5 ms, reporting the elapsed
 * milliseconds of total_ms every SLEEP_REPORT_MS; false when cancelled first. */
static bool sleep_until(const cnv_runtime_call *call, uint64_t start, uint64_t end, uint64_t total_ms) {
  uint64_t next_report = SLEEP_REPORT_MS;
  bool reporting = true;
  for (;;) {
    if (cnv_runtime_call_cancelled(call)) return false;
    uint64_t now = cnv_runtime_now_ns();
    uint64_t elapsed_ms = (now - start) / MS;
    if (reporting && elapsed_ms >= next_report && elapsed_ms < total_ms) {
      /* a refused report (none asked for is CNV_OK) ends the reports, not the sleep */
      reporting = cnv_runtime_call_progress(call, (double)elapsed_ms, (double)total_ms, NULL, 0) == CNV_OK;
      next_report = elapsed_ms + SLEEP_REPORT_MS;
    }
    if (now >= end) return true;
    uint64_t step = end - now < 5 * MS ? end - now : 5 * MS;
    struct timespec ts = {0, (long)step};
    nanosleep(&ts, NULL);
  }
}

static cnv_status demo_sleep(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  demo_args a;
  cnv_status st = demo_parse(call, &a);
  if (st != CNV_OK) return st;
  const cnv_arg *arg = demo_find(&a, "ms");
  int64_t ms = 0;
  if (!arg) return CNV_EINVAL;
  if ((st = cnv_arg_int(arg, &ms)) != CNV_OK) return st;
  if (ms < 0 || ms > 30000) return CNV_ERANGE;
  uint64_t start = cnv_runtime_now_ns();
  if (!sleep_until(call, start, start + (uint64_t)ms * MS, (uint64_t)ms)) return CNV_ERT_CANCELLED;
  /* the last report: all of it (refused only when a report at ms was already made) */
  if (ms > 0) {
    st = cnv_runtime_call_progress(call, (double)ms, (double)ms, NULL, 0);
    if (st != CNV_OK && st != CNV_ERANGE) return st;
  }
  return CNV_OK;
}

/* ---- demo.fail ---- */

static cnv_status demo_fail(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  demo_args a;
  cnv_status st = demo_parse(call, &a);
  if (st != CNV_OK) return st;
  return demo_fail_with(r, CNV_EIO, "demo.fail always fails");
}

/* ---- demo.types ---- */

/* obj[name] = value, taking the reference; false when value is NULL or the set fails. */
static bool json_put(json_t *obj, const char *name, json_t *value) { return value && json_object_set_new(obj, name, value) == 0; }

/* A string argument as a JSON string (NULL: not UTF-8, or no memory). */
static json_t *json_arg_string(const cnv_arg *arg) { return json_stringn(arg->value.ptr, arg->value.len); }

/* Fills obj with the arguments of a (checked against demo.types' schema). */
static cnv_status types_fill(const demo_args *a, json_t *obj) {
  static const char *const strings[] = {"s", "e"};
  for (size_t k = 0; k < sizeof strings / sizeof strings[0]; k++) {
    const cnv_arg *arg = demo_find(a, strings[k]);
    if (arg && !json_put(obj, strings[k], json_arg_string(arg))) return CNV_EINVAL;
  }
  const cnv_arg *arg = demo_find(a, "i");
  cnv_status st;
  if (arg) {
    int64_t i = 0;
    if ((st = cnv_arg_int(arg, &i)) != CNV_OK) return st;
    if (!json_put(obj, "i", json_integer((json_int_t)i))) return CNV_ENOMEM;
  }
  if ((arg = demo_find(a, "n"))) {
    double n = 0;
    if ((st = cnv_arg_number(arg, &n)) != CNV_OK) return st;
    if (!json_put(obj, "n", json_real(n))) return CNV_ENOMEM;
  }
  if ((arg = demo_find(a, "b"))) {
    bool b = false;
    if ((st = cnv_arg_bool(arg, &b)) != CNV_OK) return st;
    if (!json_put(obj, "b", json_boolean(b))) return CNV_ENOMEM;
  }
  uint32_t from = 0;
  json_t *tags = NULL;
  while ((arg = demo_next(a, "tags", &from))) {
    if (!tags && !json_put(obj, "tags", tags = json_array())) return CNV_ENOMEM;
    if (json_array_append_new(tags, json_arg_string(arg)) != 0) return CNV_EINVAL;
  }
  return CNV_OK;
}

static cnv_status demo_types(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  demo_args a;
  cnv_status st = demo_parse(call, &a);
  if (st != CNV_OK) return st;
  json_t *obj = json_object();
  if (!obj) return CNV_ENOMEM;
  st = types_fill(&a, obj);
  char *text = st == CNV_OK ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  if (st == CNV_EINVAL) return demo_fail_with(r, st, "demo.types: a string argument is not UTF-8");
  if (st != CNV_OK) return st;
  if (!text) return CNV_ENOMEM;
  st = cnv_runtime_result_set_type(r, CNV_CONTENT_JSON);
  if (st == CNV_OK) st = cnv_runtime_result_write(r, text, strlen(text)); /* NULs are \u0000 */
  free(text);
  return st;
}

/* ---- demo.count ---- */

/* The keys demo.count has seen in this process and how often each ran: a fixed table (the
 * demo allocates nothing), one lock (handlers run on several workers at once). */
#define COUNT_KEYS 1024u
#define COUNT_KEY_MAX 64u
static struct {
  pthread_mutex_t lock;
  uint32_t used;
  struct {
    char key[COUNT_KEY_MAX];
    size_t len;
    uint64_t count;
  } keys[COUNT_KEYS];
} counts = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* One more run of key (len bytes, 1..COUNT_KEY_MAX): its new count, or 0 when the table is
 * full of other keys. */
static uint64_t count_bump(const char *key, size_t len) {
  pthread_mutex_lock(&counts.lock);
  uint64_t n = 0;
  uint32_t i = 0;
  while (i < counts.used && (counts.keys[i].len != len || memcmp(counts.keys[i].key, key, len) != 0)) i++;
  if (i == counts.used && counts.used < COUNT_KEYS) {
    memcpy(counts.keys[i].key, key, len);
    counts.keys[i].len = len;
    counts.keys[i].count = 0;
    counts.used++;
  }
  if (i < counts.used) n = ++counts.keys[i].count;
  pthread_mutex_unlock(&counts.lock);
  return n;
}

static cnv_status demo_count(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  demo_args a;
  cnv_status st = demo_parse(call, &a);
  if (st != CNV_OK) return st;
  const cnv_arg *key = demo_find(&a, "key");
  if (!key) return CNV_EINVAL;
  uint64_t n = count_bump(key->value.ptr, key->value.len);
  if (n == 0) return demo_fail_with(r, CNV_EFULL, "demo.count: no room for another key");
  char text[24];
  int len = snprintf(text, sizeof text, "%llu", (unsigned long long)n);
  return cnv_runtime_result_write(r, text, (size_t)len);
}

/* ---- the table ---- */

static const cnv_arg_spec echo_args[] = {
    {.name = "text", .description = "the text to answer", .type = CNV_ARGT_STRING, .flags = CNV_ARGF_REQUIRED},
};
static const cnv_arg_spec sleep_args[] = {
    {.name = "ms",
     .description = "how long to sleep, in milliseconds",
     .type = CNV_ARGT_INTEGER,
     .flags = CNV_ARGF_REQUIRED | CNV_ARGF_MIN | CNV_ARGF_MAX,
     .min = 0,
     .max = 30000},
};
static const cnv_arg_spec count_args[] = {
    {.name = "key",
     .description = "the counter's name (1..64 bytes)",
     .type = CNV_ARGT_STRING,
     .flags = CNV_ARGF_REQUIRED | CNV_ARGF_MIN | CNV_ARGF_MAX,
     .min = 1,
     .max = COUNT_KEY_MAX},
};
static const char *const colours[] = {"red", "green", "blue"};
static const cnv_arg_spec types_args[] = {
    {.name = "s", .description = "a string", .type = CNV_ARGT_STRING, .flags = CNV_ARGF_REQUIRED},
    {.name = "i", .description = "an integer", .type = CNV_ARGT_INTEGER},
    {.name = "n", .description = "a number", .type = CNV_ARGT_NUMBER},
    {.name = "b", .description = "a boolean", .type = CNV_ARGT_BOOLEAN},
    {.name = "e", .description = "a colour", .type = CNV_ARGT_ENUM, .n_enum = 3, .enum_values = colours},
    {.name = "tags", .description = "strings, in order", .type = CNV_ARGT_STRING, .flags = CNV_ARGF_REPEATED},
};

#define SCHEMA(a_, fl_) \
  { .args = a_, .n_args = sizeof a_ / sizeof a_[0], .flags = fl_ }

static const demo demos[] = {
    {"demo.echo", CNV_DURATION_INTERACTIVE, CNV_EFFECT_READ_ONLY, demo_echo,
     SCHEMA(echo_args, 0), "Echo", "Answers its text argument as it is."},
    {"demo.sleep", CNV_DURATION_USER_INITIATED, CNV_EFFECT_READ_ONLY, demo_sleep, SCHEMA(sleep_args, 0), "Sleep",
     "Sleeps ms milliseconds (0..30000), reporting progress about every 50 ms; stops early when cancelled."},
    {"demo.fail", CNV_DURATION_INTERACTIVE, CNV_EFFECT_READ_ONLY, demo_fail, {.flags = CNV_SCHEMA_CLOSED}, "Fail", "Always fails (CNV_EIO)."},
    {"demo.types", CNV_DURATION_INTERACTIVE, CNV_EFFECT_READ_ONLY, demo_types,
     SCHEMA(types_args, CNV_SCHEMA_CLOSED), "Argument types",
     "Answers a JSON object of exactly the arguments it got, each with its type (tags as an array, in order)."},
    {"demo.count", CNV_DURATION_INTERACTIVE, CNV_EFFECT_MUTATE_STATE, demo_count,
     SCHEMA(count_args, CNV_SCHEMA_CLOSED), "Count",
     "Counts its runs per key in this process and answers the new count (not idempotent: "
     "each run changes the state)."},
};

bool cli_builtins_register(cnv_runtime *rt) {
  for (size_t i = 0; i < sizeof demos / sizeof demos[0]; i++) {
    const demo *d = &demos[i];
    cnv_runtime_handler_spec spec = {.effects = d->effects,
                                     .cls = d->cls,
                                     .fn = d->fn,
                                     .ctx = (void *)d,
                                     .schema = &d->schema,
                                     .title = d->title,
                                     .description = d->description};
    cnv_status st = cnv_runtime_register(rt, d->path, strlen(d->path), &spec);
    if (st != CNV_OK) {
      cli_error(d->path, st);
      return false;
    }
  }
  return true;
}

/* ---- trust ---- */

static bool add_trust(void *ctx, const char *val, size_t n) {
  uint8_t pk[CNV_DELEG_KEY_BYTES];
  if (!tok_read_trust(val, n, pk)) return false;
  cnv_status st = cnv_runtime_trust_add(ctx, pk);
  if (st != CNV_OK) cli_error("trust", st);
  return st == CNV_OK;
}

static bool revoke_one(void *ctx, const uint8_t *hash) {
  cnv_status st = cnv_runtime_revoke(ctx, hash);
  if (st != CNV_OK) cli_error("revoked", st);
  return st == CNV_OK;
}

static bool load_revoked(void *ctx, const char *val, size_t n) { return tok_load_revoked(val, n, revoke_one, ctx); }

bool cli_trust_load(cli_cmd *cmd, cnv_runtime *rt) {
  return cli_flag_each(cmd, "trust", add_trust, rt) && cli_flag_each(cmd, "revoked", load_revoked, rt);
}

/* ---- plugins ---- */

/* Loads one plugin (never unloaded) and calls its entry symbol. */
static bool load_plugin(void *ctx, const char *val, size_t n) {
  cnv_runtime *rt = ctx;
  char path[TOK_PATH_CAP];
  memcpy(path, val, n); /* n < TOK_PATH_CAP: checked with the other flags (tok_path_fits) */
  path[n] = '\0';
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    cli_fail("--plugin: %s", dlerror());
    return false;
  }
  cnv_plugin_register_fn fn;
  void *sym = dlsym(lib, CNV_PLUGIN_ENTRY);
  memcpy(&fn, &sym, sizeof fn); /* POSIX: a data pointer from dlsym names the function */
  if (!sym) {
    cli_fail("--plugin: %s: no symbol %s", path, CNV_PLUGIN_ENTRY);
    return false;
  }
  cnv_status st = fn(rt);
  if (st != CNV_OK) {
    cli_fail("--plugin: %s: %s failed: %s", path, CNV_PLUGIN_ENTRY, cnv_strerror(st));
    return false;
  }
  return true;
}

bool cli_plugins_load(cli_cmd *cmd, cnv_runtime *rt) { return cli_flag_each(cmd, "plugin", load_plugin, rt); }
