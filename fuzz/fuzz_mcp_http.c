/* fuzz_mcp_http: sequences of HTTP requests through the Streamable HTTP router (no sockets)
 * with real MCP sessions over a started runtime (t.echo answers its line; t.hold waits for
 * its cancel flag, so a call stays open until the input aborts it or the session ends).
 *
 * Input: records separated by "%%\n" (anywhere). A record is either a command line:
 *   !abort    the client of the oldest waiting or streaming exchange leaves
 *   !tick     20 ms pass on the router's clock (expiry); every session is polled until no
 *             exchange waits any more, for up to about 20 ms of real time
 * or a request:
 *   METHOD PATH\n
 *   Name: value\n        any number of headers (Mcp-Session-Id, MCP-Protocol-Version,
 *                        Origin, Accept, Content-Type, X-Peer); a value "$SID" is the last
 *                        session id handed out, "$SID2" the one before it
 *   \n
 *   body                 the rest of the record
 * Per request the exchange must be well formed: a status from the documented set, MH_DONE
 * with a body only with a content type, a session id header only on a 200, a stream only as
 * 200 text/event-stream of whole "event: message" records. Exchanges still open at the end
 * are released (aborted), then the router is destroyed: every session ends, every call is
 * cancelled and waited for; nothing may leak (ASan). Failures abort. CNV_FUZZ_TRACE=1 prints
 * each exchange as it is handed out or changes. */
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include <cnv/mcp_http.h>
#include <cnv/runtime.h>

#include "mcp_http/router.h"
#include "support/forge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SWARM 9u
#define MAX_OPEN 16

static struct {
  bool ready;
  cnv_runtime *rt;
  uint32_t agent;
} R;

static void check(bool ok, const char *what) {
  if (ok) return;
  fprintf(stderr, "fuzz_mcp_http: %s\n", what);
  abort();
}

static cnv_status h_echo(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  return cnv_runtime_result_write(r, c->line, c->line_len);
}

/* Holds until cancelled (every call is cancelled by the input's end at the latest). */
static cnv_status h_hold(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  while (!cnv_runtime_call_cancelled(c)) sched_yield();
  return CNV_ERT_CANCELLED;
}

static void finish(void) {
  if (!R.ready) return;
  check(cnv_runtime_stop(R.rt, 10000000000ull) == CNV_OK, "stop");
  cnv_runtime_destroy(R.rt);
  R.ready = false;
}

static void init(void) {
  if (R.ready) return;
  check(sodium_init() >= 0, "sodium");
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.workers = 2;
  cfg.queue_capacity = 64;
  cfg.swarm_id = SWARM;
  cfg.max_result = 256;
  check(cnv_runtime_create(&cfg, &R.rt) == CNV_OK, "create");
  tkey root;
  tkey_make(&root, 0x31);
  check(cnv_runtime_trust_add(R.rt, root.pk) == CNV_OK, "trust");
  cnv_runtime_handler_spec echo = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = h_echo};
  cnv_runtime_handler_spec hold = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_BATCH, .fn = h_hold};
  check(cnv_runtime_register(R.rt, "t.echo", 6, &echo) == CNV_OK, "register echo");
  check(cnv_runtime_register(R.rt, "t.hold", 6, &hold) == CNV_OK, "register hold");
  check(agent_add_allowing(R.rt, root.sk, 0x32, SWARM, "t.*", CNV_EFFECTS_ALL, &R.agent) == CNV_OK, "agent");
  check(cnv_runtime_start(R.rt) == CNV_OK, "start");
  R.ready = true;
  atexit(finish);
}

static bool status_known(unsigned s) {
  static const unsigned ok[] = {200, 202, 400, 403, 404, 405, 406, 409, 413, 415, 500, 503};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    if (ok[i] == s) return true;
  }
  return false;
}

static void check_exchange(const mh_exchange *ex) {
  const char *trace = getenv("CNV_FUZZ_TRACE");
  if (trace && trace[0] == '1') {
    fprintf(stderr, "state %d status %u %.*s\n", (int)ex->state, ex->status, (int)(ex->len - ex->off),
            ex->buf ? ex->buf + ex->off : "");
  }
  if (ex->state == MH_WAIT) return;
  check(status_known(ex->status), "unknown status");
  check(ex->off <= ex->len && ex->len <= ex->cap, "buffer bounds");
  if (ex->state == MH_DONE) {
    check(ex->len == 0 || ex->content_type != NULL, "a body without a content type");
    check(ex->session_id[0] == '\0' || ex->status == 200, "a session id on a refusal");
    if (ex->status == 202) check(ex->len == 0, "202 with a body");
  } else {
    check(ex->status == 200 && strcmp(ex->content_type, "text/event-stream") == 0, "stream type");
    size_t n = ex->len - ex->off;
    check(n == 0 || (n >= 2 && memcmp(ex->buf + ex->len - 2, "\n\n", 2) == 0), "a cut event");
  }
}

