/* tools/call: JSON arguments -> an invocation line (cnv_line_*), checked against the
 * capability's schema, submitted to the runtime; the completion and progress callbacks that
 * hand the outcome to the session's thread (docs/mcp.md, "tools/call"). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/atomic.h"
#include "core/ignore.h"
#include "mcp_internal.h"

/* ---- the worker side: no lock, no allocation ---- */

void mcp_session_wake(cnv_mcp_session *s) {
  uint64_t one = 1;
  /* EAGAIN (the counter is at its maximum) still leaves the descriptor readable */
  while (write(s->efd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

static void on_done(void *ctx, const cnv_runtime_completion *c) {
  cnv_mcp_session *s = ctx;
  /* acq_rel: the count is up before the push below publishes the slot, so a session that
   * took the slot sees it */
  cnv__fetch_add_acq_rel(&s->callbacks, 1);
  uint32_t slot = (uint32_t)c->correlation;
  mcp_call *call = &s->calls[slot];
  call->kind = c->kind;
  call->status = c->status;
  call->content_type = c->content_type;
  size_t n = c->result_len <= s->max_result ? c->result_len : 0;
  if (n > 0) memcpy(call->result, c->result, n);
  call->result_len = n;
  /* each slot completes once per submit and the ring holds every slot: never full */
  bool pushed = mcp_ring_push(&s->done, &slot);
  (void)pushed;
  mcp_session_wake(s);
  /* release: every access to the session above happens before destroy sees the count at
   * 0; nothing touches it after */
  cnv__fetch_sub_acq_rel(&s->callbacks, 1);
}

static void on_progress(void *ctx, const cnv_runtime_progress *p) {
  cnv_mcp_session *s = ctx;
  mcp_progress_rec r;
  r.correlation = p->correlation;
  r.progress = p->progress;
  r.total = p->total;
  r.message_len = (uint32_t)(p->message_len <= sizeof r.message ? p->message_len : 0);
  if (r.message_len > 0) memcpy(r.message, p->message, r.message_len);
  /* a full ring drops the report: progress is advisory, the result still comes */
  if (mcp_ring_push(&s->progress, &r)) mcp_session_wake(s);
}

/* ---- arguments -> line ---- */

typedef struct build {
  cnv_mcp_session *s;
  const char *path;
  size_t path_len;
  json_t *arguments; /* object or NULL */
  bool found;
  cnv_status denied; /* the token's answer when it does not allow the capability */
  json_t *error;     /* an isError result for the client */
  size_t line_len;
} build;

static const char *type_name(int type) {
  switch (type) {
    case CNV_ARGT_STRING:
      return "a string";
    case CNV_ARGT_INTEGER:
      return "an integer";
    case CNV_ARGT_NUMBER:
      return "a number";
    case CNV_ARGT_BOOLEAN:
      return "a boolean";
    case CNV_ARGT_ENUM:
      return "one of the allowed strings";
    default:
      return "a value";
  }
}

static const cnv_arg_spec *spec_of(const cnv_parse_schema *schema, const char *key, size_t key_len, bool *is_bool) {
  *is_bool = false;
  if (!schema) return NULL;
  for (size_t i = 0; i < schema->n_args; i++) {
    const char *n = schema->args[i].name;
    if (strlen(n) == key_len && memcmp(n, key, key_len) == 0) return &schema->args[i];
  }
  for (size_t i = 0; i < schema->n_bool_flags; i++) {
    const cnv_slice *f = &schema->bool_flags[i];
    if (f->len == key_len && memcmp(f->ptr, key, key_len) == 0) *is_bool = true;
  }
  return NULL;
}

/* Appends one value of argument key. Returns false with b->error set when it cannot. */
static bool add_value(build *b, cnv_line_builder *lb, const char *key, size_t key_len, json_t *v, int type) {
  cnv_status st = CNV_OK;
  if (type == 0) {
    /* no declared type: the JSON type says */
    type = json_is_string(v)    ? CNV_ARGT_STRING
           : json_is_integer(v) ? CNV_ARGT_INTEGER
           : json_is_real(v)    ? CNV_ARGT_NUMBER
           : json_is_boolean(v) ? CNV_ARGT_BOOLEAN
                                : 0;
  }
  if (json_is_null(v)) {
    b->error = mcp_tool_error("argument '%.*s': null is not a value (leave the argument out)", (int)key_len, key);
    return false;
  }
  if (json_is_object(v) || json_is_array(v)) {
    b->error = mcp_tool_error("argument '%.*s': %s not accepted here", (int)key_len, key,
                              json_is_object(v) ? "objects are" : "arrays are only for repeated arguments, and");
    return false;
  }
  switch (type) {
    case CNV_ARGT_STRING:
    case CNV_ARGT_ENUM:
      if (!json_is_string(v)) goto mismatch;
      st = cnv_line_add_string(lb, key, key_len, json_string_value(v), json_string_length(v));
      break;
    case CNV_ARGT_INTEGER:
      if (json_is_integer(v)) {
        st = cnv_line_add_int(lb, key, key_len, (int64_t)json_integer_value(v));
      } else if (json_is_real(v)) {
        double d = json_real_value(v);
        /* 3.0 is the integer 3 (JSON has one number type); 3.5 or 1e300 is not one */
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d)) goto mismatch;
        st = cnv_line_add_int(lb, key, key_len, (int64_t)d);
      } else {
        goto mismatch;
      }
      break;
    case CNV_ARGT_NUMBER:
      if (json_is_integer(v)) {
        st = cnv_line_add_int(lb, key, key_len, (int64_t)json_integer_value(v));
      } else if (json_is_real(v)) {
        st = cnv_line_add_number(lb, key, key_len, json_real_value(v));
      } else {
        goto mismatch;
      }
      break;
    case CNV_ARGT_BOOLEAN:
      if (!json_is_boolean(v)) goto mismatch;
      st = cnv_line_add_bool(lb, key, key_len, json_is_true(v));
      break;
    default:
      goto mismatch;
  }
  if (st == CNV_OK) return true;
  if (st == CNV_EFULL) {
    b->error = mcp_tool_error("arguments: too long for one invocation (at '%.*s')", (int)key_len, key);
  } else if (st == CNV_EPARSE_FLAG_NAME_CHAR || st == CNV_EPARSE_FLAG_NO_NAME) {
    b->error = mcp_tool_error("argument '%.*s': not a valid argument name (letters, digits, '_' and '-')",
                              (int)key_len, key);
  } else {
    b->error = mcp_tool_error("argument '%.*s': %s", (int)key_len, key, cnv_strerror(st));
  }
  return false;
mismatch:
  b->error = mcp_tool_error("argument '%.*s': expected %s", (int)key_len, key, type_name(type));
  return false;
}

/* The message of a schema check failure for the argument named name. */
static void check_error(build *b, cnv_status st, const cnv_parse_schema *schema, const char *name, size_t len) {
  const cnv_arg_spec *spec = NULL;
  bool is_bool = false;
  if (name) spec = spec_of(schema, name, len, &is_bool);
  switch (st) {
    case CNV_EARG_UNKNOWN:
      b->error = mcp_tool_error("argument '%.*s': not an argument of this tool", (int)len, name);
      break;
    case CNV_EARG_TYPE:
      b->error = mcp_tool_error("argument '%.*s': expected %s", (int)len, name, type_name(spec ? spec->type : 0));
      break;
    case CNV_EARG_ENUM:
      b->error = mcp_tool_error("argument '%.*s': not one of the allowed values", (int)len, name);
      break;
    case CNV_EARG_REPEATED:
      b->error = mcp_tool_error("argument '%.*s': given more than once but takes one value", (int)len, name);
      break;
    case CNV_ERANGE:
      if (spec && spec->type == CNV_ARGT_STRING) {
        b->error = mcp_tool_error("argument '%.*s': length out of range (%lld..%lld bytes)", (int)len, name,
                                  (spec->flags & CNV_ARGF_MIN) ? (long long)spec->min : 0LL,
                                  (spec->flags & CNV_ARGF_MAX) ? (long long)spec->max : (long long)INT64_MAX);
      } else if (spec) {
        b->error = mcp_tool_error("argument '%.*s': out of range (%lld..%lld)", (int)len, name,
                                  (spec->flags & CNV_ARGF_MIN) ? (long long)spec->min : (long long)INT64_MIN,
                                  (spec->flags & CNV_ARGF_MAX) ? (long long)spec->max : (long long)INT64_MAX);
      } else {
        b->error = mcp_tool_error("argument '%.*s': out of range", (int)len, name);
      }
      break;
    default:
      b->error = mcp_tool_error("arguments: %s", cnv_strerror(st));
      break;
  }
}

static void build_line(build *b, const cnv_runtime_capability_info *info) {
  cnv_mcp_session *s = b->s;
  const cnv_parse_schema *schema = info->schema;
  cnv_line_builder lb;
  if (cnv_line_init(&lb, s->line, MCP_LINE_CAP, b->path, b->path_len) != CNV_OK) {
    b->error = mcp_tool_error("internal: the tool's path does not make a line");
    return;
  }
  if (b->arguments) {
    const char *key;
    size_t key_len;
    json_t *v;
    json_object_keylen_foreach(b->arguments, key, key_len, v) {
      bool is_bool = false;
      const cnv_arg_spec *spec = spec_of(schema, key, key_len, &is_bool);
      int type = spec ? spec->type : is_bool ? CNV_ARGT_BOOLEAN
                                             : 0;
      /* the older bool_flags are read by presence as often as by value (cnv_arg_bool):
       * false is the flag left out, never `--flag=false`, which is a present flag */
      if (!spec && is_bool && json_is_false(v)) continue;
      if (json_is_array(v) && spec && (spec->flags & CNV_ARGF_REPEATED)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
          if (json_is_array(item)) {
            b->error = mcp_tool_error("argument '%.*s': item %zu: nested arrays are not accepted", (int)key_len, key, i);
            return;
          }
          if (!add_value(b, &lb, key, key_len, item, type)) return;
        }
      } else if (!add_value(b, &lb, key, key_len, v, type)) {
        return;
      }
    }
  }
  b->line_len = lb.len;
  if (!schema || schema->n_args == 0) return;
  /* the line the runtime will get, checked here so that the model hears which argument is
   * wrong and why (the runtime would only say CNV_ERT_DENY_ARGUMENTS) */
  cnv_invocation inv;
  if (cnv_invocation_init(&inv, s->args, MCP_MAX_ARGS) != CNV_OK) {
    b->error = mcp_tool_error("internal: no argument table");
    return;
  }
  cnv_parse_limits limits = {.max_input = MCP_LINE_CAP, .max_args = MCP_MAX_ARGS};
  cnv_status st = cnv_parse_invocation(s->line, lb.len, &limits, schema, &inv);
  if (st != CNV_OK) {
    b->error = mcp_tool_error("arguments: %s", cnv_strerror(st));
    return;
  }
  size_t bad = 0;
  st = cnv_schema_check(schema, &inv, &bad);
  if (st == CNV_OK) return;
  if (st == CNV_EARG_MISSING) {
    for (size_t i = 0; i < schema->n_args; i++) {
      const cnv_arg_spec *a = &schema->args[i];
      uint32_t at = 0;
      if ((a->flags & CNV_ARGF_REQUIRED) && cnv_invocation_find(&inv, a->name, strlen(a->name), &at) != CNV_OK) {
        b->error = mcp_tool_error("argument '%s': required but missing", a->name);
        return;
      }
    }
    b->error = mcp_tool_error("arguments: a required argument is missing");
    return;
  }
  if (bad < inv.count) {
    check_error(b, st, schema, inv.args[bad].name.ptr, inv.args[bad].name.len);
  } else {
    check_error(b, st, schema, NULL, 0);
  }
}

