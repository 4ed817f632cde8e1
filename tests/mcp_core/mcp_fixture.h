/* Shared by the mcp module's tests: a started runtime whose agent holds a token for `t.*`,
 * the handlers the tests call (typed arguments, each result type, failures, progress, a call
 * that waits for its cancel), and a session whose emitted messages are collected as parsed
 * JSON. Include after <cmocka.h>; link tests/support/forge.c. */
#ifndef CNV_TEST_MCP_FIXTURE_H
#define CNV_TEST_MCP_FIXTURE_H

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <cnv/mcp.h>

#include "runtime/rt_fixture.h"

#define MF_MAX_MSGS 512
/* A failsafe only (never a timing assertion): how long a wait for a message may take
 * before the test gives up. */
#define MF_WAIT_MS 20000

typedef struct mf_sink {
  json_t *msgs[MF_MAX_MSGS];
  uint64_t origins[MF_MAX_MSGS];
  size_t n;
} mf_sink;

/* What the cancel-waiting handler saw. */
static atomic_int mf_wait_started;
static atomic_int mf_wait_saw_cancel;

static inline void mf_emit(void *ctx, uint64_t origin, const char *json, size_t len) {
  mf_sink *k = ctx;
  json_error_t e;
  json_t *m = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
  if (!m) fail_msg("emitted text is not JSON (%s): %.*s", e.text, (int)len, json);
  assert_true(json_is_object(m));
  json_t *v = json_object_get(m, "jsonrpc");
  assert_true(json_is_string(v));
  assert_string_equal(json_string_value(v), "2.0");
  assert_null(memchr(json, '\n', len)); /* one line per message on stdio */
  assert_true(k->n < MF_MAX_MSGS);
  k->origins[k->n] = origin;
  k->msgs[k->n++] = m;
}

/* ---- handlers ---- */

static const char *const mf_modes[] = {"fast", "slow"};
static const cnv_arg_spec mf_echo_args[] = {
    {.name = "text", .description = "Text to echo", .type = CNV_ARGT_STRING},
    {.name = "n", .type = CNV_ARGT_INTEGER, .flags = CNV_ARGF_MIN | CNV_ARGF_MAX, .min = -5, .max = 1000},
    {.name = "x", .type = CNV_ARGT_NUMBER},
    {.name = "flag", .type = CNV_ARGT_BOOLEAN},
    {.name = "mode", .type = CNV_ARGT_ENUM, .n_enum = 2, .enum_values = mf_modes},
    {.name = "tag",
     .description = "Tags",
     .type = CNV_ARGT_STRING,
     .flags = CNV_ARGF_REPEATED | CNV_ARGF_MIN | CNV_ARGF_MAX,
     .min = 1,
     .max = 8},
};
static const cnv_parse_schema mf_echo_schema = {
    .args = mf_echo_args, .n_args = sizeof mf_echo_args / sizeof mf_echo_args[0], .flags = CNV_SCHEMA_CLOSED};

static const cnv_arg_spec mf_req_args[] = {
    {.name = "who", .description = "Who", .type = CNV_ARGT_STRING, .flags = CNV_ARGF_REQUIRED},
};
static const cnv_parse_schema mf_req_schema = {.args = mf_req_args, .n_args = 1, .flags = CNV_SCHEMA_CLOSED};

static inline cnv_status mf_write(cnv_runtime_result *r, const void *bytes, size_t len) {
  return cnv_runtime_result_write(r, bytes, len);
}

/* Writes, for each argument in line order, "name=" and its value: strings as
 * "<len>:<bytes>", typed ones as their reading ("int:42", "num:1.5", "bool:1"); ";" after
 * each. The test compares byte for byte. */
