/* Attacks on the mcp session's promises (docs/mcp.md): every malformed input gets a coded
 * JSON-RPC error, never a crash, truncation or silent success; ids come back once and
 * exactly; nothing a client sends can add an argument or change the capability; hidden
 * tools are denied without telling anything about them; cancelled calls get no response;
 * a flood of calls is answered exactly once each; every emitted message is valid JSON (the
 * fixture's sink fails the test otherwise). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mcp_core/mcp_fixture.h"

/* ---- helpers ---- */

/* Sends a tools/call with id (JSON text), tool name (JSON text) and arguments (JSON text or
 * NULL) and returns its response. */
static json_t *call(mf *m, const char *id, const char *name, const char *args) {
  size_t n = strlen(id) + strlen(name) + (args ? strlen(args) : 0) + 128;
  char *text = malloc(n);
  assert_non_null(text);
  snprintf(text, n, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"tools/call\",\"params\":{\"name\":%s%s%s}}", id, name,
           args ? ",\"arguments\":" : "", args ? args : "");
  json_t *r = mf_rpc(m, text);
  free(text);
  return r;
}

/* The first content text of a tools/call response, asserting it is (or is not) an error. */
static const char *result_text(const json_t *r, bool want_error) {
  bool is_error = false;
  const char *t = mf_text(r, &is_error, NULL);
  if (is_error != want_error) fail_msg("isError %d, wanted %d: %s", is_error, want_error, t);
  return t;
}

static void assert_prefix(const char *text, const char *prefix) {
  if (strncmp(text, prefix, strlen(prefix)) != 0) fail_msg("'%s' does not start with '%s'", text, prefix);
}

/* Nothing more was emitted after a poll (cancellations, notifications). */
static void assert_quiet(mf *m) {
  assert_int_equal(cnv_mcp_session_poll(m->s, NULL), CNV_OK);
  assert_int_equal(m->sink.n, m->seen);
}

/* A hidden capability with a schema: the agent's token allows only t.*. */
static void reg_hidden(mf *m) {
  mf_reg(&m->f, "u.hidden", CNV_EFFECT_READ_ONLY, mf_echo, &mf_req_schema, &mf_req_schema, NULL, NULL);
  /* names of 64 and 65 bytes */
  mf_reg(&m->f, "t.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", CNV_EFFECT_READ_ONLY, mf_line, NULL,
         NULL, NULL, NULL);
  mf_reg(&m->f, "t.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", CNV_EFFECT_READ_ONLY, mf_line, NULL,
         NULL, NULL, NULL);
}

/* ---- ids ---- */

static void test_ids(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_init(&m);
  /* a float id comes back as the same number */
  json_t *r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}");
  assert_true(json_is_real(json_object_get(r, "id")));
  assert_true(json_real_value(json_object_get(r, "id")) == 1.5);
  /* the int64 edges exactly; past them a parse error (never a rounded id) */
  r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":9223372036854775807,\"method\":\"ping\"}");
  assert_int_equal(json_integer_value(json_object_get(r, "id")), INT64_MAX);
  r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":-9223372036854775808,\"method\":\"ping\"}");
  assert_true(json_integer_value(json_object_get(r, "id")) == INT64_MIN);
  r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":9223372036854775808,\"method\":\"ping\"}");
  assert_int_equal(mf_code(r), -32700);
  assert_true(json_is_null(json_object_get(r, "id")));
  r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":1e400,\"method\":\"ping\"}");
  assert_int_equal(mf_code(r), -32700);
  /* ids that are not a string or number: -32600 with id null */
  const char *bad[] = {"null", "true", "false", "{}", "[]", "[1]", "{\"a\":1}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[128];
    snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\"}", bad[i]);
    r = mf_rpc(&m, text);
    assert_int_equal(mf_code(r), -32600);
    assert_true(json_is_null(json_object_get(r, "id")));
  }
  /* a string id with a NUL and non-ASCII comes back byte for byte */
  r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\u0000b\\u00e9\",\"method\":\"ping\"}");
  json_t *id = json_object_get(r, "id");
  assert_int_equal(json_string_length(id), 5);
  assert_memory_equal(json_string_value(id), "a\0b\xc3\xa9", 5);
  /* the same id again after completion is a new request */
  r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}");
  assert_non_null(json_object_get(r, "result"));
  mf_down(&m);
}

/* An id in flight cannot be used again by any request, even spelt as another number of the
 * same value: the client could not tell the two responses apart. */
static void test_id_reuse_in_flight(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_init(&m);
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"t_wait\"}}");
  while (atomic_load(&mf_wait_started) == 0) sched_yield();
  json_t *r = call(&m, "5", "\"t_echo\"", NULL);
  assert_int_equal(mf_code(r), -32600);
  r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}");
  assert_int_equal(mf_code(r), -32600);
  r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\"}");
  assert_int_equal(mf_code(r), -32600);
  r = call(&m, "5.0", "\"t_echo\"", NULL);
  assert_int_equal(mf_code(r), -32600);
  /* a string "5" is another id */
  r = call(&m, "\"5\"", "\"t_echo\"", NULL);
  assert_false(json_is_true(json_object_get(json_object_get(r, "result"), "isError")));
  /* cancelled: no response, ever; then 5 is free again */
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":5}}");
  while (cnv_mcp_session_in_flight(m.s) > 0) {
    struct pollfd p = {.fd = cnv_mcp_session_fd(m.s), .events = POLLIN};
    (void)poll(&p, 1, 50);
    assert_int_equal(cnv_mcp_session_poll(m.s, NULL), CNV_OK);
  }
  assert_quiet(&m);
  r = call(&m, "5", "\"t_echo\"", "{\"text\":\"again\"}");
  assert_string_equal(result_text(r, false), "text=5:again;");
  assert_int_equal(json_integer_value(json_object_get(r, "id")), 5);
  mf_down(&m);
}

