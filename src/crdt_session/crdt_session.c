/* CRDT replication over a session (docs/crdt.md "Over a session"): the replicator's transport
 * seals each message as a CNV_MSG_REPLICATION frame into an outbox; delivered REPLICATION
 * events go to the replicator as the peer's messages. */
#include <stdlib.h>
#include <string.h>

#include <cnv/crdt_session.h>

#define DEFAULT_MAX_MESSAGE 65536u

struct cnv_crdt_session {
  cnv_session *session;
  uint64_t peer;
  uint32_t max_message;
  uint64_t (*now_ns)(void *ctx);
  void *clock_ctx;
  cnv_crdt_session_stats stats;
  size_t cap, head, len; /* outbox: bytes [head, head + len) of buf */
  uint8_t buf[];
};

cnv_status cnv_crdt_session_create(const cnv_crdt_session_config *cfg, cnv_crdt_session **out) {
  if (!cfg || !out || !cfg->session || cfg->peer == 0) return CNV_EINVAL;
  *out = NULL;
  uint32_t max = cfg->max_message ? cfg->max_message : DEFAULT_MAX_MESSAGE;
  size_t cap = cfg->outbox ? cfg->outbox : 4 * (size_t)CNV_SESSION_SEAL_BOUND((size_t)max);
  if (cap < CNV_SESSION_SEAL_BOUND((size_t)max)) return CNV_ERANGE;
  cnv_crdt_session *a = malloc(sizeof *a + cap);
  if (!a) return CNV_ENOMEM;
  memset(a, 0, sizeof *a);
  a->session = cfg->session;
  a->peer = cfg->peer;
  a->max_message = max;
  a->now_ns = cfg->now_ns;
  a->clock_ctx = cfg->clock_ctx;
  a->cap = cap;
  *out = a;
  return CNV_OK;
}

void cnv_crdt_session_destroy(cnv_crdt_session *a) { free(a); }

cnv_crdt_transport cnv_crdt_session_transport(cnv_crdt_session *a) {
  cnv_crdt_transport t = {.send = cnv_crdt_session_send, .ctx = a};
  return t;
}

static cnv_status send_sealed(cnv_crdt_session *a, uint64_t to, const uint8_t *msg, size_t len) {
  if (to != 0 && to != a->peer) return CNV_OK; /* another replica's: not this link's */
  if (len == 0 || len > a->max_message) return CNV_ERANGE;
  if (a->cap - a->len < CNV_SESSION_SEAL_BOUND(len)) return CNV_EFULL;
  if (a->head + a->len + CNV_SESSION_SEAL_BOUND(len) > a->cap) { /* compact to the front */
    memmove(a->buf, a->buf + a->head, a->len);
    a->head = 0;
  }
  uint64_t now = a->now_ns ? a->now_ns(a->clock_ctx) : 0;
  size_t w = 0;
  cnv_status st = cnv_session_seal(a->session, CNV_MSG_REPLICATION, 0, msg, len, now, a->buf + a->head + a->len,
                                   a->cap - a->head - a->len, &w);
  if (st != CNV_OK) return st;
  a->len += w;
  a->stats.sealed++;
  a->stats.bytes_sealed += w;
  return CNV_OK;
}

cnv_status cnv_crdt_session_send(void *adapter, uint64_t to, const uint8_t *msg, size_t len) {
  cnv_crdt_session *a = adapter;
  if (!a || (!msg && len)) return CNV_EINVAL;
  cnv_status st = send_sealed(a, to, msg, len);
  if (st != CNV_OK) a->stats.send_refused++;
  return st;
}

cnv_status cnv_crdt_session_pull(cnv_crdt_session *a, void *out, size_t cap, size_t *written) {
  if (!a || !written || (!out && cap)) return CNV_EINVAL;
  size_t n = cap < a->len ? cap : a->len;
  if (n) memcpy(out, a->buf + a->head, n);
  a->head += n;
  a->len -= n;
  if (a->len == 0) a->head = 0;
  *written = n;
  return CNV_OK;
}

size_t cnv_crdt_session_pending(const cnv_crdt_session *a) { return a ? a->len : 0; }

cnv_status cnv_crdt_session_deliver(cnv_crdt_session *a, cnv_crdt_repl *repl, const cnv_session_event *ev) {
  if (!a || !repl || !ev || ev->kind != CNV_SESSION_EV_MESSAGE || ev->type != CNV_MSG_REPLICATION ||
      (!ev->data && ev->len))
    return CNV_EINVAL;
  if (ev->len == 0 || ev->len > a->max_message) {
    a->stats.malformed++;
    return CNV_ECRDT_MALFORMED;
  }
  cnv_status st = cnv_crdt_repl_receive(repl, a->peer, ev->data, ev->len);
  if (st == CNV_ECRDT_MALFORMED) a->stats.malformed++;
  if (st == CNV_OK) a->stats.delivered++;
  return st;
}

void cnv_crdt_session_stats_get(const cnv_crdt_session *a, cnv_crdt_session_stats *out) {
  if (!out) return;
  if (!a) {
    memset(out, 0, sizeof *out);
    return;
  }
  *out = a->stats;
}