static inline cnv_status mf_echo(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  const cnv_parse_schema *schema = ctx;
  cnv_arg args[64];
  cnv_invocation inv;
  cnv_status st = cnv_invocation_init(&inv, args, 64);
  if (st == CNV_OK) st = cnv_parse_invocation(call->line, call->line_len, NULL, schema, &inv);
  if (st != CNV_OK) return st;
  for (uint32_t i = 0; i < inv.count && st == CNV_OK; i++) {
    const cnv_arg *a = &inv.args[i];
    const cnv_arg_spec *spec = NULL;
    for (size_t k = 0; schema && k < schema->n_args; k++) {
      if (strlen(schema->args[k].name) == a->name.len && memcmp(schema->args[k].name, a->name.ptr, a->name.len) == 0)
        spec = &schema->args[k];
    }
    char head[128];
    int n = snprintf(head, sizeof head, "%.*s=", (int)a->name.len, a->name.ptr);
    st = mf_write(r, head, (size_t)n);
    int type = spec ? spec->type : CNV_ARGT_STRING;
    if (st != CNV_OK) break;
    if (type == CNV_ARGT_INTEGER) {
      int64_t v = 0;
      st = cnv_arg_int(a, &v);
      n = snprintf(head, sizeof head, "int:%" PRId64 ";", v);
    } else if (type == CNV_ARGT_NUMBER) {
      double v = 0;
      st = cnv_arg_number(a, &v);
      n = snprintf(head, sizeof head, "num:%.17g;", v);
    } else if (type == CNV_ARGT_BOOLEAN) {
      bool v = false;
      st = cnv_arg_bool(a, &v);
      n = snprintf(head, sizeof head, "bool:%d;", v ? 1 : 0);
    } else {
      n = snprintf(head, sizeof head, "%zu:", a->value.len);
      st = mf_write(r, head, (size_t)n);
      if (st == CNV_OK) st = mf_write(r, a->value.ptr, a->value.len);
      n = snprintf(head, sizeof head, ";");
    }
    if (st == CNV_OK) st = mf_write(r, head, (size_t)n);
  }
  return st;
}

/* The whole line after the path, as the handler got it. */
static inline cnv_status mf_line(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  size_t skip = call->path_len < call->line_len ? call->path_len + 1 : call->line_len;
  return cnv_runtime_result_write(r, call->line + skip, call->line_len - skip);
}

typedef struct mf_fixed {
  int type;
  cnv_status status;
  const char *bytes;
  size_t len;
} mf_fixed;

static inline cnv_status mf_fixed_fn(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)call;
  const mf_fixed *f = ctx;
  cnv_status st = cnv_runtime_result_set_type(r, f->type);
  if (st == CNV_OK && f->len > 0) st = cnv_runtime_result_write(r, f->bytes, f->len);
  return st != CNV_OK ? st : f->status;
}

static inline cnv_status mf_progress(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  cnv_status st = cnv_runtime_call_progress(call, 1, 3, "one", 3);
  if (st == CNV_OK) st = cnv_runtime_call_progress(call, 2, 3, NULL, 0);
  if (st == CNV_OK) st = cnv_runtime_call_progress(call, 3, 3, "three", 5);
  if (st == CNV_OK) st = cnv_runtime_result_write(r, "done", 4);
  return st;
}

/* Waits (up to the failsafe) for its cancel flag. */
static inline cnv_status mf_wait(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  atomic_fetch_add(&mf_wait_started, 1);
  uint64_t end = cnv_runtime_now_ns() + 20000000000ull;
  while (!cnv_runtime_call_cancelled(call) && cnv_runtime_now_ns() < end) sched_yield();
  if (cnv_runtime_call_cancelled(call)) atomic_fetch_add(&mf_wait_saw_cancel, 1);
  return CNV_OK;
}

/* Runs past its FastPath deadline (1 ms): its completion is always "expired". */
static inline cnv_status mf_slow(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  while (cnv_runtime_now_ns() <= call->deadline_ns + 1000000ull) sched_yield();
  return CNV_OK;
}

static const mf_fixed mf_fail = {CNV_CONTENT_TEXT, CNV_EIO, "disk on fire", 12};
static const mf_fixed mf_json = {CNV_CONTENT_JSON, CNV_OK, "{\"a\":1,\"b\":[true,null]}", 23};
static const mf_fixed mf_json_array = {CNV_CONTENT_JSON, CNV_OK, "[1,2]", 5};
static const mf_fixed mf_json_bad = {CNV_CONTENT_JSON, CNV_OK, "{\"a\":", 5};
static const mf_fixed mf_bin = {CNV_CONTENT_BINARY, CNV_OK, "\x00\x01\xfe\xff", 4};
static const mf_fixed mf_bad_utf8 = {CNV_CONTENT_TEXT, CNV_OK, "ok\xff", 3};