/* Under the registry's lock (capability_each): the schema is valid while the line is built
 * and checked against it. */
static bool build_one(void *ctx, const cnv_runtime_capability_info *info) {
  build *b = ctx;
  int c = mcp_path_cmp(info->path, info->path_len, b->path, b->path_len);
  if (c < 0) return true;
  if (c == 0) {
    b->found = true;
    /* the token first: a tool the agent may not call is denied before its arguments are
     * looked at, so no error about them tells the client anything of its schema */
    b->denied = cnv_runtime_agent_check(b->s->rt, b->s->agent, b->path, b->path_len);
    if (b->denied == CNV_OK) build_line(b, info);
  }
  return false;
}

/* ---- the request ---- */

static json_t *submit_error(cnv_status st) {
  int reason = cnv_runtime_denial_of(st);
  if (reason >= 0) {
    /* the runtime's messages start with "denied: " already: said once */
    const char *why = cnv_strerror(st);
    if (strncmp(why, "denied: ", 8) == 0) why += 8;
    return mcp_tool_error("denied: %s: %s", cnv_runtime_denial_name(reason), why);
  }
  if (st == CNV_EFULL) return mcp_tool_error("busy: the runtime has no room for another call; try again");
  return mcp_tool_error("not submitted: %s", cnv_strerror(st));
}