/* ---- structure ---- */

static char *nested(unsigned arrays) {
  const char *head = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"a\":";
  size_t n = strlen(head) + 2u * arrays + 8;
  char *t = malloc(n);
  assert_non_null(t);
  size_t o = (size_t)sprintf(t, "%s", head);
  for (unsigned i = 0; i < arrays; i++) t[o++] = '[';
  for (unsigned i = 0; i < arrays; i++) t[o++] = ']';
  t[o++] = '}';
  t[o++] = '}';
  t[o] = '\0';
  return t;
}

static void test_depth_and_shape(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_init(&m);
  /* root, params and 62 arrays: 64 levels, accepted; one more is past the limit */
  char *t = nested(62);
  json_t *r = mf_rpc(&m, t);
  free(t);
  assert_non_null(json_object_get(r, "result"));
  t = nested(63);
  r = mf_rpc(&m, t);
  free(t);
  assert_int_equal(mf_code(r), -32700);
  /* far past any limit (jansson's own included): still one coded error */
  t = nested(100000);
  r = mf_rpc(&m, t);
  free(t);
  assert_int_equal(mf_code(r), -32700);
  const struct {
    const char *text;
    int code;
  } cases[] = {
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}", -32700},
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"t_echo\",\"arguments\":"
       "{\"text\":\"a\",\"text\":\"b\"}}}",
       -32700},
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pi\xc0\xafng\"}", -32700}, /* overlong */
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\xff\"}", -32700},     /* not UTF-8 */
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xed\xa0\x80\"}", -32700}, /* a surrogate */
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\\u0000\"}", -32601},  /* not ping */
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\\ud800\"}", -32700},      /* lone surrogate */
      {"{\"jsonrpc\":\"2.0\\u0000\",\"id\":1,\"method\":\"ping\"}", -32600},  /* not "2.0" */
      {"{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}", -32600},
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", -32600},
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":7}", -32600},
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[]}", -32602},
      {"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", -32600},
      {"[]", -32600},
      {"7", -32600},
      {"\"ping\"", -32600},
      {"", -32700},
      {"{", -32700},
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} {}", -32700},
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":1e999}", -32700},
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":NaN}", -32700},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    r = mf_rpc(&m, cases[i].text);
    if (mf_code(r) != cases[i].code) fail_msg("case %zu: code %d, wanted %d", i, mf_code(r), cases[i].code);
  }
  /* an embedded NUL in the raw bytes (not an escape) */
  const char raw[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\0garbage";
  assert_int_equal(cnv_mcp_session_receive(m.s, raw, sizeof raw - 1, 7), CNV_OK);
  assert_int_equal(mf_code(mf_next(&m)), -32700);
  /* a raw NUL right after a number: jansson 2.14 alone would stop there and load the rest
   * of the text as if the number ended the document */
  const char after_number[] = "{\"jsonrpc\":\"2.0\",\"id\":1\0,\"method\":\"ping\"}";
  assert_int_equal(cnv_mcp_session_receive(m.s, after_number, sizeof after_number - 1, 7), CNV_OK);
  assert_int_equal(mf_code(mf_next(&m)), -32700);
  /* notifications are never answered, however malformed */
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"t_echo\"}}");
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":[1]}");
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}");
  assert_quiet(&m);
  mf_down(&m);
}

/* ---- lifecycle ---- */

static void test_lifecycle(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  /* before initialize: only ping; cancels are silent */
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":1}}");
  assert_quiet(&m);
  assert_int_equal(mf_code(mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}")), -32600);
  assert_int_equal(mf_code(call(&m, "2", "\"t_echo\"", NULL)), -32600);
  assert_non_null(json_object_get(mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}"), "result"));
  /* a failed initialize leaves the session uninitialized */
  json_t *r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"initialize\",\"params\":{\"protocolVersion\":5}}");
  assert_int_equal(mf_code(r), -32602);
  assert_int_equal(mf_code(mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\"}")), -32600);
  /* an unknown revision: answered with the newest */
  r = mf_rpc(&m,
             "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\\u0000"
             "\"}}");
  assert_string_equal(json_string_value(json_object_get(json_object_get(r, "result"), "protocolVersion")),
                      "2025-11-25");
  assert_int_equal(mf_code(mf_rpc(&m,
                                  "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\",\"params\":{"
                                  "\"protocolVersion\":\"2024-11-05\"}}")),
                   -32600);
  mf_down(&m);
}

/* ---- tool names ---- */

