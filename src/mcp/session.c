/* A session's life: create, message intake (JSON-RPC 2.0 checks), the lifecycle methods
 * (initialize, ping), poll, close and destroy (mcp.h). */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cnv/version.h>

#include "core/atomic.h"
#include "core/ignore.h"
#include "mcp_internal.h"

static char *dup_or_null(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

cnv_status cnv_mcp_session_create(const cnv_mcp_config *cfg, cnv_mcp_session **out) {
  if (!cfg || !out || !cfg->rt || !cfg->emit) return CNV_EINVAL;
  if (cfg->page_size > MCP_MAX_PAGE || cfg->max_in_flight > MCP_MAX_IN_FLIGHT) return CNV_ERANGE;
  if (cfg->max_message > ((size_t)1 << 30)) return CNV_ERANGE;
  *out = NULL;
  cnv_mcp_session *s = calloc(1, sizeof *s);
  if (!s) return CNV_ENOMEM;
  s->efd = -1;
  atomic_init(&s->callbacks, 0);
  s->rt = cfg->rt;
  s->agent = cfg->agent;
  s->page_size = cfg->page_size ? cfg->page_size : MCP_DEFAULT_PAGE;
  s->max_in_flight = cfg->max_in_flight ? cfg->max_in_flight : MCP_DEFAULT_IN_FLIGHT;
  s->max_message = cfg->max_message ? cfg->max_message : MCP_DEFAULT_MESSAGE;
  s->emit = cfg->emit;
  s->emit_ctx = cfg->emit_ctx;
  s->on_call_done = cfg->on_call_done;
  s->call_done_ctx = cfg->call_done_ctx;
  s->max_result = cnv_runtime_max_result(cfg->rt);
  s->server_name = dup_or_null(cfg->server_name ? cfg->server_name : "libcnv");
  s->server_version = dup_or_null(cfg->server_version ? cfg->server_version : CNV_VERSION_STRING);
  s->instructions = dup_or_null(cfg->instructions);
  s->calls = calloc(s->max_in_flight, sizeof *s->calls);
  s->free_slots = calloc(s->max_in_flight, sizeof *s->free_slots);
  s->line = malloc(MCP_LINE_CAP);
  s->args = calloc(MCP_MAX_ARGS, sizeof *s->args);
  cnv_status st = CNV_ENOMEM;
  if (!s->server_name || !s->server_version || (cfg->instructions && !s->instructions) || !s->calls ||
      !s->free_slots || !s->line || !s->args) {
    goto fail;
  }
  for (uint32_t i = 0; i < s->max_in_flight; i++) {
    s->calls[i].result = malloc(s->max_result ? s->max_result : 1);
    if (!s->calls[i].result) goto fail;
    s->free_slots[s->n_free++] = s->max_in_flight - 1 - i;
  }
  /* each slot completes once per use, so the done ring never fills */
  st = mcp_ring_init(&s->done, s->max_in_flight, sizeof(uint32_t));
  if (st != CNV_OK) goto fail;
  size_t prog = (size_t)s->max_in_flight * MCP_PROGRESS_PER_CALL;
  st = mcp_ring_init(&s->progress, prog < 64 ? 64 : prog, sizeof(mcp_progress_rec));
  if (st != CNV_OK) goto fail;
  s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->efd < 0) {
    st = CNV_EIO;
    goto fail;
  }
  *out = s;
  return CNV_OK;
fail:
  s->state = MCP_CLOSED;
  cnv_mcp_session_destroy(s);
  return st;
}

int cnv_mcp_session_fd(const cnv_mcp_session *s) { return s ? s->efd : -1; }

uint32_t cnv_mcp_session_in_flight(const cnv_mcp_session *s) { return s ? s->in_flight : 0; }

/* ---- intake ---- */

/* Whether v nests deeper than `left` levels (a scalar is one level). Stops descending as
 * soon as the budget is spent, so the walk is as deep as the limit, not as the input. */
static bool too_deep(json_t *v, unsigned left) {
  if (left == 0) return true;
  if (json_is_object(v)) {
    const char *key;
    json_t *child;
    json_object_foreach(v, key, child) {
      if (too_deep(child, left - 1)) return true;
    }
  } else if (json_is_array(v)) {
    size_t i;
    json_t *child;
    json_array_foreach(v, i, child) {
      if (too_deep(child, left - 1)) return true;
    }
  }
  return false;
}