void mcp_tools_call(cnv_mcp_session *s, uint64_t origin, json_t *id, json_t *params) {
  json_t *name = json_object_get(params, "name");
  if (!json_is_string(name)) {
    mcp_reply_error(s, origin, id, MCP_INVALID_PARAMS, "Invalid params: name must be a string");
    return;
  }
  json_t *arguments = json_object_get(params, "arguments");
  if (arguments && !json_is_object(arguments) && !json_is_null(arguments)) {
    mcp_reply_error(s, origin, id, MCP_INVALID_PARAMS, "Invalid params: arguments must be an object");
    return;
  }
  json_t *token = json_object_get(json_object_get(params, "_meta"), "progressToken");
  if (json_is_string(token) && json_string_length(token) > CNV_MCP_MAX_ID) {
    /* kept while the call runs, like the id: bounded apart from max_message */
    mcp_reply_error(s, origin, id, MCP_INVALID_PARAMS, "Invalid params: progressToken too long");
    return;
  }
  char path[CNV_MCP_TOOL_NAME_MAX + 1];
  size_t path_len = 0;
  if (cnv_mcp_tool_path(json_string_value(name), json_string_length(name), path, sizeof path, &path_len) != CNV_OK) {
    mcp_reply_error(s, origin, id, MCP_INVALID_PARAMS, "Invalid params: unknown tool");
    return;
  }
  build b = {.s = s, .path = path, .path_len = path_len, .arguments = json_is_object(arguments) ? arguments : NULL};
  cnv_status st = cnv_runtime_capability_each(s->rt, build_one, &b, NULL);
  if (st != CNV_OK) {
    json_decref(b.error);
    mcp_reply_error(s, origin, id, MCP_INTERNAL_ERROR, "Internal error: the registry could not be read");
    return;
  }
  if (!b.found) {
    mcp_reply_error(s, origin, id, MCP_INVALID_PARAMS, "Invalid params: unknown tool");
    return;
  }
  if (b.denied != CNV_OK) {
    mcp_reply(s, origin, id, submit_error(b.denied));
    return;
  }
  if (b.error) {
    mcp_reply(s, origin, id, b.error);
    return;
  }
  if (s->n_free == 0) {
    mcp_reply(s, origin, id, mcp_tool_error("busy: %u calls in flight; try again", s->max_in_flight));
    return;
  }
  uint32_t slot = s->free_slots[--s->n_free];
  mcp_call *c = &s->calls[slot];
  c->gen++;
  cnv_runtime_submit_opts opts = {.correlation = (uint64_t)slot | ((uint64_t)c->gen << 32),
                                  .on_done = on_done,
                                  .done_ctx = s};
  if (json_is_string(token) || json_is_integer(token)) {
    opts.on_progress = on_progress;
    opts.progress_ctx = s;
  }
  uint64_t ticket = 0;
  st = cnv_runtime_submit_ex(s->rt, s->agent, s->line, b.line_len, &opts, &ticket);
  if (st != CNV_OK) {
    s->free_slots[s->n_free++] = slot;
    mcp_reply(s, origin, id, submit_error(st));
    return;
  }
  c->state = MCP_CALL_RUNNING;
  c->id = json_incref(id);
  c->progress_token = opts.on_progress ? json_incref(token) : NULL;
  c->origin = origin;
  c->ticket = ticket;
  /* a name cnv_mcp_tool_path took: at most CNV_MCP_TOOL_NAME_MAX bytes, no NUL */
  memcpy(c->tool, json_string_value(name), json_string_length(name) + 1);
  s->in_flight++;
}