/* Copies the line [p, end) into out (NUL added, cut to cap); returns the next line. */
static const char *line_of(const char *p, const char *end, char *out, size_t cap) {
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  const char *e = nl ? nl : end;
  size_t n = (size_t)(e - p);
  if (n >= cap) n = cap - 1;
  memcpy(out, p, n);
  out[n] = '\0';
  return nl ? nl + 1 : end;
}

typedef struct state {
  mh_router *r;
  mh_exchange *open[MAX_OPEN];
  size_t n_open;
  char sid[2][CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  uint64_t now;
} state;

static void settle(state *st) {
  for (mh_exchange *ex; (ex = mh_router_next_changed(st->r)) != NULL;) check_exchange(ex);
  /* Exchanges done are released (sent); waiting and streaming ones stay open. */
  size_t k = 0;
  for (size_t i = 0; i < st->n_open; i++) {
    mh_exchange *ex = st->open[i];
    if (ex->state == MH_DONE || (ex->state == MH_STREAM && ex->finished)) {
      mh_router_release(st->r, ex);
    } else {
      st->open[k++] = ex;
    }
  }
  st->n_open = k;
}

/* True while an open exchange waits for its call (t.echo answers within a tick's polls;
 * t.hold never does). */
static bool waiting(const state *st) {
  for (size_t i = 0; i < st->n_open; i++) {
    if (st->open[i]->state == MH_WAIT) return true;
  }
  return false;
}

static void request(state *st, const char *p, const char *end) {
  char first[128], method[16] = "", path[96] = "";
  p = line_of(p, end, first, sizeof first);
  if (sscanf(first, "%15s %95s", method, path) != 2) return;
  char vals[6][128];
  const char *names[6] = {"Mcp-Session-Id", "MCP-Protocol-Version", "Origin", "Accept", "Content-Type", "X-Peer"};
  bool have[6] = {false};
  char h[160];
  while (p < end) {
    p = line_of(p, end, h, sizeof h);
    if (h[0] == '\0') break;
    char *colon = strchr(h, ':');
    if (!colon) continue;
    *colon = '\0';
    const char *v = colon + 1;
    while (*v == ' ') v++;
    for (int i = 0; i < 6; i++) {
      if (strcasecmp(h, names[i]) != 0) continue;
      if (strcmp(v, "$SID") == 0) v = st->sid[0];
      if (strcmp(v, "$SID2") == 0) v = st->sid[1];
      snprintf(vals[i], sizeof vals[i], "%s", v);
      have[i] = true;
    }
  }
  mh_request q = {
      .method = method,
      .path = path,
      .session_id = have[0] ? vals[0] : NULL,
      .protocol_version = have[1] ? vals[1] : NULL,
      .origin = have[2] ? vals[2] : NULL,
      .accept = have[3] ? vals[3] : NULL,
      .content_type = have[4] ? vals[4] : NULL,
      .peer = have[5] ? vals[5] : "127.0.0.1",
      .body = p,
      .body_len = (size_t)(end - p),
  };
  mh_exchange *ex = NULL;
  check(mh_router_handle(st->r, &q, st->now, &ex) == CNV_OK && ex, "handle");
  check_exchange(ex);
  if (ex->session_id[0]) {
    memcpy(st->sid[1], st->sid[0], sizeof st->sid[0]);
    memcpy(st->sid[0], ex->session_id, sizeof st->sid[0]);
  }
  if (st->n_open == MAX_OPEN) {
    mh_router_release(st->r, st->open[0]);
    memmove(st->open, st->open + 1, (MAX_OPEN - 1) * sizeof st->open[0]);
    st->n_open--;
  }
  st->open[st->n_open++] = ex;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init();
  mh_config cfg = {
      .mcp = {.rt = R.rt, .agent = R.agent, .max_in_flight = 8},
      .path = "/mcp",
      .max_sessions = 4,
      .max_sessions_per_peer = 3,
      .max_body = 4096,
      .session_idle_ms = 50,
  };
  state st = {.now = 1000};
  check(mh_router_create(&cfg, &st.r) == CNV_OK, "router");
  const char *p = (const char *)data, *end = p + size;
  int records = 0;
  while (p < end && records++ < 64) {
    const char *sep = NULL;
    for (const char *q = p; q + 3 <= end; q++) {
      if (memcmp(q, "%%\n", 3) == 0) {
        sep = q;
        break;
      }
    }
    const char *rec_end = sep ? sep : end;
    if (rec_end - p >= 6 && memcmp(p, "!abort", 6) == 0) {
      if (st.n_open > 0) mh_router_abort(st.r, st.open[0]);
    } else if (rec_end - p >= 5 && memcmp(p, "!tick", 5) == 0) {
      st.now += 20;
      for (int i = 0; i < 200; i++) {
        mh_router_tick(st.r, st.now);
        settle(&st);
        if (!waiting(&st)) break;
        usleep(100);
      }
    } else {
      request(&st, p, rec_end);
    }
    settle(&st);
    p = sep ? sep + 3 : end;
  }
  for (size_t i = 0; i < st.n_open; i++) mh_router_release(st.r, st.open[i]);
  mh_router_destroy(st.r);
  return 0;
}
