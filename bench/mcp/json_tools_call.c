/* json_tools_call: the JSON library's share of one MCP tools/call, with jansson (what the mcp
 * module uses) and with cJSON (libcjson-dev, a bench-only peer). One item is one message: parse
 * a typical tools/call request (REQUEST below: demo.types with every argument type and a
 * progress token), find its id, tool name and arguments, then build its response (the
 * arguments printed as the text content, and copied as structuredContent) and print it compact,
 * freeing everything. Both cases check once, before timing, that their response is the expected
 * text, so neither is timed doing less.
 *
 * The speed is not the whole choice (README's dependency table): on the same inputs cJSON
 * truncates a string at an escaped \u0000, accepts invalid UTF-8, keeps the first of duplicate
 * keys and rounds integers past 2^53, where jansson keeps or refuses them exactly. */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <jansson.h>

#include "../harness/cnv_bench.h"

static const char REQUEST[] =
    "{\"jsonrpc\":\"2.0\",\"id\":4711,\"method\":\"tools/call\",\"params\":{\"name\":\"demo_types\","
    "\"arguments\":{\"s\":\"say \\\"hi\\\"\\nbye\",\"i\":42,\"n\":3.25,\"b\":true,\"e\":\"green\","
    "\"tags\":[\"alpha\",\"beta\",\"gamma\"]},\"_meta\":{\"progressToken\":\"tok-4711\"}}}";

static const char RESPONSE[] =
    "{\"jsonrpc\":\"2.0\",\"id\":4711,\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
    "\"{\\\"s\\\":\\\"say \\\\\\\"hi\\\\\\\"\\\\nbye\\\",\\\"i\\\":42,\\\"n\\\":3.25,\\\"b\\\":true,"
    "\\\"e\\\":\\\"green\\\",\\\"tags\\\":[\\\"alpha\\\",\\\"beta\\\",\\\"gamma\\\"]}\"}],"
    "\"structuredContent\":{\"s\":\"say \\\"hi\\\"\\nbye\",\"i\":42,\"n\":3.25,\"b\":true,\"e\":\"green\","
    "\"tags\":[\"alpha\",\"beta\",\"gamma\"]},\"isError\":false}}";

/* ---- jansson ---------------------------------------------------------------------------- */

/* The response text for REQUEST (malloc'd; NULL when the request is not a tools/call). */
static char *jansson_round(void) {
  json_t *req = json_loadb(REQUEST, sizeof REQUEST - 1, 0, NULL);
  if (!req) return NULL;
  char *out = NULL;
  json_t *id = json_object_get(req, "id");
  json_t *params = json_object_get(req, "params");
  const char *method = json_string_value(json_object_get(req, "method"));
  json_t *args = json_object_get(params, "arguments");
  const char *name = json_string_value(json_object_get(params, "name"));
  if (id && method && strcmp(method, "tools/call") == 0 && name && json_is_object(args)) {
    char *text = json_dumps(args, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_t *resp = json_pack("{s:s, s:O, s:{s:[{s:s, s:s}], s:o, s:b}}", "jsonrpc", "2.0", "id", id, "result",
                             "content", "type", "text", "text", text ? text : "", "structuredContent",
                             json_deep_copy(args), "isError", 0);
    free(text);
    if (resp) out = json_dumps(resp, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(resp);
  }
  json_decref(req);
  return out;
}

/* ---- cJSON ------------------------------------------------------------------------------ */

static char *cjson_round(void) {
  cJSON *req = cJSON_ParseWithLength(REQUEST, sizeof REQUEST - 1);
  if (!req) return NULL;
  char *out = NULL;
  cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
  cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
  const char *method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "method"));
  cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, "name"));
  if (id && method && strcmp(method, "tools/call") == 0 && name && cJSON_IsObject(args)) {
    char *text = cJSON_PrintUnformatted(args);
    cJSON *resp = cJSON_CreateObject();
    cJSON *result = cJSON_CreateObject();
    cJSON *content = cJSON_CreateArray();
    cJSON *item = cJSON_CreateObject();
    if (resp && result && content && item) {
      cJSON_AddStringToObject(resp, "jsonrpc", "2.0");
      cJSON_AddItemToObject(resp, "id", cJSON_Duplicate(id, 1));
      cJSON_AddStringToObject(item, "type", "text");
      cJSON_AddStringToObject(item, "text", text ? text : "");
      cJSON_AddItemToArray(content, item);
      item = NULL;
      cJSON_AddItemToObject(result, "content", content);
      content = NULL;
      cJSON_AddItemToObject(result, "structuredContent", cJSON_Duplicate(args, 1));
      cJSON_AddBoolToObject(result, "isError", 0);
      cJSON_AddItemToObject(resp, "result", result);
      result = NULL;
      out = cJSON_PrintUnformatted(resp);
    }
    cJSON_Delete(item);
    cJSON_Delete(content);
    cJSON_Delete(result);
    cJSON_Delete(resp);
    cJSON_free(text);
  }
  cJSON_Delete(req);
  return out;
}

/* ---- the cases --------------------------------------------------------------------------- */

static void json_case(cnv_bench_state *st, char *(*round)(void), void (*release)(void *)) {
  char *check = round();
  int same = check && strcmp(check, RESPONSE) == 0;
  release(check);
  if (!same) {
    cnv_bench_skip_with_error(st, "the response is not the expected text");
    return;
  }
  while (cnv_bench_keep_running(st)) {
    char *out = round();
    cnv_bench_do_not_optimize(out);
    release(out);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

static void json_tools_call_jansson(cnv_bench_state *st) { json_case(st, jansson_round, free); }
CNV_BENCH(json_tools_call_jansson, "json_tools_call/jansson", 1, 0)

static void json_tools_call_cjson(cnv_bench_state *st) { json_case(st, cjson_round, cJSON_free); }
CNV_BENCH(json_tools_call_cjson, "json_tools_call/cjson", 1, 0)
