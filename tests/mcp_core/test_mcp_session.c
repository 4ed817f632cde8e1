/* The MCP session against a real runtime: initialize negotiation, each JSON-RPC error code,
 * tools/list (pagination, the token's filter, generated schemas and annotations), tools/call
 * with every argument type (strings arriving byte-exact, whatever they hold), the isError
 * paths, progress, cancellation and list_changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mcp_fixture.h"

static json_t *result_of(json_t *r) {
  json_t *res = json_object_get(r, "result");
  if (!res) fail_msg("no result: %s", json_dumps(r, JSON_COMPACT));
  return res;
}

/* got must equal the JSON text want (read with flags); a failure shows what came. */
static void assert_json(const json_t *got, const char *want, size_t flags) {
  json_t *w = json_loads(want, flags, NULL);
  assert_non_null(w);
  if (!json_equal(got, w)) fail_msg("got %s, wanted %s", json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY), want);
  json_decref(w);
}

static void expect_error(mf *m, const char *text, int code, const char *id_json) {
  json_t *r = mf_rpc(m, text);
  if (mf_code(r) != code) fail_msg("sent %s, got %s, wanted code %d", text, json_dumps(r, JSON_COMPACT), code);
  assert_json(json_object_get(r, "id"), id_json, JSON_DECODE_ANY);
  assert_true(json_is_string(json_object_get(json_object_get(r, "error"), "message")));
}

static void test_initialize_versions(void **state) {
  (void)state;
  static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"};
  for (size_t i = 0; i < sizeof versions / sizeof versions[0] + 2; i++) {
    mf m;
    mf_up(&m, NULL);
    const char *asked = i < 5 ? versions[i] : i == 5 ? "1999-01-01"
                                                     : "2025-11-25\\u0000x";
    char msg[256];
    snprintf(msg, sizeof msg,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"%s\","
             "\"capabilities\":{},\"clientInfo\":{\"name\":\"c\",\"version\":\"0\"}}}",
             asked);
    json_t *res = result_of(mf_rpc(&m, msg));
    const char *got = json_string_value(json_object_get(res, "protocolVersion"));
    assert_non_null(got);
    assert_string_equal(got, i < 5 ? versions[i] : "2025-11-25");
    assert_true(json_is_true(json_object_get(json_object_get(json_object_get(res, "capabilities"), "tools"),
                                             "listChanged")));
    json_t *info = json_object_get(res, "serverInfo");
    assert_string_equal(json_string_value(json_object_get(info, "name")), "libcnv");
    assert_true(json_is_string(json_object_get(info, "version")));
    /* a second initialize is refused */
    expect_error(&m, msg, -32600, "1");
    mf_down(&m);
  }
  /* the configured name, version and instructions */
  mf m;
  cnv_mcp_config c = {.server_name = "swarm", .server_version = "9.9", .instructions = "Use the tools."};
  mf_up(&m, &c);
  json_t *res = result_of(mf_rpc(&m,
                                 "{\"jsonrpc\":\"2.0\",\"id\":\"i\",\"method\":\"initialize\",\"params\":{"
                                 "\"protocolVersion\":\"2025-06-18\"}}"));
  assert_string_equal(json_string_value(json_object_get(json_object_get(res, "serverInfo"), "name")), "swarm");
  assert_string_equal(json_string_value(json_object_get(json_object_get(res, "serverInfo"), "version")), "9.9");
  assert_string_equal(json_string_value(json_object_get(res, "instructions")), "Use the tools.");
  mf_down(&m);
}

/* An older revision gets no field it does not know: no annotations before 2025-03-26, no
 * title or structuredContent before 2025-06-18. */