static inline void mf_reg(rtf *f, const char *path, cnv_effects effects, cnv_runtime_handler_fn fn, const void *ctx,
                          const cnv_parse_schema *schema, const char *title, const char *description) {
  cnv_runtime_handler_spec spec = {.effects = effects,
                                   .cls = CNV_DURATION_USER_INITIATED,
                                   .fn = fn,
                                   .ctx = (void *)ctx,
                                   .schema = schema,
                                   .title = title,
                                   .description = description};
  assert_int_equal(cnv_runtime_register(f->rt, path, strlen(path), &spec), CNV_OK);
}

/* ---- the fixture ---- */

typedef struct mf {
  rtf f;
  uint32_t agent;
  cnv_mcp_session *s;
  mf_sink sink;
  size_t seen; /* messages the test has looked at */
} mf;

static inline void mf_register_all(rtf *f) {
  mf_reg(f, "t.echo", CNV_EFFECT_READ_ONLY | CNV_EFFECT_IDEMPOTENT, mf_echo, &mf_echo_schema, &mf_echo_schema, "Echo",
         "Echoes its arguments");
  mf_reg(f, "t.req", CNV_EFFECT_READ_ONLY, mf_echo, &mf_req_schema, &mf_req_schema, NULL, NULL);
  mf_reg(f, "t.line", CNV_EFFECT_DESTRUCTIVE | CNV_EFFECT_NETWORK, mf_line, NULL, NULL, NULL, NULL);
  mf_reg(f, "t.fail", CNV_EFFECT_READ_ONLY, mf_fixed_fn, &mf_fail, NULL, NULL, NULL);
  mf_reg(f, "t.json", CNV_EFFECT_READ_ONLY, mf_fixed_fn, &mf_json, NULL, NULL, NULL);
  mf_reg(f, "t.json_array", CNV_EFFECT_READ_ONLY, mf_fixed_fn, &mf_json_array, NULL, NULL, NULL);
  mf_reg(f, "t.json_bad", CNV_EFFECT_READ_ONLY, mf_fixed_fn, &mf_json_bad, NULL, NULL, NULL);
  mf_reg(f, "t.bin", CNV_EFFECT_READ_ONLY, mf_fixed_fn, &mf_bin, NULL, NULL, NULL);
  mf_reg(f, "t.bad_utf8", CNV_EFFECT_READ_ONLY, mf_fixed_fn, &mf_bad_utf8, NULL, NULL, NULL);
  mf_reg(f, "t.progress", CNV_EFFECT_READ_ONLY, mf_progress, NULL, NULL, NULL, NULL);
  mf_reg(f, "t.wait", CNV_EFFECT_EXTERNAL_CALL, mf_wait, NULL, NULL, NULL, NULL);
  cnv_runtime_handler_spec slow = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_FAST_PATH, .fn = mf_slow};
  assert_int_equal(cnv_runtime_register(f->rt, "t.slow", 6, &slow), CNV_OK);
  mf_reg(f, "u.secret", CNV_EFFECT_READ_ONLY, mf_line, NULL, NULL, NULL, NULL);
}

/* A started runtime (two workers, every handler) whose agent, made from key_byte, holds a
 * token for `t.*`; returns the agent. The waiting handler's flags are cleared. */
static inline uint32_t mf_runtime_up(rtf *f, uint8_t key_byte) {
  atomic_store(&mf_wait_started, 0);
  atomic_store(&mf_wait_saw_cancel, 0);
  cnv_runtime_config rc = rtf_config_workers(2);
  rc.max_result = 4096;
  rc.max_line = 4000;
  rtf_create(f, &rc);
  mf_register_all(f);
  return rtf_agent_start(f, key_byte);
}

