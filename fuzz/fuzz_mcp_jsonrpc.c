/* fuzz_mcp_jsonrpc: arbitrary JSON-RPC traffic into one MCP session over a real started
 * runtime; every message the session emits must be one JSON object with "jsonrpc":"2.0" and
 * exactly one of result, error or method (never invalid JSON, never a crash, never a leak).
 *
 * One runtime is made on the first input and kept (handlers: t.echo with typed arguments,
 * t.sleep that spins up to 2 ms unless cancelled and reports progress, t.free without a
 * schema, t.json with a JSON result; one agent allowed t.*; u.x registered but not
 * allowed). Per input: a new session (8 calls in flight, 4 KiB messages, pages of 2); when
 * the input starts with '!' an initialize goes first (and the '!' is dropped), so the
 * fuzzer reaches the tool methods from any input; the input is split at '\n' into messages, each received in turn, the
 * session polled after each; at the end it is closed (calls cancelled and waited for) and
 * destroyed. Failures abort. */
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include <cnv/mcp.h>
#include <cnv/protocol.h>
#include <cnv/runtime.h>

#include "support/forge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SWARM 9u

static struct {
  bool ready;
  cnv_runtime *rt;
  uint32_t agent;
} R;

static void die(const char *what, const char *json, size_t len) {
  fprintf(stderr, "fuzz_mcp_jsonrpc: %s: %.*s\n", what, (int)(len > 2000 ? 2000 : len), json ? json : "");
  abort();
}

static void emit(void *ctx, uint64_t origin, const char *json, size_t len) {
  (void)ctx;
  (void)origin;
  json_error_t e;
  json_t *m = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
  if (!m) die("emitted text is not JSON", json, len);
  if (!json_is_object(m)) die("emitted JSON is not an object", json, len);
  json_t *v = json_object_get(m, "jsonrpc");
  if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) die("no \"jsonrpc\":\"2.0\"", json, len);
  int kinds = (json_object_get(m, "result") != NULL) + (json_object_get(m, "error") != NULL) +
              (json_object_get(m, "method") != NULL);
  if (kinds != 1) die("not exactly one of result, error, method", json, len);
  json_t *err = json_object_get(m, "error");
  if (err && !json_is_integer(json_object_get(err, "code"))) die("error without a code", json, len);
  if (memchr(json, '\n', len)) die("a newline inside a message", json, len);
  json_decref(m);
}

static const char *const modes[] = {"a", "b"};
static const cnv_arg_spec echo_args[] = {
    {.name = "s", .type = CNV_ARGT_STRING, .flags = CNV_ARGF_MAX, .min = 0, .max = 64},
    {.name = "i", .type = CNV_ARGT_INTEGER, .flags = CNV_ARGF_MIN | CNV_ARGF_MAX, .min = -100, .max = 100},
    {.name = "n", .type = CNV_ARGT_NUMBER},
    {.name = "b", .type = CNV_ARGT_BOOLEAN},
    {.name = "e", .type = CNV_ARGT_ENUM, .n_enum = 2, .enum_values = modes},
    {.name = "r", .type = CNV_ARGT_STRING, .flags = CNV_ARGF_REPEATED},
    {.name = "q", .type = CNV_ARGT_STRING, .flags = CNV_ARGF_REQUIRED},
};
static const cnv_parse_schema echo_schema = {
    .args = echo_args, .n_args = sizeof echo_args / sizeof echo_args[0], .flags = CNV_SCHEMA_CLOSED};

static cnv_status h_echo(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  size_t n = call->line_len < 200 ? call->line_len : 200;
  return cnv_runtime_result_write(r, call->line, n);
}

static cnv_status h_sleep(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  uint64_t end = cnv_runtime_now_ns() + 2000000ull;
  double p = 0;
  while (!cnv_runtime_call_cancelled(call) && cnv_runtime_now_ns() < end) {
    p += 1;
    /* CNV_OK, or nothing to report to: the report is advisory */
    cnv_status st = cnv_runtime_call_progress(call, p, 0, "tick", 4);
    (void)st;
    sched_yield();
  }
  return CNV_OK;
}