static void test_revision_fields(void **state) {
  (void)state;
  static const char *const revs[] = {"2024-11-05", "2025-03-26", "2025-06-18"};
  for (int i = 0; i < 3; i++) {
    mf m;
    mf_up(&m, NULL);
    char msg[256];
    snprintf(msg, sizeof msg,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"%s\"}}",
             revs[i]);
    json_t *res = json_object_get(mf_rpc(&m, msg), "result");
    assert_string_equal(json_string_value(json_object_get(res, "protocolVersion")), revs[i]);
    json_t *tools = json_object_get(
        json_object_get(mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}"), "result"), "tools");
    json_t *echo = NULL;
    size_t k;
    json_t *t;
    json_array_foreach(tools, k, t) {
      if (strcmp(json_string_value(json_object_get(t, "name")), "t_echo") == 0) echo = t;
    }
    assert_non_null(echo);
    assert_true((json_object_get(echo, "annotations") != NULL) == (i >= 1));
    assert_true((json_object_get(echo, "title") != NULL) == (i >= 2));
    assert_non_null(json_object_get(echo, "description"));
    json_t *call = json_object_get(
        mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"t_json\"}}"),
        "result");
    assert_non_null(call);
    assert_true((json_object_get(call, "structuredContent") != NULL) == (i >= 2));
    mf_down(&m);
  }
}

static void test_error_codes(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  /* before initialize: only ping (and initialize) */
  assert_non_null(result_of(mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}")));
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", -32600, "2");
  mf_init(&m);
  expect_error(&m, "{", -32700, "null");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xff\"}", -32700, "null");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}", -32700, "null");
  expect_error(&m, "", -32700, "null");
  /* nesting: 64 levels pass, 65 do not */
  char deep[512];
  size_t o = (size_t)snprintf(deep, sizeof deep, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"params\":{\"a\":");
  for (int i = 0; i < 62; i++) deep[o++] = '[';
  for (int i = 0; i < 62; i++) deep[o++] = ']';
  memcpy(deep + o, "}}", 3);
  assert_non_null(result_of(mf_rpc(&m, deep)));
  o = (size_t)snprintf(deep, sizeof deep, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"params\":{\"a\":");
  for (int i = 0; i < 63; i++) deep[o++] = '[';
  for (int i = 0; i < 63; i++) deep[o++] = ']';
  memcpy(deep + o, "}}", 3);
  expect_error(&m, deep, -32700, "null");
  expect_error(&m, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", -32600, "null");
  expect_error(&m, "5", -32600, "null");
  expect_error(&m, "{\"jsonrpc\":\"1.0\",\"id\":4,\"method\":\"ping\"}", -32600, "4");
  expect_error(&m, "{\"id\":4,\"method\":\"ping\"}", -32600, "4");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":7}", -32600, "5");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", -32600, "null");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}", -32600, "null");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\",\"params\":3}", -32600, "6");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\",\"params\":[1]}", -32602, "6");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"tools/nope\"}", -32601, "\"x\"");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"ping\\u0000\"}", -32601, "\"x\"");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}", -32602,
               "8");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"t_Ecko\"}}",
               -32602, "8");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":5}}", -32602, "8");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{}}", -32602, "8");
  expect_error(&m,
               "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"t_echo\","
               "\"arguments\":[1]}}",
               -32602, "8");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\",\"params\":{\"cursor\":\"zz\"}}", -32602,
               "9");
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\",\"params\":{\"cursor\":7}}", -32602,
               "9");
  /* ids come back exactly */
  static const char *const ids[] = {"\"abc\"", "12345678901234", "-1", "0", "1.5", "\"\"", "\"\\u0000\""};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    char msg[128];
    snprintf(msg, sizeof msg, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\"}", ids[i]);
    json_t *r = mf_rpc(&m, msg);
    assert_json(json_object_get(r, "id"), ids[i], JSON_DECODE_ANY | JSON_ALLOW_NUL);
  }
  /* notifications and responses get nothing back, errors included */
  size_t before = m.sink.n;
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\"}");
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"tools/list\"}");
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":99}}");
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}");
  assert_int_equal(cnv_mcp_session_poll(m.s, NULL), CNV_OK);
  assert_int_equal(m.sink.n, before);
  /* origins tag the replies */
  assert_int_equal(m.sink.origins[m.sink.n - 1], 7);
  mf_down(&m);

  /* a message past max_message */
  cnv_mcp_config c = {.max_message = 64};
  mf_up(&m, &c);
  char big[128];
  memset(big, ' ', sizeof big);
  memcpy(big, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", 40);
  big[100] = '\0';
  expect_error(&m, big, -32600, "null");
  big[60] = '\0';
  assert_non_null(result_of(mf_rpc(&m, big)));
  mf_down(&m);
}