void mcp_cancelled(cnv_mcp_session *s, json_t *params) {
  json_t *rid = json_object_get(params, "requestId");
  if (!json_is_string(rid) && !json_is_number(rid)) return;
  for (uint32_t i = 0; i < s->max_in_flight; i++) {
    mcp_call *c = &s->calls[i];
    if (c->state == MCP_CALL_RUNNING && mcp_id_equal(c->id, rid)) {
      c->state = MCP_CALL_CANCELLED;
      /* CNV_ENOTFOUND: it completed already; its response is then withheld all the same */
      cnv__ignore_status(cnv_runtime_cancel(s->rt, c->ticket));
      return;
    }
  }
}

/* ---- completion -> response ---- */

static json_t *text_content(const uint8_t *bytes, size_t len) {
  json_t *t = mcp_string((const char *)bytes, len);
  if (!t) return NULL;
  return json_pack("{s:s,s:o}", "type", "text", "text", t);
}

static json_t *ok_result(const cnv_mcp_session *s, const mcp_call *c) {
  const uint8_t *r = c->result;
  size_t n = c->result_len;
  if (c->content_type == CNV_CONTENT_BINARY) {
    size_t b64_len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_len);
    if (!b64) return NULL;
    sodium_bin2base64(b64, b64_len, r, n, sodium_base64_VARIANT_ORIGINAL);
    char uri[64];
    snprintf(uri, sizeof uri, "cnv://result/%llu", (unsigned long long)c->ticket);
    json_t *res = json_pack("{s:[{s:s,s:{s:s,s:s,s:s}}]}", "content", "type", "resource", "resource", "uri", uri,
                            "mimeType", "application/octet-stream", "blob", b64);
    free(b64);
    return res;
  }
  json_t *text = text_content(r, n);
  if (!text) return mcp_tool_error("the tool's result is not valid UTF-8 text");
  json_t *res = json_pack("{s:[o]}", "content", text);
  if (res && c->content_type == CNV_CONTENT_JSON) {
    json_error_t jerr;
    json_t *doc = mcp_json_load((const char *)r, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    if (!doc && json_error_code(&jerr) == json_error_numeric_overflow) {
      /* valid JSON that jansson cannot hold exactly (an integer past int64): the text
       * carries it exactly, so it goes as text alone, without structuredContent (which
       * would round it). Reading integers as doubles only tells whether the rest is JSON. */
      json_error_t again;
      json_t *check = mcp_json_load((const char *)r, n,
                                    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL,
                                    &again);
      if (check) {
        json_decref(check);
        return res;
      }
    }
    if (!doc) {
      json_decref(res);
      return mcp_tool_error("the tool's result is not valid JSON: %s", jerr.text);
    }
    /* structuredContent came with 2025-06-18: before it, the text alone carries the JSON */
    if (json_is_object(doc) && mcp_revision_at_least(s, "2025-06-18")) {
      if (json_object_set_new(res, "structuredContent", doc) != 0) {
        json_decref(res);
        return NULL;
      }
    } else {
      json_decref(doc);
    }
  }
  return res;
}

