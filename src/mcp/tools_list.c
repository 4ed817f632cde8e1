/* tools/list: the capabilities the agent may call, as MCP tools, a page at a time; their
 * inputSchema and annotations (docs/mcp.md, "Schema generation"). */
#include <string.h>

#include "core/ignore.h"
#include "mcp_internal.h"

/* The cursor names the last path of the page before: opaque to the client, and valid
 * whatever is registered or unregistered in between (the next page starts after that path
 * in byte order). */
#define CURSOR_PREFIX "after:"

/* Sets key to v (consumed); a NULL v (an allocation failed or text not UTF-8) leaves it
 * out. Returns false when setting failed. */
static bool put(json_t *obj, const char *key, json_t *v) {
  if (!v) return true;
  return json_object_set_new(obj, key, v) == 0;
}

static json_t *item_schema(const cnv_arg_spec *a) {
  json_t *o = NULL;
  switch (a->type) {
    case CNV_ARGT_STRING:
      o = json_pack("{s:s}", "type", "string");
      if (o && (a->flags & CNV_ARGF_MIN)) put(o, "minLength", json_integer(a->min));
      if (o && (a->flags & CNV_ARGF_MAX)) put(o, "maxLength", json_integer(a->max));
      break;
    case CNV_ARGT_INTEGER:
      o = json_pack("{s:s}", "type", "integer");
      if (o && (a->flags & CNV_ARGF_MIN)) put(o, "minimum", json_integer(a->min));
      if (o && (a->flags & CNV_ARGF_MAX)) put(o, "maximum", json_integer(a->max));
      break;
    case CNV_ARGT_NUMBER:
      o = json_pack("{s:s}", "type", "number");
      break;
    case CNV_ARGT_BOOLEAN:
      o = json_pack("{s:s}", "type", "boolean");
      break;
    case CNV_ARGT_ENUM: {
      o = json_pack("{s:s}", "type", "string");
      json_t *values = json_array();
      for (uint16_t i = 0; values && i < a->n_enum; i++) {
        json_t *v = json_string(a->enum_values[i]);
        if (v) (void)json_array_append_new(values, v);
        /* a value that is not UTF-8 cannot be written in JSON: it is left out (no client can
       * send it either) */
      }
      if (o)
        put(o, "enum", values);
      else
        json_decref(values);
      break;
    }
    default:
      o = json_object();
      break;
  }
  return o;
}

json_t *mcp_input_schema(const cnv_parse_schema *schema) {
  json_t *root = json_pack("{s:s}", "type", "object");
  if (!root || !schema) return root;
  json_t *props = json_object();
  json_t *required = json_array();
  if (!props || !required) goto fail;
  for (size_t i = 0; i < schema->n_bool_flags; i++) {
    const cnv_slice *f = &schema->bool_flags[i];
    json_t *key = mcp_string(f->ptr, f->len);
    if (!key) continue;
    json_t *p = json_pack("{s:s}", "type", "boolean");
    /* the older boolean flags: a property each when memory allows (the schema is open) */
    if (p) (void)json_object_setn_new(props, json_string_value(key), json_string_length(key), p);
    json_decref(key);
  }
  for (size_t i = 0; i < schema->n_args; i++) {
    const cnv_arg_spec *a = &schema->args[i];
    json_t *p = item_schema(a);
    if (!p) goto fail;
    if (a->flags & CNV_ARGF_REPEATED) {
      json_t *arr = json_pack("{s:s,s:o}", "type", "array", "items", p);
      if (!arr) goto fail;
      p = arr;
    }
    if (a->description) put(p, "description", json_string(a->description));
    if (json_object_set_new(props, a->name, p) != 0) goto fail;
    if ((a->flags & CNV_ARGF_REQUIRED) && json_array_append_new(required, json_string(a->name)) != 0) goto fail;
  }
  if (json_object_size(props) > 0 && json_object_set(root, "properties", props) != 0) goto fail;
  if (json_array_size(required) > 0 && json_object_set(root, "required", required) != 0) goto fail;
  if ((schema->flags & CNV_SCHEMA_CLOSED) && json_object_set_new(root, "additionalProperties", json_false()) != 0) {
    goto fail;
  }
  json_decref(props);
  json_decref(required);
  return root;
fail:
  json_decref(props);
  json_decref(required);
  json_decref(root);
  return NULL;
}

json_t *mcp_annotations(cnv_effects effects, const char *title) {
  /* every hint explicit: MCP's defaults (destructive, open-world) would otherwise speak for
   * a capability that declared neither */
  json_t *a = json_pack("{s:b,s:b,s:b,s:b}", "readOnlyHint", (effects & CNV_EFFECT_READ_ONLY) != 0, "destructiveHint",
                        (effects & CNV_EFFECT_DESTRUCTIVE) != 0, "idempotentHint",
                        (effects & CNV_EFFECT_IDEMPOTENT) != 0, "openWorldHint",
                        (effects & (CNV_EFFECT_NETWORK | CNV_EFFECT_EXTERNAL_CALL)) != 0);
  if (a && title && !put(a, "title", json_string(title))) {
    json_decref(a);
    return NULL;
  }
  return a;
}