static json_t *tool_named(json_t *tools, const char *name) {
  size_t i;
  json_t *t;
  json_array_foreach(tools, i, t) {
    if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0) return t;
  }
  return NULL;
}

static void test_tools_list(void **state) {
  (void)state;
  mf m;
  cnv_mcp_config c = {.page_size = 3};
  mf_up(&m, &c);
  mf_init(&m);
  /* all pages: every t.* capability in path order, never u.secret (the token's scope) */
  static const char *const want[] = {"t_bad_Uutf8", "t_bin", "t_echo", "t_fail",
                                     "t_json", "t_json_Uarray", "t_json_Ubad", "t_line",
                                     "t_progress", "t_req", "t_slow", "t_wait"};
  size_t got = 0;
  char cursor[300] = "";
  json_t *all = json_array();
  for (int page = 0; page < 10; page++) {
    char msg[512];
    if (cursor[0]) {
      snprintf(msg, sizeof msg,
               "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/list\",\"params\":{\"cursor\":\"%s\"}}", page,
               cursor);
    } else {
      snprintf(msg, sizeof msg, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/list\"}", page);
    }
    json_t *res = result_of(mf_rpc(&m, msg));
    json_t *tools = json_object_get(res, "tools");
    assert_true(json_array_size(tools) <= 3);
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t) {
      assert_true(got < 12);
      assert_string_equal(json_string_value(json_object_get(t, "name")), want[got]);
      got++;
      assert_int_equal(json_array_append(all, t), 0);
    }
    json_t *next = json_object_get(res, "nextCursor");
    if (!next) break;
    assert_true(json_is_string(next));
    snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
    if (page == 1) {
      /* the cursor survives registry changes: a capability added before it is not shown,
       * one after it is */
      mf_reg(&m.f, "t.a", CNV_EFFECT_READ_ONLY, mf_line, NULL, NULL, NULL, NULL);
    }
  }
  assert_int_equal(got, 12);

  /* the echo tool's schema and annotations */
  json_t *echo = tool_named(all, "t_echo");
  assert_non_null(echo);
  assert_string_equal(json_string_value(json_object_get(echo, "title")), "Echo");
  assert_string_equal(json_string_value(json_object_get(echo, "description")), "Echoes its arguments");
  assert_json(json_object_get(echo, "inputSchema"),
              "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
              "\"text\":{\"type\":\"string\",\"description\":\"Text to echo\"},"
              "\"n\":{\"type\":\"integer\",\"minimum\":-5,\"maximum\":1000},"
              "\"x\":{\"type\":\"number\"},\"flag\":{\"type\":\"boolean\"},"
              "\"mode\":{\"type\":\"string\",\"enum\":[\"fast\",\"slow\"]},"
              "\"tag\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":8},"
              "\"description\":\"Tags\"}}}",
              0);
  assert_json(json_object_get(echo, "annotations"),
              "{\"title\":\"Echo\",\"readOnlyHint\":true,\"destructiveHint\":false,"
              "\"idempotentHint\":true,\"openWorldHint\":false}",
              0);
  json_t *req = tool_named(all, "t_req");
  assert_json(json_object_get(req, "inputSchema"),
              "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"who\"],"
              "\"properties\":{\"who\":{\"type\":\"string\",\"description\":\"Who\"}}}",
              0);
  json_t *line = tool_named(all, "t_line");
  assert_json(json_object_get(line, "inputSchema"), "{\"type\":\"object\"}", 0);
  json_t *ann = json_object_get(line, "annotations");
  assert_true(json_is_false(json_object_get(ann, "readOnlyHint")));
  assert_true(json_is_true(json_object_get(ann, "destructiveHint")));
  assert_true(json_is_false(json_object_get(ann, "idempotentHint")));
  assert_true(json_is_true(json_object_get(ann, "openWorldHint")));
  assert_true(json_is_true(json_object_get(json_object_get(tool_named(all, "t_wait"), "annotations"),
                                           "openWorldHint")));
  json_decref(all);

  /* list_changed: once after a change that follows a listing, then not until the next list */
  assert_int_equal(cnv_mcp_session_poll(m.s, NULL), CNV_OK);
  size_t n = m.sink.n;
  assert_int_equal(n, m.seen);
  mf_reg(&m.f, "t.z", CNV_EFFECT_READ_ONLY, mf_line, NULL, NULL, NULL, NULL);
  size_t emitted = 0;
  assert_int_equal(cnv_mcp_session_poll(m.s, &emitted), CNV_OK);
  assert_int_equal(emitted, 1);
  json_t *note = mf_next(&m);
  assert_string_equal(json_string_value(json_object_get(note, "method")), "notifications/tools/list_changed");
  assert_null(json_object_get(note, "id"));
  assert_int_equal(m.sink.origins[m.sink.n - 1], 0);
  assert_int_equal(cnv_runtime_unregister(m.f.rt, "t.z", 3), CNV_OK);
  assert_int_equal(cnv_mcp_session_poll(m.s, &emitted), CNV_OK);
  assert_int_equal(emitted, 0);
  /* a listing re-arms it */
  json_t *res = result_of(mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":50,\"method\":\"tools/list\"}"));
  assert_true(json_is_string(json_object_get(res, "nextCursor")));
  assert_int_equal(cnv_runtime_unregister(m.f.rt, "t.a", 3), CNV_OK);
  assert_int_equal(cnv_mcp_session_poll(m.s, &emitted), CNV_OK);
  assert_int_equal(emitted, 1);
  mf_down(&m);
}