static json_t *failure_result(const mcp_call *c) {
  const char *what = c->kind == CNV_DONE_EXPIRED     ? "expired"
                     : c->kind == CNV_DONE_CANCELLED ? "cancelled"
                     : c->kind == CNV_DONE_NOT_RUN   ? "not run"
                                                     : "failed";
  json_t *res = mcp_tool_error("%s: %s (%s)", what, cnv_strerror(c->status), cnv_status_name(c->status));
  if (!res || c->result_len == 0 || c->content_type == CNV_CONTENT_BINARY) return res;
  json_t *text = text_content(c->result, c->result_len);
  /* a result that is not UTF-8 is left out of the error: the status says what happened */
  if (text) (void)json_array_append_new(json_object_get(res, "content"), text);
  return res;
}

void mcp_call_finish(cnv_mcp_session *s, uint32_t slot) {
  mcp_call *c = &s->calls[slot];
  if (c->state == MCP_CALL_RUNNING && !s->quiet) {
    json_t *res = c->kind == CNV_DONE_RAN && c->status == CNV_OK ? ok_result(s, c) : failure_result(c);
    mcp_reply(s, c->origin, c->id, res);
  }
  if (s->on_call_done) s->on_call_done(s->call_done_ctx, c->tool, c->kind, c->status);
  json_decref(c->id);
  json_decref(c->progress_token);
  c->id = NULL;
  c->progress_token = NULL;
  c->state = MCP_CALL_FREE;
  s->free_slots[s->n_free++] = slot;
  s->in_flight--;
}
