/* Messages out: every JSON text the session emits is made here (mcp_internal.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_internal.h"

/* What goes out when a message cannot be serialised (no memory): still a valid JSON-RPC
 * error, so the client is never left with nothing or with broken JSON. */
static const char k_fallback[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,\"message\":\"Internal error\"}}";

void mcp_emit(cnv_mcp_session *s, uint64_t origin, json_t *msg) {
  if (s->quiet) {
    json_decref(msg);
    return;
  }
  char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
  json_decref(msg);
  if (!text) {
    s->emit(s->emit_ctx, origin, k_fallback, sizeof k_fallback - 1);
    return;
  }
  s->emit(s->emit_ctx, origin, text, strlen(text));
  /* json_dumps allocates with jansson's allocator, which the application may have replaced
   * (json_set_alloc_funcs): freed with its free, never libc's */
  json_free_t json_free_fn = free;
  json_get_alloc_funcs(NULL, &json_free_fn);
  json_free_fn(text);
}

static json_t *envelope(json_t *id) {
  json_t *m = json_object();
  if (!m) return NULL;
  if (json_object_set_new(m, "jsonrpc", json_string("2.0")) != 0 ||
      json_object_set_new(m, "id", id ? json_incref(id) : json_null()) != 0) {
    json_decref(m);
    return NULL;
  }
  return m;
}

void mcp_reply(cnv_mcp_session *s, uint64_t origin, json_t *id, json_t *result) {
  json_t *m = envelope(id);
  if (!m || !result || json_object_set_new(m, "result", result) != 0) {
    if (!m) json_decref(result);
    json_decref(m);
    mcp_reply_error(s, origin, id, MCP_INTERNAL_ERROR, "Internal error: out of memory");
    return;
  }
  mcp_emit(s, origin, m);
}

void mcp_reply_error(cnv_mcp_session *s, uint64_t origin, json_t *id, int code, const char *message) {
  json_t *m = envelope(id);
  json_t *err = json_pack("{s:i,s:s}", "code", code, "message", message);
  if (!m || !err || json_object_set_new(m, "error", err) != 0) {
    if (!m) json_decref(err);
    json_decref(m);
    mcp_emit(s, origin, NULL); /* the fixed -32603 */
    return;
  }
  mcp_emit(s, origin, m);
}

json_t *mcp_string(const char *bytes, size_t len) { return json_stringn(bytes ? bytes : "", len); }

bool mcp_string_is(const json_t *str, const char *text) {
  if (!json_is_string(str)) return false;
  size_t n = strlen(text);
  return json_string_length(str) == n && memcmp(json_string_value(str), text, n) == 0;
}

json_t *mcp_tool_error(const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  size_t len = (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
  /* a cut may split a UTF-8 sequence: back up to a boundary so the text stays valid */
  while (len > 0 && (size_t)n >= sizeof text && ((unsigned char)text[len] & 0xC0u) == 0x80u) len--;
  json_t *str = json_stringn(text, len);
  if (!str) str = json_string("error (the message was not valid UTF-8)");
  return json_pack("{s:[{s:s,s:o}],s:b}", "content", "type", "text", "text", str, "isError", 1);
}

bool mcp_id_equal(const json_t *a, const json_t *b) {
  if (json_is_number(a) && json_is_number(b) && (json_is_real(a) || json_is_real(b))) {
    return json_number_value(a) == json_number_value(b);
  }
  return json_equal(a, b);
}

bool mcp_revision_at_least(const cnv_mcp_session *s, const char *rev) { return strcmp(s->version, rev) >= 0; }

json_t *mcp_json_load(const char *text, size_t len, size_t flags, json_error_t *jerr) {
  const char *nul = len > 0 ? memchr(text, '\0', len) : NULL;
  if (nul) {
    /* jansson fills json_error_t only inside its calls; its code sits in text's last byte */
    *jerr = (json_error_t){.text = "raw NUL byte", .position = (int)(nul - text)};
    jerr->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)json_error_invalid_syntax;
    return NULL;
  }
  return json_loadb(len > 0 ? text : "", len, flags, jerr);
}