/* Calls t_echo with the arguments (JSON text of an object) and returns its text result. */
static const char *call_text(mf *m, const char *tool, const char *arguments, bool *is_error, size_t *len) {
  static char msg[8192];
  static int id = 100;
  snprintf(msg, sizeof msg,
           "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":%s}}",
           ++id, tool, arguments);
  json_t *r = mf_rpc(m, msg);
  if (!json_object_get(r, "result")) fail_msg("no result for %s: %s", msg, json_dumps(r, JSON_COMPACT));
  return mf_text(r, is_error, len);
}

static void expect_text(mf *m, const char *tool, const char *arguments, const char *want, size_t want_len) {
  bool err = true;
  size_t len = 0;
  const char *got = call_text(m, tool, arguments, &err, &len);
  if (err || len != want_len || memcmp(got, want, len) != 0) {
    fail_msg("%s %s: got%s '%.*s' (%zu bytes), want '%.*s'", tool, arguments, err ? " an error" : "", (int)len, got,
             len, (int)want_len, want);
  }
}

static void expect_tool_error(mf *m, const char *tool, const char *arguments, const char *needle) {
  bool err = false;
  size_t len = 0;
  const char *got = call_text(m, tool, arguments, &err, &len);
  if (!err || !strstr(got, needle)) fail_msg("%s %s: got '%s', want an error with '%s'", tool, arguments, got, needle);
}