static inline void mf_runtime_down(rtf *f) {
  assert_int_equal(cnv_runtime_stop(f->rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_destroy(f->rt);
}

/* The runtime (started, with every handler) and a session with cfg's bounds (NULL: defaults). */
static inline void mf_up(mf *m, const cnv_mcp_config *cfg) {
  memset(m, 0, sizeof *m);
  m->agent = mf_runtime_up(&m->f, 0x61);
  cnv_mcp_config c = {0};
  if (cfg) c = *cfg;
  c.rt = m->f.rt;
  c.agent = m->agent;
  c.emit = mf_emit;
  c.emit_ctx = &m->sink;
  assert_int_equal(cnv_mcp_session_create(&c, &m->s), CNV_OK);
}

static inline void mf_down(mf *m) {
  cnv_mcp_session_destroy(m->s);
  mf_runtime_down(&m->f);
  for (size_t i = 0; i < m->sink.n; i++) json_decref(m->sink.msgs[i]);
}

static inline void mf_send(mf *m, const char *text) {
  assert_int_equal(cnv_mcp_session_receive(m->s, text, strlen(text), 7), CNV_OK);
}

/* Polls the session until it has emitted at least n messages in all (failsafe timeout). */
static inline void mf_wait_msgs(mf *m, size_t n) {
  uint64_t end = cnv_runtime_now_ns() + (uint64_t)MF_WAIT_MS * 1000000ull;
  while (m->sink.n < n) {
    if (cnv_runtime_now_ns() > end) fail_msg("waited for %zu messages, have %zu", n, m->sink.n);
    struct pollfd p = {.fd = cnv_mcp_session_fd(m->s), .events = POLLIN};
    (void)poll(&p, 1, 50);
    assert_int_equal(cnv_mcp_session_poll(m->s, NULL), CNV_OK);
  }
}

/* The next message not yet looked at (waiting for it). */
static json_t *mf_next(mf *m) {
  mf_wait_msgs(m, m->seen + 1);
  return m->sink.msgs[m->seen++];
}

/* Sends text and returns the next message (its response). */
static json_t *mf_rpc(mf *m, const char *text) {
  mf_send(m, text);
  return mf_next(m);
}

static inline void mf_init(mf *m) {
  json_t *r = mf_rpc(m,
                     "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                     "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}");
  assert_non_null(json_object_get(r, "result"));
  mf_send(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
}

/* The error code of a response (0 when it is none). */
static inline int mf_code(const json_t *r) {
  json_t *e = json_object_get(r, "error");
  return e ? (int)json_integer_value(json_object_get(e, "code")) : 0;
}

/* The text of a tools/call result's first content item, and whether it is an error. */
static inline const char *mf_text(const json_t *r, bool *is_error, size_t *len) {
  json_t *res = json_object_get(r, "result");
  assert_non_null(res);
  *is_error = json_is_true(json_object_get(res, "isError"));
  json_t *t = json_object_get(json_array_get(json_object_get(res, "content"), 0), "text");
  assert_true(json_is_string(t));
  if (len) *len = json_string_length(t);
  return json_string_value(t);
}

/* cnv_mcp_serve_stdio on a thread of its own (the stdio tests): the caller sets cfg and io,
 * mf_stdio_start runs it, and result is what it returned once the thread is joined. */
typedef struct mf_stdio {
  cnv_mcp_config cfg;
  cnv_mcp_stdio_config io;
  pthread_t thread;
  cnv_status result;
} mf_stdio;

static inline void *mf_stdio_thread(void *arg) {
  mf_stdio *sv = arg;
  sv->result = cnv_mcp_serve_stdio(&sv->cfg, &sv->io);
  return NULL;
}

static inline void mf_stdio_start(mf_stdio *sv) {
  sv->result = CNV_EUNKNOWN_FLAG; /* overwritten by the thread */
  assert_int_equal(pthread_create(&sv->thread, NULL, mf_stdio_thread, sv), 0);
}

/* The server's output as the stdio tests read it: fd and what was read past the last line. */
typedef struct mf_reader {
  int fd;
  char buf[1 << 16];
  size_t fill;
} mf_reader;

/* The next line from r->fd, parsed and checked to be JSON-RPC 2.0 (failsafe timeout). At the
 * end of the output: NULL when eof_ok (and never in the middle of a line), else a failure. */
static inline json_t *mf_read_line(mf_reader *r, bool eof_ok) {
  for (;;) {
    char *nl = memchr(r->buf, '\n', r->fill);
    if (nl) {
      size_t len = (size_t)(nl - r->buf);
      json_error_t e;
      json_t *m = json_loadb(r->buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
      if (!m) fail_msg("not JSON: %.*s", (int)len, r->buf);
      assert_string_equal(json_string_value(json_object_get(m, "jsonrpc")), "2.0");
      memmove(r->buf, nl + 1, r->fill - len - 1);
      r->fill -= len + 1;
      return m;
    }
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    if (poll(&p, 1, MF_WAIT_MS) != 1) fail_msg("no line from the server");
    ssize_t n = read(r->fd, r->buf + r->fill, sizeof r->buf - r->fill);
    assert_true(n >= 0);
    if (n == 0) {
      if (!eof_ok) fail_msg("the server closed its output");
      assert_int_equal(r->fill, 0); /* never a cut line */
      return NULL;
    }
    r->fill += (size_t)n;
  }
}

#endif