static void test_tool_names(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  reg_hidden(&m);
  mf_init(&m);
  const char *unknown[] = {"\"T_echo\"",
                           "\"t_Echo\"",
                           "\"t_ECHO\"",
                           "\"t.echo\"",
                           "\"t_echo \"",
                           "\"t_echo\\u0000\"",
                           "\"t_ech\\u00f6\"",
                           "\"t__Uecho\"",
                           "\"t_Uecho\"",
                           "\"t_echo_\"",
                           "\"_t_echo\"",
                           "\"\"",
                           "\"t_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
                           "7",
                           "null",
                           "[\"t_echo\"]"};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    json_t *r = call(&m, "1", unknown[i], NULL);
    if (mf_code(r) != -32602) fail_msg("name %s: code %d", unknown[i], mf_code(r));
  }
  /* hidden tools: not listed; a call is denied and tells nothing about the tool's
   * arguments (checked before the token would be) */
  json_t *r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
  json_t *tools = json_object_get(json_object_get(r, "result"), "tools");
  size_t i;
  json_t *t;
  json_array_foreach(tools, i, t) {
    const char *name = json_string_value(json_object_get(t, "name"));
    assert_true(name[0] == 't');
  }
  assert_prefix(result_text(call(&m, "3", "\"u_secret\"", NULL), true), "denied: not_allowed");
  /* a name of exactly 64 bytes is a tool; a path whose name would be 65 is neither listed
   * nor callable */
  bool listed64 = false;
  json_array_foreach(tools, i, t) {
    const char *name = json_string_value(json_object_get(t, "name"));
    assert_true(strlen(name) <= CNV_MCP_TOOL_NAME_MAX);
    if (strlen(name) == 64) listed64 = true;
  }
  assert_true(listed64);
  char name64[80];
  snprintf(name64, sizeof name64, "\"t_%s\"", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  assert_string_equal(result_text(call(&m, "7", name64, NULL), false), "");
  snprintf(name64, sizeof name64, "\"t_%s\"", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
  assert_int_equal(mf_code(call(&m, "8", name64, NULL)), -32602);
  assert_prefix(result_text(call(&m, "4", "\"u_hidden\"", "{}"), true), "denied: not_allowed");
  assert_prefix(result_text(call(&m, "5", "\"u_hidden\"", "{\"nope\":1}"), true), "denied: not_allowed");
  assert_prefix(result_text(call(&m, "6", "\"u_hidden\"", "{\"who\":[1]}"), true), "denied: not_allowed");
  mf_down(&m);
}

/* ---- arguments: nothing can add an argument or change the path ---- */

static void test_injection(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_init(&m);
  /* t.line has no schema: it answers the line after its path exactly as it got it */
  const struct {
    const char *args;
    const char *line;
  } cases[] = {
      {"{\"x\":\"a --other 1\"}", "--x:11=a --other 1"},
      {"{\"x\":\"\\n t.fail\"}", "--x:8=\n t.fail"},
      {"{\"x\":\"--\"}", "--x:2=--"},
      {"{\"x\":\"--text:3=abc\"}", "--x:12=--text:3=abc"},
      {"{\"x\":\"\"}", "--x:0="},
      {"{\"x\":\"a\\u0000b\"}", "--x:3=a\0b"},
      {"{\"x\":\"\\\"'`$(x)\\\\\"}", "--x:8=\"'`$(x)\\"},
      {"{\"x\":-0}", "--x=0"},
      {"{\"x\":true,\"y\":false}", "--x=true --y=false"},
      {"{\"x\":1e300}", "--x=1e+300"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *r = call(&m, "1", "\"t_line\"", cases[i].args);
    if (!json_object_get(r, "result")) fail_msg("case %zu: code %d", i, mf_code(r));
    bool is_error = false;
    size_t len = 0;
    const char *text = mf_text(r, &is_error, &len);
    if (is_error) fail_msg("case %zu: %s", i, text);
    size_t want = i == 5 ? 9 : strlen(cases[i].line);
    if (len != want || memcmp(text, cases[i].line, want) != 0) fail_msg("case %zu: got '%.*s'", i, (int)len, text);
  }
  /* keys that are not argument names: an isError result naming none of it as a flag */
  const char *keys[] = {"{\"x --other\":\"1\"}", "{\"x=1\":\"1\"}", "{\"x:3\":\"abc\"}", "{\"\":\"1\"}",
                        "{\"x\\n\":\"1\"}", "{\"-\":\"1\"}", "{\"--\":\"1\"}",
                        "{\"\\u00e9\":\"1\"}", "{\"-x\":\"1\"}"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    json_t *r = call(&m, "1", "\"t_line\"", keys[i]);
    if (!json_object_get(r, "result")) fail_msg("key %s: code %d", keys[i], mf_code(r));
    bool is_error = false;
    size_t len = 0;
    const char *text = mf_text(r, &is_error, &len);
    if (!is_error) fail_msg("key %s accepted: line '%.*s'", keys[i], (int)len, text);
  }
  /* jansson cannot hold a NUL in a key: a parse error rather than a cut name */
  assert_int_equal(mf_code(call(&m, "1", "\"t_line\"", "{\"a\\u0000b\":\"1\"}")), -32700);
  /* a typed tool: a value that looks like another argument stays a value */
  assert_string_equal(result_text(call(&m, "2", "\"t_echo\"", "{\"text\":\"--n=5\"}"), false), "text=5:--n=5;");
  assert_string_equal(result_text(call(&m, "3", "\"t_echo\"", "{\"text\":\"x --n 5\"}"), false), "text=7:x --n 5;");
  mf_down(&m);
}

/* Every JSON type in every argument type: a result each time (never a protocol error), an
 * isError exactly when the type does not fit. */
static void test_type_matrix(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_init(&m);
  const char *values[] = {"null", "true", "false", "0", "3", "3.0", "3.5", "-1e300", "1e18", "\"s\"", "\"fast\"",
                          "[]", "[\"a\"]", "[1]", "[[\"a\"]]", "{}", "{\"a\":1}", "[null]"};
  const struct {
    const char *arg;
    const char *ok; /* the values (by index, one letter each: a..r) that fit */
  } args[] = {{"text", "jk"}, {"n", "def"}, {"x", "defghi"}, {"flag", "bc"}, {"mode", "k"}, {"tag", "jklm"}};
  for (size_t a = 0; a < sizeof args / sizeof args[0]; a++) {
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
      char text[256];
      snprintf(text, sizeof text, "{\"%s\":%s}", args[a].arg, values[v]);
      json_t *r = call(&m, "9", "\"t_echo\"", text);
      bool is_error = false;
      const char *t = mf_text(r, &is_error, NULL);
      bool want_ok = strchr(args[a].ok, (int)('a' + v)) != NULL;
      if (want_ok == is_error) fail_msg("%s=%s: isError %d: %s", args[a].arg, values[v], is_error, t);
    }
  }
  /* values read back exactly */
  assert_string_equal(result_text(call(&m, "1", "\"t_echo\"", "{\"n\":3.0}"), false), "n=int:3;");
  assert_string_equal(result_text(call(&m, "1", "\"t_echo\"", "{\"x\":-1e300}"), false), "x=num:-1.0000000000000001e+300;");
  assert_string_equal(result_text(call(&m, "1", "\"t_echo\"", "{\"x\":9007199254740993}"), false),
                      "x=num:9007199254740992;");
  assert_string_equal(result_text(call(&m, "1", "\"t_echo\"", "{\"tag\":[\"a\",\"b\"]}"), false),
                      "tag=1:a;tag=1:b;");
  /* number edges: signed zero, the smallest subnormal, the largest double */
  assert_string_equal(result_text(call(&m, "1", "\"t_echo\"", "{\"x\":-0.0}"), false), "x=num:-0;");
  assert_string_equal(result_text(call(&m, "1", "\"t_echo\"", "{\"x\":5e-324}"), false),
                      "x=num:4.9406564584124654e-324;");
  assert_string_equal(result_text(call(&m, "1", "\"t_echo\"", "{\"x\":1.7976931348623157e308}"), false),
                      "x=num:1.7976931348623157e+308;");
  assert_string_equal(result_text(call(&m, "1", "\"t_echo\"", "{\"n\":-0.0}"), false), "n=int:0;");
  /* an enum value with a NUL or a case change is not the allowed value */
  assert_prefix(result_text(call(&m, "1", "\"t_echo\"", "{\"mode\":\"fast\\u0000\"}"), true), "argument 'mode'");
  assert_prefix(result_text(call(&m, "1", "\"t_echo\"", "{\"mode\":\"FAST\"}"), true), "argument 'mode'");
  /* a repeated item past its MAX length (8 bytes) names the argument */
  assert_prefix(result_text(call(&m, "1", "\"t_echo\"", "{\"tag\":[\"a\",\"123456789\"]}"), true), "argument 'tag'");
  /* progress tokens that are neither string nor integer: the call runs, no progress */
  size_t before = m.sink.n;
  json_t *r = mf_rpc(&m,
                     "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"t_progress\","
                     "\"_meta\":{\"progressToken\":1.5}}}");
  assert_string_equal(result_text(r, false), "done");
  assert_int_equal(m.sink.n, before + 1);
  mf_down(&m);
}

/* The older boolean form (bool_flags) is read by presence as often as by value: false must
 * not arrive as a present flag. The handler answers "find=<present> value=<cnv_arg_bool>". */
static const cnv_slice k_force[] = {{"force", 5}};
static const cnv_parse_schema k_legacy = {.bool_flags = k_force, .n_bool_flags = 1};

static cnv_status legacy_bool(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  cnv_arg args[8];
  cnv_invocation inv;
  cnv_status st = cnv_invocation_init(&inv, args, 8);
  if (st == CNV_OK) st = cnv_parse_invocation(call->line, call->line_len, NULL, &k_legacy, &inv);
  if (st != CNV_OK) return st;
  uint32_t at = 0;
  bool present = cnv_invocation_find(&inv, "force", 5, &at) == CNV_OK;
  bool value = false;
  if (present && cnv_arg_bool(&inv.args[at], &value) != CNV_OK) return CNV_EINVAL;
  char text[64];
  int n = snprintf(text, sizeof text, "find=%d value=%d", present, value);
  return cnv_runtime_result_write(r, text, (size_t)n);
}

static void test_legacy_bool_flags(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_reg(&m.f, "t.legacy", CNV_EFFECT_READ_ONLY, legacy_bool, NULL, &k_legacy, NULL, NULL);
  mf_init(&m);
  assert_string_equal(result_text(call(&m, "1", "\"t_legacy\"", "{\"force\":true}"), false), "find=1 value=1");
  assert_string_equal(result_text(call(&m, "2", "\"t_legacy\"", "{\"force\":false}"), false), "find=0 value=0");
  assert_string_equal(result_text(call(&m, "3", "\"t_legacy\"", "{}"), false), "find=0 value=0");
  assert_prefix(result_text(call(&m, "4", "\"t_legacy\"", "{\"force\":\"false\"}"), true), "argument 'force'");
  mf_down(&m);
}

/* ---- sizes ---- */

/* {"text":"xxx..."} with a len-byte value. */
static char *text_arg(size_t len) {
  char *a = malloc(len + 16);
  assert_non_null(a);
  memcpy(a, "{\"text\":\"", 9);
  memset(a + 9, 'x', len);
  memcpy(a + 9 + len, "\"}", 3);
  return a;
}

static void test_sizes(void **state) {
  (void)state;
  cnv_mcp_config cfg = {.max_message = 1 << 20};
  mf m;
  mf_up(&m, &cfg);
  mf_init(&m);
  /* the longest value that fits the runtime's max_line (4000) comes through whole; one byte
   * more, and much more, is an isError result, never a cut value */
  size_t fit = 4000 - strlen("t.echo --text:3980=");
  char *a = text_arg(fit);
  const char *t = result_text(call(&m, "1", "\"t_echo\"", a), false);
  assert_int_equal(strlen(t), strlen("text=3980:;") + fit);
  free(a);
  a = text_arg(fit + 1);
  assert_prefix(result_text(call(&m, "2", "\"t_echo\"", a), true), "denied: too_long");
  free(a);
  a = text_arg(500000);
  assert_prefix(result_text(call(&m, "3", "\"t_echo\"", a), true), "arguments: too long");
  free(a);
  /* an enormous array for a repeated argument, and many arguments */
  size_t items = 100000;
  char *arr = malloc(items * 4 + 32);
  assert_non_null(arr);
  size_t o = (size_t)sprintf(arr, "{\"tag\":[");
  for (size_t i = 0; i < items; i++) o += (size_t)sprintf(arr + o, "%s\"a\"", i ? "," : "");
  sprintf(arr + o, "]}");
  assert_prefix(result_text(call(&m, "4", "\"t_echo\"", arr), true), "arguments: too long");
  o = (size_t)sprintf(arr, "{");
  for (size_t i = 0; i < 20000; i++) o += (size_t)sprintf(arr + o, "%s\"k%zu\":1", i ? "," : "", i);
  sprintf(arr + o, "}");
  t = result_text(call(&m, "5", "\"t_line\"", arr), true);
  free(arr);
  /* a message past max_message: -32600, id null */
  char *huge = malloc((1 << 20) + 2);
  assert_non_null(huge);
  memset(huge, ' ', (1 << 20) + 1);
  huge[0] = '{';
  huge[(1 << 20)] = '}';
  assert_int_equal(cnv_mcp_session_receive(m.s, huge, (1 << 20) + 1, 7), CNV_OK);
  json_t *r = mf_next(&m);
  assert_int_equal(mf_code(r), -32600);
  assert_true(json_is_null(json_object_get(r, "id")));
  /* exactly max_message: parsed (here: the -32600 of a message without jsonrpc) */
  assert_int_equal(cnv_mcp_session_receive(m.s, huge + 1, 1 << 20, 7), CNV_OK);
  assert_int_equal(mf_code(mf_next(&m)), -32700);
  free(huge);
  mf_down(&m);
}

/* ---- tools/list cursors ---- */

static void test_cursors(void **state) {
  (void)state;
  cnv_mcp_config cfg = {.page_size = 2};
  mf m;
  mf_up(&m, &cfg);
  mf_init(&m);
  const char *bad[] = {"\"garbage\"", "\"after:\"", "\"after:T.X\"", "\"after:a..b\"", "7", "{}", "[]", "true",
                       "\"after:t.echo\\u0000\"", "\"AFTER:t.echo\"", "\"after: t.echo\""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[256];
    snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"cursor\":%s}}",
             bad[i]);
    json_t *r = mf_rpc(&m, text);
    if (mf_code(r) != -32602) fail_msg("cursor %s: code %d", bad[i], mf_code(r));
  }
  char longc[400];
  int n = snprintf(longc, sizeof longc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"cursor\":\"after:");
  memset(longc + n, 'a', 300);
  strcpy(longc + n + 300, "\"}}");
  assert_int_equal(mf_code(mf_rpc(&m, longc)), -32602);
  /* a forged but well-formed cursor only chooses where the listing starts: still only the
   * allowed tools */
  json_t *r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{\"cursor\":\"after:t.zzz\"}}");
  json_t *tools = json_object_get(json_object_get(r, "result"), "tools");
  assert_int_equal(json_array_size(tools), 0);
  r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\",\"params\":{\"cursor\":\"after:a\"}}");
  tools = json_object_get(json_object_get(r, "result"), "tools");
  assert_int_equal(json_array_size(tools), 2);
  /* paging through everything gives each allowed tool once */
  size_t total = 0;
  char cursor[300] = "";
  for (int page = 0; page < 100; page++) {
    char text[512];
    if (cursor[0]) {
      snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\",\"params\":{\"cursor\":\"%s\"}}",
               cursor);
    } else {
      snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\"}");
    }
    r = mf_rpc(&m, text);
    total += json_array_size(json_object_get(json_object_get(r, "result"), "tools"));
    json_t *next = json_object_get(json_object_get(r, "result"), "nextCursor");
    if (!next) break;
    snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
  }
  assert_int_equal(total, 12); /* the fixture's t.* tools */
  mf_down(&m);
}