static void test_tools_call_arguments(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_init(&m);
  expect_text(&m, "t_echo", "{}", "", 0);
  expect_text(&m, "t_echo", "{\"text\":\"hello\"}", "text=5:hello;", 13);
  /* quotes, newlines, NUL, an injected flag and non-ASCII arrive exactly */
  expect_text(&m, "t_echo", "{\"text\":\"a \\\"b\\\" 'c'\\n--text x\\u0000\\r\\n\"}",
              "text=21:a \"b\" 'c'\n--text x\0\r\n;", 30);
  expect_text(&m, "t_echo", "{\"text\":\"--n=5 --flag\"}", "text=12:--n=5 --flag;", 21);
  expect_text(&m, "t_echo", "{\"text\":\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x90\x9d\"}",
              "text=15:h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x90\x9d;", 24);
  expect_text(&m, "t_echo", "{\"text\":\"\"}", "text=0:;", 8);
  expect_text(&m, "t_echo", "{\"n\":42,\"x\":1.5,\"flag\":true,\"mode\":\"slow\"}",
              "n=int:42;x=num:1.5;flag=bool:1;mode=4:slow;", 43);
  expect_text(&m, "t_echo", "{\"n\":-5,\"x\":3,\"flag\":false}", "n=int:-5;x=num:3;flag=bool:0;", 29);
  expect_text(&m, "t_echo", "{\"n\":7.0}", "n=int:7;", 8);
  expect_text(&m, "t_echo", "{\"x\":-2.5e-3}", "x=num:-0.0025000000000000001;", 29);
  expect_text(&m, "t_echo", "{\"tag\":[\"a\",\"b c\",\"d\"]}", "tag=1:a;tag=3:b c;tag=1:d;", 26);
  expect_text(&m, "t_echo", "{\"tag\":[]}", "", 0);
  /* no schema: arguments map to flags by their JSON type */
  expect_text(&m, "t_line", "{\"a\":\"x y\",\"b\":3,\"c\":true}", "--a:3=x y --b=3 --c=true", 24);
  expect_text(&m, "t_req", "{\"who\":\"me\"}", "who=2:me;", 9);

  /* argument errors: which argument, why */
  expect_tool_error(&m, "t_echo", "{\"n\":\"5\"}", "argument 'n': expected an integer");
  expect_tool_error(&m, "t_echo", "{\"n\":5.5}", "argument 'n': expected an integer");
  expect_tool_error(&m, "t_echo", "{\"n\":1001}", "argument 'n': out of range (-5..1000)");
  expect_tool_error(&m, "t_echo", "{\"x\":\"1\"}", "argument 'x': expected a number");
  expect_tool_error(&m, "t_echo", "{\"flag\":1}", "argument 'flag': expected a boolean");
  expect_tool_error(&m, "t_echo", "{\"text\":5}", "argument 'text': expected a string");
  expect_tool_error(&m, "t_echo", "{\"mode\":\"medium\"}", "argument 'mode': not one of the allowed values");
  expect_tool_error(&m, "t_echo", "{\"tag\":[\"\"]}", "argument 'tag': length out of range (1..8 bytes)");
  expect_tool_error(&m, "t_echo", "{\"tag\":[\"a\",[\"b\"]]}", "argument 'tag'");
  expect_tool_error(&m, "t_echo", "{\"tag\":[\"a\",null]}", "argument 'tag': null");
  expect_tool_error(&m, "t_echo", "{\"text\":[\"a\"]}", "argument 'text': arrays are only for repeated");
  expect_tool_error(&m, "t_echo", "{\"text\":null}", "argument 'text': null");
  expect_tool_error(&m, "t_echo", "{\"text\":{\"a\":1}}", "argument 'text': objects are");
  expect_tool_error(&m, "t_echo", "{\"other\":\"a\"}", "argument 'other': not an argument of this tool");
  expect_tool_error(&m, "t_echo", "{\"bad name\":\"a\"}", "argument 'bad name': not a valid argument name");
  expect_tool_error(&m, "t_req", "{}", "argument 'who': required but missing");
  expect_tool_error(&m, "t_line", "{\"a\":[1]}", "argument 'a': arrays are only for repeated");
  mf_down(&m);
}