static void initialize(cnv_mcp_session *s, uint64_t origin, json_t *id, json_t *params) {
  if (s->state != MCP_NEW) {
    mcp_reply_error(s, origin, id, MCP_INVALID_REQUEST, "Invalid Request: already initialized");
    return;
  }
  json_t *asked = json_object_get(params, "protocolVersion");
  if (!json_is_string(asked)) {
    mcp_reply_error(s, origin, id, MCP_INVALID_PARAMS, "Invalid params: protocolVersion must be a string");
    return;
  }
  /* the client's revision when we speak it, else our newest (the client then decides) */
  const char *list = CNV_MCP_PROTOCOL_VERSIONS;
  size_t newest = (size_t)(strchr(list, ',') ? strchr(list, ',') - list : (ptrdiff_t)strlen(list));
  memcpy(s->version, list, newest);
  s->version[newest] = '\0';
  const char *v = json_string_value(asked);
  size_t vlen = json_string_length(asked);
  for (const char *p = list; *p;) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == vlen && n < sizeof s->version && memcmp(p, v, n) == 0) {
      memcpy(s->version, p, n);
      s->version[n] = '\0';
      break;
    }
    p += n + (end ? 1 : 0);
  }
  json_t *res = json_pack("{s:s,s:{s:{s:b}},s:{s:s,s:s}}", "protocolVersion", s->version, "capabilities", "tools",
                          "listChanged", 1, "serverInfo", "name", s->server_name, "version", s->server_version);
  if (res && s->instructions) {
    json_t *ins = json_string(s->instructions);
    if (ins) (void)json_object_set_new(res, "instructions", ins);
    /* an instruction text that is not UTF-8 or does not fit is left out: the handshake
     * matters more than the hint */
  }
  s->state = MCP_INITIALIZED;
  mcp_reply(s, origin, id, res);
}

static bool valid_id(const json_t *id) { return json_is_string(id) || json_is_number(id); }