/* ---- cancellation ---- */

static void test_cancel(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_init(&m);
  const char *odd[] = {"{\"requestId\":99}", "{\"requestId\":null}", "{\"requestId\":[1]}", "{}",
                       "{\"requestId\":\"99\",\"reason\":7}"};
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
    char text[256];
    snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":%s}", odd[i]);
    mf_send(&m, text);
  }
  assert_quiet(&m);
  /* a completed call's id: nothing */
  assert_string_equal(result_text(call(&m, "1", "\"t_echo\"", "{\"n\":1}"), false), "n=int:1;");
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":1}}");
  assert_quiet(&m);
  /* twice while in flight, then a cancel request (with an id) is an unknown method */
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"t_wait\"}}");
  while (atomic_load(&mf_wait_started) == 0) sched_yield();
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":2}}");
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":2}}");
  while (cnv_mcp_session_in_flight(m.s) > 0) {
    struct pollfd p = {.fd = cnv_mcp_session_fd(m.s), .events = POLLIN};
    (void)poll(&p, 1, 50);
    assert_int_equal(cnv_mcp_session_poll(m.s, NULL), CNV_OK);
  }
  assert_quiet(&m);
  assert_int_equal(atomic_load(&mf_wait_saw_cancel), 1);
  json_t *r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":3}}");
  assert_int_equal(json_integer_value(json_object_get(r, "id")), 3);
  mf_down(&m);
}