static void test_tools_call_results(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_init(&m);
  /* handler failure: the status and the result text */
  json_t *r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"t_fail\"}}");
  json_t *res = result_of(r);
  assert_true(json_is_true(json_object_get(res, "isError")));
  json_t *content = json_object_get(res, "content");
  assert_int_equal(json_array_size(content), 2);
  assert_non_null(strstr(json_string_value(json_object_get(json_array_get(content, 0), "text")), cnv_strerror(CNV_EIO)));
  assert_string_equal(json_string_value(json_object_get(json_array_get(content, 1), "text")), "disk on fire");
  /* JSON: text and structuredContent for an object, text only otherwise */
  res = result_of(mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"t_json\"}}"));
  assert_false(json_is_true(json_object_get(res, "isError")));
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0), "text")),
                      "{\"a\":1,\"b\":[true,null]}");
  assert_json(json_object_get(res, "structuredContent"), "{\"a\":1,\"b\":[true,null]}", 0);
  res = result_of(
      mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"t_json_Uarray\"}}"));
  assert_null(json_object_get(res, "structuredContent"));
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0), "text")),
                      "[1,2]");
  expect_tool_error(&m, "t_json_Ubad", "{}", "not valid JSON");
  expect_tool_error(&m, "t_slow", "{}", "expired: ");
  expect_text(&m, "t_echo", "null", "", 0); /* arguments null: none */
  expect_tool_error(&m, "t_bad_Uutf8", "{}", "not valid UTF-8");
  /* binary: an embedded resource, base64 */
  res = result_of(mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"t_bin\"}}"));
  json_t *item = json_array_get(json_object_get(res, "content"), 0);
  assert_string_equal(json_string_value(json_object_get(item, "type")), "resource");
  json_t *resource = json_object_get(item, "resource");
  assert_string_equal(json_string_value(json_object_get(resource, "blob")), "AAH+/w==");
  assert_string_equal(json_string_value(json_object_get(resource, "mimeType")), "application/octet-stream");
  assert_true(json_is_string(json_object_get(resource, "uri")));
  /* a denial names its reason: u.secret is registered but not in the token's scope (it is
   * not listed either) */
  json_t *denied =
      mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"u_secret\"}}");
  bool err = false;
  const char *text = mf_text(denied, &err, NULL);
  assert_true(err);
  assert_string_equal(text, "denied: not_allowed: the token does not allow this capability");
  mf_down(&m);
}

static void test_progress_and_cancel(void **state) {
  (void)state;
  mf m;
  mf_up(&m, NULL);
  mf_init(&m);
  mf_send(&m,
          "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"tools/call\",\"params\":{\"name\":\"t_progress\","
          "\"_meta\":{\"progressToken\":\"tok\"}}}");
  double want = 1;
  for (;;) {
    json_t *msg = mf_next(&m);
    if (json_object_get(msg, "id")) {
      assert_string_equal(json_string_value(json_object_get(msg, "id")), "p");
      bool err = true;
      assert_string_equal(mf_text(msg, &err, NULL), "done");
      assert_false(err);
      break;
    }
    assert_string_equal(json_string_value(json_object_get(msg, "method")), "notifications/progress");
    json_t *p = json_object_get(msg, "params");
    assert_string_equal(json_string_value(json_object_get(p, "progressToken")), "tok");
    assert_true(json_number_value(json_object_get(p, "progress")) == want);
    assert_true(json_number_value(json_object_get(p, "total")) == 3);
    if (want == 1) assert_string_equal(json_string_value(json_object_get(p, "message")), "one");
    if (want == 2) assert_null(json_object_get(p, "message"));
    want++;
  }
  assert_true(want == 4); /* all three, in order (the ring holds far more than three) */
  /* an integer token */
  mf_send(&m,
          "{\"jsonrpc\":\"2.0\",\"id\":\"p2\",\"method\":\"tools/call\",\"params\":{\"name\":\"t_progress\","
          "\"_meta\":{\"progressToken\":17}}}");
  json_t *first = mf_next(&m);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(first, "params"), "progressToken")), 17);
  while (!json_object_get(mf_next(&m), "id")) {
  }
  /* without a token: no progress, only the response */
  json_t *r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"method\":\"tools/call\",\"params\":{\"name\":\"t_progress\"}}");
  assert_string_equal(json_string_value(json_object_get(r, "id")), "q");

  /* cancel: the handler sees it, no response comes for that id */
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"tools/call\",\"params\":{\"name\":\"t_wait\"}}");
  assert_int_equal(cnv_mcp_session_in_flight(m.s), 1);
  /* the same id again while it runs */
  expect_error(&m, "{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"tools/call\",\"params\":{\"name\":\"t_echo\"}}",
               -32600, "41");
  while (atomic_load(&mf_wait_started) == 0) sched_yield();
  mf_send(&m,
          "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":41,"
          "\"reason\":\"user\"}}");
  uint64_t end = cnv_runtime_now_ns() + 20000000000ull;
  while (cnv_mcp_session_in_flight(m.s) > 0 && cnv_runtime_now_ns() < end) {
    struct pollfd p = {.fd = cnv_mcp_session_fd(m.s), .events = POLLIN};
    (void)poll(&p, 1, 50);
    assert_int_equal(cnv_mcp_session_poll(m.s, NULL), CNV_OK);
  }
  assert_int_equal(cnv_mcp_session_in_flight(m.s), 0);
  assert_int_equal(atomic_load(&mf_wait_saw_cancel), 1);
  r = mf_rpc(&m, "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"ping\"}");
  assert_int_equal(json_integer_value(json_object_get(r, "id")), 42);
  assert_int_equal(m.sink.n, m.seen); /* nothing for 41 */

  /* close with a call running: cancelled, waited for, nothing emitted */
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"id\":43,\"method\":\"tools/call\",\"params\":{\"name\":\"t_wait\"}}");
  while (atomic_load(&mf_wait_started) < 2) sched_yield();
  assert_int_equal(cnv_mcp_session_close(m.s, 20000), CNV_OK);
  assert_int_equal(atomic_load(&mf_wait_saw_cancel), 2);
  assert_int_equal(cnv_mcp_session_in_flight(m.s), 0);
  assert_int_equal(m.sink.n, m.seen);
  assert_int_equal(cnv_mcp_session_receive(m.s, "{}", 2, 0), CNV_ESTATE);
  mf_down(&m);
}