cnv_status cnv_mcp_session_receive(cnv_mcp_session *s, const char *msg, size_t len, uint64_t origin) {
  if (!s || (!msg && len > 0)) return CNV_EINVAL;
  if (s->state == MCP_CLOSED) return CNV_ESTATE;
  if (len > s->max_message) {
    mcp_reply_error(s, origin, NULL, MCP_INVALID_REQUEST, "Invalid Request: message too large");
    return CNV_OK;
  }
  json_error_t jerr;
  json_t *root = mcp_json_load(msg, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
  if (!root) {
    mcp_reply_error(s, origin, NULL, MCP_PARSE_ERROR, "Parse error");
    return CNV_OK;
  }
  if (too_deep(root, CNV_MCP_MAX_DEPTH)) {
    mcp_reply_error(s, origin, NULL, MCP_PARSE_ERROR, "Parse error: nested too deeply");
    json_decref(root);
    return CNV_OK;
  }
  if (!json_is_object(root)) {
    mcp_reply_error(s, origin, NULL, MCP_INVALID_REQUEST,
                    json_is_array(root) ? "Invalid Request: batches are not supported"
                                        : "Invalid Request: not an object");
    json_decref(root);
    return CNV_OK;
  }
  json_t *id = json_object_get(root, "id");
  json_t *method = json_object_get(root, "method");
  json_t *params = json_object_get(root, "params");
  bool is_request = id != NULL;
  json_t *reply_id = valid_id(id) ? id : NULL;
  if (!mcp_string_is(json_object_get(root, "jsonrpc"), "2.0")) {
    if (is_request || !method) mcp_reply_error(s, origin, reply_id, MCP_INVALID_REQUEST, "Invalid Request: jsonrpc must be \"2.0\"");
    goto done;
  }
  if (!method) {
    /* a response (the session sends no requests, so there is nothing it answers) */
    if (!json_object_get(root, "result") && !json_object_get(root, "error")) {
      mcp_reply_error(s, origin, reply_id, MCP_INVALID_REQUEST, "Invalid Request: no method");
    }
    goto done;
  }
  if (!json_is_string(method) || (is_request && !valid_id(id)) ||
      (params && !json_is_object(params) && !json_is_array(params))) {
    mcp_reply_error(s, origin, reply_id, MCP_INVALID_REQUEST, "Invalid Request");
    goto done;
  }
  if (!is_request) {
    /* notifications: never answered, errors included */
    if (mcp_string_is(method, "notifications/cancelled")) {
      if (json_is_object(params)) mcp_cancelled(s, params);
    }
    /* notifications/initialized and any other notification: nothing to do */
    goto done;
  }
  if (json_is_string(id) && json_string_length(id) > CNV_MCP_MAX_ID) {
    /* a call in flight keeps its id: a long one would pin max_message bytes per slot */
    mcp_reply_error(s, origin, id, MCP_INVALID_REQUEST, "Invalid Request: id too long");
    goto done;
  }
  for (uint32_t i = 0; i < s->max_in_flight; i++) {
    /* a second request with the id of a call in flight (whatever its method) would get a
     * response the client cannot tell from the call's */
    if (s->calls[i].state == MCP_CALL_RUNNING && mcp_id_equal(s->calls[i].id, id)) {
      mcp_reply_error(s, origin, id, MCP_INVALID_REQUEST, "Invalid Request: id already used by a call in flight");
      goto done;
    }
  }
  if (params && !json_is_object(params)) {
    mcp_reply_error(s, origin, id, MCP_INVALID_PARAMS, "Invalid params: params must be an object");
    goto done;
  }
  if (mcp_string_is(method, "ping")) {
    mcp_reply(s, origin, id, json_object());
  } else if (mcp_string_is(method, "initialize")) {
    initialize(s, origin, id, params);
  } else if (s->state != MCP_INITIALIZED) {
    mcp_reply_error(s, origin, id, MCP_INVALID_REQUEST, "Invalid Request: not initialized");
  } else if (mcp_string_is(method, "tools/list")) {
    mcp_tools_list(s, origin, id, params);
  } else if (mcp_string_is(method, "tools/call")) {
    mcp_tools_call(s, origin, id, params);
  } else {
    mcp_reply_error(s, origin, id, MCP_METHOD_NOT_FOUND, "Method not found");
  }
done:
  json_decref(root);
  return CNV_OK;
}

/* ---- poll ---- */

static void drain_eventfd(int fd) {
  uint64_t v;
  /* a failed read (EAGAIN: nothing signalled) leaves nothing to reset */
  while (read(fd, &v, sizeof v) < 0 && errno == EINTR) {
  }
}

static void emit_progress(cnv_mcp_session *s, const mcp_progress_rec *r) {
  uint32_t slot = (uint32_t)r->correlation;
  uint32_t gen = (uint32_t)(r->correlation >> 32);
  if (slot >= s->max_in_flight) return;
  mcp_call *c = &s->calls[slot];
  /* a report of a call already answered or cancelled is dropped */
  if (c->state != MCP_CALL_RUNNING || c->gen != gen || !c->progress_token) return;
  json_t *p = json_pack("{s:O,s:f}", "progressToken", c->progress_token, "progress", r->progress);
  /* total and message are optional: without memory for them the numbers still go */
  if (p && r->total > 0) (void)json_object_set_new(p, "total", json_real(r->total));
  if (p && r->message_len > 0) {
    json_t *m = mcp_string(r->message, r->message_len);
    /* a message that is not UTF-8 is left out: the numbers still go */
    if (m) (void)json_object_set_new(p, "message", m);
  }
  json_t *msg = p ? json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method", "notifications/progress", "params", p)
                  : NULL;
  if (msg) mcp_emit(s, c->origin, msg);
  /* no memory for a progress notification: it is dropped (progress is advisory) */
}

cnv_status cnv_mcp_session_poll(cnv_mcp_session *s, size_t *emitted) {
  if (!s) return CNV_EINVAL;
  size_t n = 0;
  drain_eventfd(s->efd);
  /* progress first: a report pushed before its call's completion goes out before the
   * response; one that arrives after it is dropped by emit_progress */
  /* at most one ring's worth of reports per drain: a handler that keeps reporting while this
   * thread writes them out cannot hold a poll forever; what is left waits for the next poll,
   * which the wake below (or a later report's) makes happen */
  size_t budget = s->progress.mask + 1;
  mcp_progress_rec rec;
  size_t k = 0;
  for (; k < budget && mcp_ring_pop(&s->progress, &rec); k++) {
    if (!s->quiet) n++;
    emit_progress(s, &rec);
  }
  if (k == budget) mcp_session_wake(s);
  uint32_t slot;
  while (mcp_ring_pop(&s->done, &slot)) {
    /* a worker pushes a call's reports before its completion, so taking the completion
     * (acquire) makes them visible: those pushed after the drain above go out now, before
     * the response, rather than being dropped as late (at most a ring's worth: all of one
     * call's fit in it) */
    for (k = 0; k < budget && mcp_ring_pop(&s->progress, &rec); k++) {
      if (!s->quiet) n++;
      emit_progress(s, &rec);
    }
    if (!s->quiet && s->calls[slot].state == MCP_CALL_RUNNING) n++;
    mcp_call_finish(s, slot);
  }
  if (s->state == MCP_INITIALIZED && !s->quiet && s->list_armed &&
      cnv_runtime_registry_generation(s->rt) != s->list_generation) {
    s->list_armed = false;
    json_t *msg = json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", "notifications/tools/list_changed");
    if (msg) {
      mcp_emit(s, 0, msg);
      n++;
    }
  }
  if (emitted) *emitted = n;
  return CNV_OK;
}

/* ---- close and destroy ---- */

/* Cancels every call in flight and waits up to timeout_ms (UINT32_MAX: no limit) for their
 * completions; true when none is left. */
static bool cancel_and_wait(cnv_mcp_session *s, uint32_t timeout_ms) {
  for (uint32_t i = 0; i < s->max_in_flight; i++) {
    mcp_call *c = &s->calls[i];
    if (c->state == MCP_CALL_RUNNING) {
      c->state = MCP_CALL_CANCELLED;
      /* CNV_ENOTFOUND: it completed already (its index is in the done ring) */
      cnv__ignore_status(cnv_runtime_cancel(s->rt, c->ticket));
    }
  }
  uint64_t deadline = cnv_runtime_now_ns() + (uint64_t)timeout_ms * 1000000ull;
  for (;;) {
    cnv__ignore_status(cnv_mcp_session_poll(s, NULL)); /* quiet: frees the slots only */
    if (s->in_flight == 0) return true;
    int wait = 1000;
    if (timeout_ms != UINT32_MAX) {
      uint64_t now = cnv_runtime_now_ns();
      if (now >= deadline) return false;
      uint64_t left_ms = (deadline - now) / 1000000ull + 1;
      if (left_ms < 1000) wait = (int)left_ms;
    }
    struct pollfd p = {.fd = s->efd, .events = POLLIN};
    /* EINTR or a timeout: go round, the deadline check ends the wait */
    (void)poll(&p, 1, wait);
  }
}

cnv_status cnv_mcp_session_close(cnv_mcp_session *s, uint32_t timeout_ms) {
  if (!s) return CNV_EINVAL;
  s->state = MCP_CLOSED;
  s->quiet = true;
  return cancel_and_wait(s, timeout_ms) ? CNV_OK : CNV_EAGAIN;
}

void cnv_mcp_session_destroy(cnv_mcp_session *s) {
  if (!s) return;
  if (s->calls && s->efd >= 0) {
    s->state = MCP_CLOSED;
    s->quiet = true;
    /* no completion may reach freed memory: wait as long as the calls run, then for the
     * last callbacks to leave (they are past their push: a few instructions) */
    cnv__ignore_status(cancel_and_wait(s, UINT32_MAX) ? CNV_OK : CNV_EAGAIN);
    while (cnv__load_acquire(&s->callbacks) != 0) sched_yield();
  }
  if (s->calls) {
    for (uint32_t i = 0; i < s->max_in_flight; i++) {
      json_decref(s->calls[i].id);
      json_decref(s->calls[i].progress_token);
      free(s->calls[i].result);
    }
  }
  free(s->calls);
  free(s->free_slots);
  mcp_ring_free(&s->done);
  mcp_ring_free(&s->progress);
  if (s->efd >= 0) close(s->efd);
  free(s->line);
  free(s->args);
  free(s->server_name);
  free(s->server_version);
  free(s->instructions);
  free(s);
}