/* ---- a flood: every accepted id answered exactly once ---- */

static void test_flood(void **state) {
  (void)state;
  cnv_mcp_config cfg = {.max_in_flight = 4};
  mf m;
  mf_up(&m, &cfg);
  mf_init(&m);
  size_t base = m.sink.n;
  enum { N = 40 };
  /* the first four wait for their cancel: the other 36 find no slot */
  for (int i = 0; i < N; i++) {
    char text[160];
    snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\"}}",
             100 + i, i < 4 ? "t_wait" : "t_echo");
    mf_send(&m, text);
  }
  assert_int_equal(cnv_mcp_session_in_flight(m.s), 4);
  assert_int_equal(m.sink.n - base, N - 4);
  for (size_t k = base; k < m.sink.n; k++) assert_prefix(result_text(m.sink.msgs[k], true), "busy");
  for (int i = 0; i < 4; i++) {
    char text[128];
    snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":%d}}",
             100 + i);
    mf_send(&m, text);
  }
  while (cnv_mcp_session_in_flight(m.s) > 0) {
    struct pollfd p = {.fd = cnv_mcp_session_fd(m.s), .events = POLLIN};
    (void)poll(&p, 1, 50);
    assert_int_equal(cnv_mcp_session_poll(m.s, NULL), CNV_OK);
  }
  /* then a burst of fast calls without polling in between: each id answered once */
  size_t before = m.sink.n;
  for (int i = 0; i < N; i++) {
    char text[160];
    snprintf(text, sizeof text,
             "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"t_echo\",\"arguments\":"
             "{\"n\":%d}}}",
             200 + i, i);
    mf_send(&m, text);
  }
  while (cnv_mcp_session_in_flight(m.s) > 0) {
    struct pollfd p = {.fd = cnv_mcp_session_fd(m.s), .events = POLLIN};
    (void)poll(&p, 1, 50);
    assert_int_equal(cnv_mcp_session_poll(m.s, NULL), CNV_OK);
  }
  assert_int_equal(m.sink.n - before, N);
  int seen[N] = {0};
  for (size_t k = before; k < m.sink.n; k++) {
    json_int_t id = json_integer_value(json_object_get(m.sink.msgs[k], "id"));
    assert_true(id >= 200 && id < 200 + N);
    seen[id - 200]++;
    bool is_error = false;
    const char *t = mf_text(m.sink.msgs[k], &is_error, NULL);
    if (is_error) {
      assert_prefix(t, "busy");
    } else {
      char want[32];
      snprintf(want, sizeof want, "n=int:%d;", (int)(id - 200));
      assert_string_equal(t, want);
    }
  }
  for (int i = 0; i < N; i++) assert_int_equal(seen[i], 1);
  mf_down(&m);
}