static cnv_status h_json(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  (void)call;
  cnv_status st = cnv_runtime_result_set_type(r, CNV_CONTENT_JSON);
  return st != CNV_OK ? st : cnv_runtime_result_write(r, "{\"k\":[1,2.5,\"\\u0000\"]}", 22);
}

static void reg(const char *path, cnv_effects effects, cnv_runtime_handler_fn fn, const cnv_parse_schema *schema) {
  cnv_runtime_handler_spec spec = {.effects = effects, .cls = CNV_DURATION_USER_INITIATED, .fn = fn, .schema = schema};
  if (cnv_runtime_register(R.rt, path, strlen(path), &spec) != CNV_OK) die("register", path, strlen(path));
}

static void finish(void) {
  if (!R.ready) return;
  if (cnv_runtime_stop(R.rt, 10000000000ull) != CNV_OK) die("stop", NULL, 0);
  cnv_runtime_destroy(R.rt);
  R.ready = false;
}

static void init(void) {
  if (R.ready) return;
  if (sodium_init() < 0) abort();
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.workers = 2;
  cfg.swarm_id = SWARM;
  cfg.max_result = 512;
  cfg.max_line = 4000;
  if (cnv_runtime_create(&cfg, &R.rt) != CNV_OK) die("create", NULL, 0);
  tkey root;
  tkey_make(&root, 0x31);
  if (cnv_runtime_trust_add(R.rt, root.pk) != CNV_OK) die("trust", NULL, 0);
  reg("t.echo", CNV_EFFECT_READ_ONLY, h_echo, &echo_schema);
  reg("t.sleep", CNV_EFFECT_READ_ONLY | CNV_EFFECT_NETWORK, h_sleep, NULL);
  reg("t.free", CNV_EFFECT_DESTRUCTIVE, h_echo, NULL);
  reg("t.json", CNV_EFFECT_IDEMPOTENT, h_json, NULL);
  reg("u.x", CNV_EFFECT_READ_ONLY, h_echo, NULL);
  if (agent_add_allowing(R.rt, root.sk, 0x32, SWARM, "t.*", CNV_EFFECTS_ALL, &R.agent) != CNV_OK) die("agent", NULL, 0);
  if (cnv_runtime_start(R.rt) != CNV_OK) die("start", NULL, 0);
  R.ready = true;
  atexit(finish);
}

static const char k_init[] =
    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init();
  cnv_mcp_config cfg = {.rt = R.rt,
                        .agent = R.agent,
                        .page_size = 2,
                        .max_in_flight = 8,
                        .max_message = 4096,
                        .emit = emit,
                        .emit_ctx = NULL};
  cnv_mcp_session *s = NULL;
  if (cnv_mcp_session_create(&cfg, &s) != CNV_OK) die("session_create", NULL, 0);
  if (size > 0 && data[0] == '!') {
    if (cnv_mcp_session_receive(s, k_init, sizeof k_init - 1, 0) != CNV_OK) die("receive init", NULL, 0);
    data++;
    size--;
  }
  const char *p = (const char *)data;
  const char *end = p + size;
  uint64_t origin = 1;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (cnv_mcp_session_receive(s, p, len, origin++) != CNV_OK) die("receive", p, len);
    if (cnv_mcp_session_poll(s, NULL) != CNV_OK) die("poll", NULL, 0);
    p += len + (nl ? 1 : 0);
  }
  if (cnv_mcp_session_poll(s, NULL) != CNV_OK) die("poll", NULL, 0);
  if (cnv_mcp_session_close(s, 10000) != CNV_OK) die("close: calls still running", NULL, 0);
  if (cnv_mcp_session_in_flight(s) != 0) die("in flight after close", NULL, 0);
  cnv_mcp_session_destroy(s);
  return 0;
}