typedef struct list_ctx {
  cnv_mcp_session *s;
  const char *after; /* NULL: from the start */
  size_t after_len;
  json_t *tools;
  bool more;  /* a tool beyond the page exists */
  bool nomem; /* building failed */
  char last[256];
  size_t last_len;
} list_ctx;

int mcp_path_cmp(const char *a, size_t an, const char *b, size_t bn) {
  int c = memcmp(a, b, an < bn ? an : bn);
  if (c != 0) return c;
  return an < bn ? -1 : an > bn ? 1
                                : 0;
}

static bool list_one(void *ctx, const cnv_runtime_capability_info *info) {
  list_ctx *l = ctx;
  if (l->after && mcp_path_cmp(info->path, info->path_len, l->after, l->after_len) <= 0) return true;
  char name[CNV_MCP_TOOL_NAME_MAX + 1];
  size_t name_len = 0;
  /* a path whose name would be too long is not a tool */
  if (cnv_mcp_tool_name(info->path, info->path_len, name, sizeof name, &name_len) != CNV_OK) return true;
  if (cnv_runtime_agent_check(l->s->rt, l->s->agent, info->path, info->path_len) != CNV_OK) return true;
  if (json_array_size(l->tools) >= l->s->page_size) {
    l->more = true;
    return false;
  }
  json_t *t = json_pack("{s:s%}", "name", name, name_len);
  json_t *schema = mcp_input_schema(info->schema);
  json_t *ann = mcp_annotations(info->effects, info->title);
  if (!t || !schema || !ann || json_object_set_new(t, "inputSchema", schema) != 0) {
    json_decref(t);
    json_decref(ann);
    l->nomem = true;
    return false;
  }
  /* fields newer than the negotiated revision stay out: annotations came with 2025-03-26,
   * the tool's title with 2025-06-18 */
  if (!mcp_revision_at_least(l->s, "2025-03-26")) {
    json_decref(ann);
    ann = NULL;
  }
  bool titled = info->title && mcp_revision_at_least(l->s, "2025-06-18");
  if (!put(t, "annotations", ann) || (titled && !put(t, "title", json_string(info->title))) ||
      (info->description && !put(t, "description", json_string(info->description))) ||
      json_array_append_new(l->tools, t) != 0) {
    l->nomem = true;
    return false;
  }
  memcpy(l->last, info->path, info->path_len);
  l->last_len = info->path_len;
  return true;
}

void mcp_tools_list(cnv_mcp_session *s, uint64_t origin, json_t *id, json_t *params) {
  list_ctx l = {.s = s};
  json_t *cursor = json_object_get(params, "cursor");
  if (cursor && !json_is_null(cursor)) {
    const size_t pre = sizeof CURSOR_PREFIX - 1;
    const char *c = json_string_value(cursor);
    size_t n = json_string_length(cursor);
    if (!json_is_string(cursor) || n <= pre || memcmp(c, CURSOR_PREFIX, pre) != 0 ||
        cnv_capability_path_check(c + pre, n - pre, NULL) != CNV_OK) {
      mcp_reply_error(s, origin, id, MCP_INVALID_PARAMS, "Invalid params: bad cursor");
      return;
    }
    l.after = c + pre;
    l.after_len = n - pre;
  }
  l.tools = json_array();
  uint64_t gen = 0;
  cnv_status st = l.tools ? cnv_runtime_capability_each(s->rt, list_one, &l, &gen) : CNV_ENOMEM;
  if (st != CNV_OK || l.nomem) {
    json_decref(l.tools);
    mcp_reply_error(s, origin, id, MCP_INTERNAL_ERROR, "Internal error: listing failed");
    return;
  }
  json_t *res = json_pack("{s:o}", "tools", l.tools);
  if (res && l.more) {
    char next[sizeof CURSOR_PREFIX + sizeof l.last];
    memcpy(next, CURSOR_PREFIX, sizeof CURSOR_PREFIX - 1);
    memcpy(next + sizeof CURSOR_PREFIX - 1, l.last, l.last_len);
    if (!put(res, "nextCursor", json_stringn(next, sizeof CURSOR_PREFIX - 1 + l.last_len))) {
      json_decref(res);
      res = NULL;
    }
  }
  /* list_changed is due once the registry moves past what this listing showed */
  s->list_armed = true;
  s->list_generation = gen;
  mcp_reply(s, origin, id, res);
}