/* ---- what handlers send back ---- */

/* 100 arrays deep (past the intake's limit, which is about what clients send): filled in
 * by test_handler_results */
static char k_deep_json[200];
static const mf_fixed k_results[] = {
    {CNV_CONTENT_JSON, CNV_OK, "{\"a\":1,\"a\":2}", 13},
    {CNV_CONTENT_JSON, CNV_OK, "{\"a\":\"\xff\"}", 9},
    {CNV_CONTENT_JSON, CNV_OK, "1e999", 5},
    {CNV_CONTENT_JSON, CNV_OK, "", 0},
    {CNV_CONTENT_JSON, CNV_OK, "null", 4},
    {CNV_CONTENT_JSON, CNV_OK, k_deep_json, sizeof k_deep_json},
    {CNV_CONTENT_JSON, CNV_OK, "{\"a\":1} x", 9},
    {CNV_CONTENT_TEXT, CNV_OK, "\xc0\xaf", 2},
    {CNV_CONTENT_TEXT, CNV_OK, "a\0b", 3},
    {CNV_CONTENT_TEXT, CNV_EIO, "\xff", 1},
    {CNV_CONTENT_BINARY, CNV_OK, "", 0},
    /* valid JSON that jansson cannot hold exactly: the text carries it, nothing is rounded */
    {CNV_CONTENT_JSON, CNV_OK, "{\"big\":18446744073709551615}", 28},
};

static cnv_status big_result(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)call;
  size_t n = *(const size_t *)ctx;
  char buf[512];
  memset(buf, 0xc3, sizeof buf); /* "é" = c3 a9, twice per... written as pairs below */
  for (size_t i = 1; i < sizeof buf; i += 2) buf[i] = (char)0xa9;
  cnv_status st = CNV_OK;
  for (size_t o = 0; o < n && st == CNV_OK; o += sizeof buf) {
    st = cnv_runtime_result_write(r, buf, n - o < sizeof buf ? n - o : sizeof buf);
  }
  return st;
}