static void test_bounds(void **state) {
  (void)state;
  mf m;
  cnv_mcp_config c = {.max_in_flight = 1};
  mf_up(&m, &c);
  mf_init(&m);
  mf_send(&m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"t_wait\"}}");
  while (atomic_load(&mf_wait_started) == 0) sched_yield();
  expect_tool_error(&m, "t_echo", "{}", "busy");
  assert_int_equal(cnv_mcp_session_in_flight(m.s), 1);
  mf_down(&m); /* destroy cancels and waits */
  assert_int_equal(atomic_load(&mf_wait_saw_cancel), 1);

  cnv_mcp_config bad = {.page_size = 1001};
  cnv_mcp_session *s = NULL;
  mf_up(&m, NULL);
  bad.rt = m.f.rt;
  bad.emit = mf_emit;
  assert_int_equal(cnv_mcp_session_create(&bad, &s), CNV_ERANGE);
  bad.page_size = 0;
  bad.max_in_flight = 4097;
  assert_int_equal(cnv_mcp_session_create(&bad, &s), CNV_ERANGE);
  bad.max_in_flight = 0;
  bad.emit = NULL;
  assert_int_equal(cnv_mcp_session_create(&bad, &s), CNV_EINVAL);
  assert_int_equal(cnv_mcp_session_create(NULL, &s), CNV_EINVAL);
  assert_int_equal(cnv_mcp_session_receive(NULL, "", 0, 0), CNV_EINVAL);
  assert_int_equal(cnv_mcp_session_receive(m.s, NULL, 1, 0), CNV_EINVAL);
  assert_int_equal(cnv_mcp_session_poll(NULL, NULL), CNV_EINVAL);
  cnv_mcp_session_destroy(NULL);
  mf_down(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_initialize_versions),
      cmocka_unit_test(test_revision_fields),
      cmocka_unit_test(test_error_codes),
      cmocka_unit_test(test_tools_list),
      cmocka_unit_test(test_tools_call_arguments),
      cmocka_unit_test(test_tools_call_results),
      cmocka_unit_test(test_progress_and_cancel),
      cmocka_unit_test(test_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