static void test_handler_results(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  memset(k_deep_json, '[', 100);
  memset(k_deep_json + 100, ']', 100);
  char path[32];
  for (size_t i = 0; i < sizeof k_results / sizeof k_results[0]; i++) {
    snprintf(path, sizeof path, "t.r%zu", i);
    mf_reg(&m.f, path, CNV_EFFECT_READ_ONLY, mf_fixed_fn, &k_results[i], NULL, NULL, NULL);
  }
  static const size_t full = 4096, over = 5000;
  mf_reg(&m.f, "t.full", CNV_EFFECT_READ_ONLY, big_result, &full, NULL, NULL, NULL);
  mf_reg(&m.f, "t.over", CNV_EFFECT_READ_ONLY, big_result, &over, NULL, NULL, NULL);
  mf_init(&m);
  const bool want_error[] = {true, true, true, true, false, false, true, true, false, true, false, false};
  for (size_t i = 0; i < sizeof k_results / sizeof k_results[0]; i++) {
    char name[40];
    snprintf(name, sizeof name, "\"t_r%zu\"", i);
    json_t *r = call(&m, "1", name, NULL);
    json_t *res = json_object_get(r, "result");
    assert_non_null(res);
    if (json_is_true(json_object_get(res, "isError")) != want_error[i]) fail_msg("result %zu: isError wrong: %s", i, json_dumps(r, 0));
    assert_null(json_object_get(res, "structuredContent"));
  }
  assert_string_equal(result_text(call(&m, "1", "\"t_r11\"", NULL), false), "{\"big\":18446744073709551615}");
  /* a result of exactly max_result bytes comes whole; past it, the handler's write fails
   * and the call says so (never a cut result) */
  bool is_error = false;
  size_t len = 0;
  (void)mf_text(call(&m, "2", "\"t_full\"", NULL), &is_error, &len);
  assert_false(is_error);
  assert_int_equal(len, 4096);
  assert_prefix(result_text(call(&m, "3", "\"t_over\"", NULL), true), "failed");
  mf_down(&m);
}

/* ---- progress flood ---- */

static cnv_status flood_progress(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  for (int i = 1; i <= 20000; i++) {
    char msg[8];
    int n = snprintf(msg, sizeof msg, "%d", i);
    cnv_status st = cnv_runtime_call_progress(call, i, 20000, msg, (size_t)n);
    if (st != CNV_OK) return st;
  }
  /* and some that no client may see: not UTF-8 text, not finite numbers */
  if (cnv_runtime_call_progress(call, 20001, 0, "\xff", 1) != CNV_OK) return CNV_EIO;
  /* refused or dropped, either way not sent as invalid JSON */
  cnv_status refused = cnv_runtime_call_progress(call, INFINITY, NAN, NULL, 0);
  (void)refused;
  return cnv_runtime_result_write(r, "done", 4);
}

static void test_progress_flood(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_reg(&m.f, "t.flood", CNV_EFFECT_READ_ONLY, flood_progress, NULL, NULL, NULL, NULL);
  mf_init(&m);
  size_t base = m.sink.n;
  mf_send(&m,
          "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"tools/call\",\"params\":{\"name\":\"t_flood\",\"_meta\":"
          "{\"progressToken\":\"tok\"}}}");
  /* poll until the response; the sink holds at most MF_MAX_MSGS, which the progress ring's
   * bound (2 per slot, 128 here) keeps us far from only if we poll: count and drop */
  double last = 0;
  size_t notes = 0;
  bool answered = false;
  uint64_t end = cnv_runtime_now_ns() + (uint64_t)MF_WAIT_MS * 1000000ull;
  while (!answered) {
    assert_true(cnv_runtime_now_ns() < end);
    struct pollfd p = {.fd = cnv_mcp_session_fd(m.s), .events = POLLIN};
    (void)poll(&p, 1, 50);
    assert_int_equal(cnv_mcp_session_poll(m.s, NULL), CNV_OK);
    for (size_t k = base; k < m.sink.n; k++) {
      json_t *msg = m.sink.msgs[k];
      assert_false(answered); /* nothing after the response */
      if (json_object_get(msg, "id")) {
        assert_string_equal(result_text(msg, false), "done");
        answered = true;
      } else {
        json_t *params = json_object_get(msg, "params");
        assert_string_equal(json_string_value(json_object_get(params, "progressToken")), "tok");
        double got = json_number_value(json_object_get(params, "progress"));
        assert_true(got > last); /* in order, never repeated */
        last = got;
        notes++;
      }
      json_decref(msg);
    }
    m.sink.n = base;
  }
  assert_true(notes >= 1);
  m.seen = m.sink.n;
  mf_down(&m);
}

/* ---- memory held for calls in flight ---- */

/* jansson's live bytes (its allocator is set in main, before any JSON is made). */
static atomic_size_t json_live;

static void *count_malloc(size_t n) {
  size_t *p = malloc(n + 16);
  if (!p) return NULL;
  p[0] = n;
  atomic_fetch_add(&json_live, n);
  return (char *)p + 16;
}

static void count_free(void *q) {
  if (!q) return;
  size_t *p = (size_t *)(void *)((char *)q - 16);
  atomic_fetch_sub(&json_live, p[0]);
  free(p);
}

/* Drops what the sink holds, so that only the session's own JSON is counted. */
static void sink_drop(mf *m) {
  for (size_t i = 0; i < m->sink.n; i++) json_decref(m->sink.msgs[i]);
  m->sink.n = 0;
  m->seen = 0;
}

/* A call in flight keeps its id and progress token until it completes: long ones would
 * pin max_in_flight x max_message bytes per session. They are refused instead, and the
 * memory a session holds for its calls stays small whatever the client sends. */
static void test_id_memory(void **state) {
  (void)state;
  cnv_mcp_config cfg = {.max_in_flight = 4, .max_message = 1 << 20};
  mf m;
  mf_up(&m, &cfg);
  mf_init(&m);
  size_t big = 900000;
  char *text = malloc(big + 256);
  assert_non_null(text);
  sink_drop(&m);
  size_t before = atomic_load(&json_live);
  for (int i = 0; i < 4; i++) {
    /* a long string id, then a long progress token */
    size_t o = (size_t)sprintf(text, "{\"jsonrpc\":\"2.0\",\"id\":\"%c", 'a' + i);
    memset(text + o, 'x', i < 2 ? big : 1);
    o += i < 2 ? big : 1;
    o += (size_t)sprintf(text + o,
                         "\",\"method\":\"tools/call\",\"params\":{\"name\":\"t_wait\",\"_meta\":{"
                         "\"progressToken\":\"");
    memset(text + o, 'p', i < 2 ? 1 : big);
    o += i < 2 ? 1 : big;
    sprintf(text + o, "\"}}}");
    mf_send(&m, text);
  }
  sink_drop(&m);
  if (atomic_load(&json_live) - before > 65536) {
    fail_msg("the session holds %zu bytes of JSON for 4 calls", atomic_load(&json_live) - before);
  }
  /* an id and a token at the limit are kept, one byte more is refused */
  for (int i = 0; i < 2; i++) {
    size_t o = (size_t)sprintf(text, "{\"jsonrpc\":\"2.0\",\"id\":\"");
    memset(text + o, 'i', CNV_MCP_MAX_ID + (size_t)i);
    o += CNV_MCP_MAX_ID + (size_t)i;
    sprintf(text + o, "\",\"method\":\"ping\"}");
    json_t *r = mf_rpc(&m, text);
    assert_int_equal(mf_code(r), i ? -32600 : 0);
    o = (size_t)sprintf(text,
                        "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":"
                        "\"t_progress\",\"_meta\":{\"progressToken\":\"",
                        i);
    memset(text + o, 'p', CNV_MCP_MAX_ID + (size_t)i);
    o += CNV_MCP_MAX_ID + (size_t)i;
    sprintf(text + o, "\"}}}");
    mf_send(&m, text);
    if (i) {
      assert_int_equal(mf_code(mf_next(&m)), -32602);
    } else {
      /* progress notifications (advisory: as many as the ring kept), then the result */
      for (r = mf_next(&m); !json_object_get(r, "id"); r = mf_next(&m)) {
        json_t *token = json_object_get(json_object_get(r, "params"), "progressToken");
        assert_int_equal(json_string_length(token), CNV_MCP_MAX_ID);
      }
      assert_string_equal(result_text(r, false), "done");
    }
  }
  free(text);
  mf_down(&m);
}

/* Reports a handler made before returning reach the client before its response, as long as
 * the ring has room (here it always has: one report per call). The session drains progress,
 * then completions: a report and the completion pushed between the two must not lose the
 * report. Many short calls, polled without pause, to meet that moment. */
static cnv_status one_report(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  cnv_status st = cnv_runtime_call_progress(call, 1, 1, NULL, 0);
  return st != CNV_OK ? st : cnv_runtime_result_write(r, "ok", 2);
}

static void test_progress_before_response(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_reg(&m.f, "t.one", CNV_EFFECT_READ_ONLY, one_report, NULL, NULL, NULL, NULL);
  mf_init(&m);
  sink_drop(&m);
  size_t lost = 0;
  for (int i = 0; i < 20000; i++) {
    mf_send(&m,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"t_one\",\"_meta\":{"
            "\"progressToken\":1}}}");
    uint64_t end = cnv_runtime_now_ns() + (uint64_t)MF_WAIT_MS * 1000000ull;
    while (cnv_mcp_session_in_flight(m.s) > 0) {
      assert_true(cnv_runtime_now_ns() < end);
      assert_int_equal(cnv_mcp_session_poll(m.s, NULL), CNV_OK);
    }
    assert_int_equal(cnv_mcp_session_poll(m.s, NULL), CNV_OK);
    assert_true(m.sink.n >= 1);
    assert_non_null(json_object_get(m.sink.msgs[m.sink.n - 1], "id"));
    if (m.sink.n != 2) lost++;
    sink_drop(&m);
  }
  if (lost) fail_msg("%zu of 20000 reports lost before their response", lost);
  mf_down(&m);
}

/* ---- closing with calls in flight ---- */

static void test_close_in_flight(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_init(&m);
  for (int i = 0; i < 2; i++) {
    char text[128];
    snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"t_wait\"}}",
             i);
    mf_send(&m, text);
  }
  while (atomic_load(&mf_wait_started) < 2) sched_yield();
  size_t n = m.sink.n;
  assert_int_equal(cnv_mcp_session_close(m.s, UINT32_MAX), CNV_OK);
  assert_int_equal(m.sink.n, n);
  assert_int_equal(atomic_load(&mf_wait_saw_cancel), 2);
  assert_int_equal(cnv_mcp_session_receive(m.s, "{}", 2, 7), CNV_ESTATE);
  assert_int_equal(cnv_mcp_session_poll(m.s, NULL), CNV_OK);
  assert_int_equal(m.sink.n, n);
  mf_down(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ids),
      cmocka_unit_test(test_id_reuse_in_flight),
      cmocka_unit_test(test_depth_and_shape),
      cmocka_unit_test(test_lifecycle),
      cmocka_unit_test(test_tool_names),
      cmocka_unit_test(test_injection),
      cmocka_unit_test(test_type_matrix),
      cmocka_unit_test(test_sizes),
      cmocka_unit_test(test_cursors),
      cmocka_unit_test(test_cancel),
      cmocka_unit_test(test_flood),
      cmocka_unit_test(test_handler_results),
      cmocka_unit_test(test_progress_flood),
      cmocka_unit_test(test_close_in_flight),
      cmocka_unit_test(test_id_memory),
      cmocka_unit_test(test_legacy_bool_flags),
      cmocka_unit_test(test_progress_before_response),
  };
  json_set_alloc_funcs(count_malloc, count_free);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
