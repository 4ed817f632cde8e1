/* The swarm client (include/cnv/nats.h, docs/nats.md "Client"): one NATS connection, one
 * handshake with any node of the swarm (HELLO as a NATS request on "cnv.S.hs", the WELCOME's
 * node token checked against the client's trust roots), then sealed REQUESTs published on the
 * capabilities' subjects with the reply subject "cnv.S.s.SID.r.R", and their answers read from
 * one synchronous subscription "cnv.S.s.SID.>" (replies and the once stream's stored answers),
 * so every callback runs on the thread in poll, call or close.
 *
 * Calls sit in a table of a power of two (at least twice max_in_flight) entries indexed by the
 * request id's low bits: an answer finds its call in one step, and a new id skips those whose
 * entry is still busy (ids stay unique and increasing). Each unanswered call holds one of
 * max_in_flight line buffers (its line, kept to reseal it on every retry: a retry carries a new
 * sequence number and time, the same request id). Everything is allocated at connect.
 *
 * The session's ticket goes with its first send only: a node that holds the session (opened
 * from that ticket) needs no more. A node that does not (another node of the queue group, a
 * restart, an eviction) answers a plain REFUSAL CNV_ESW_NO_SESSION, and the call is sent
 * again at once with the ticket, from then on always with it. */
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>
#include <sodium.h>

#include <cnv/delegation.h>
#include <cnv/nats.h>
#include <cnv/protocol.h>
#include <cnv/session.h>

#include "core/clock.h"
#include "core/ignore.h"
#include "reply.h"
#include "servers.h"

#define NC_DEFAULT_CONNECT_MS 10000u
#define NC_DEFAULT_ATTEMPT_MS 2000u
#define NC_DEFAULT_CALL_MS 30000u
#define NC_DEFAULT_IN_FLIGHT 256u
#define NC_MAX_IN_FLIGHT 65536u
#define NC_DEFAULT_MESSAGE 65536u
#define NC_MAX_MESSAGE (16u << 20)
#define NC_MIN_MESSAGE 256u
#define NC_BACKOFF_MAX 8u      /* an attempt's wait doubles up to this many times the first */
#define NC_PAYLOAD_EXTRA 256u  /* INVOCATION and RESPONSE payload headers, a traceparent */
#define NC_LINE_ARGS 256u      /* arguments the client's parse of a line takes */
#define NC_DRAIN_PER_POLL 256u /* messages one poll reads before it returns */
#define NC_NO_RESPONDER_WAIT_MS 50u
/* What the session's subscription keeps unread: answers per call in flight (a reply, the stored
 * answer, a retry's), spare ones, and an answer's size beyond its result */
#define NC_PENDING_PER_CALL 4
#define NC_PENDING_SPARE 64
#define NC_ANSWER_OVERHEAD 1024

typedef struct nc_call {
  uint64_t id; /* 0: the entry is free */
  cnv_nats_done_fn fn;
  void *ctx;
  uint32_t deadline_ms;
  uint32_t attempts;
  uint32_t wait_ms;     /* this attempt's wait before the next send */
  uint64_t start_ms;    /* monotonic: submit */
  uint64_t resend_ms;   /* monotonic: when the next attempt goes */
  cnv_status transient; /* the last refusal that a retry may get past (CNV_OK: none) */
  bool with_ticket;     /* a node lacked the session: this call's sends carry the ticket */
  bool no_session_sent; /* this attempt was sent again after a CNV_ESW_NO_SESSION already */
  uint32_t buf;         /* its line buffer */
  size_t line_len;
  char subject[CNV_SW_SUBJECT_MAX];
} nc_call;

struct cnv_nats_client {
  cnv_nats_client_config cfg; /* servers, key, token and trust point at the copies below */
  char *servers;
  uint8_t secret_key[CNV_SW_SECRET_BYTES];
  uint8_t public_key[CNV_SW_KEY_BYTES];
  uint8_t *token;
  cnv_deleg_verifier *verifier; /* the trust roots: a node's token must come from one */
  natsConnection *nc;
  natsSubscription *sub;
  /* the session */
  uint8_t sid[CNV_SW_SID_BYTES];
  uint8_t key_c2s[CNV_SW_SYM_BYTES], key_s2c[CNV_SW_SYM_BYTES];
  uint8_t ticket[CNV_SW_MAX_TICKET];
  size_t ticket_len;
  uint64_t ticket_expires_ms;      /* the ticket's end as its WELCOME says (wall clock) */
  bool ticket_sent;                /* a send of this session carried the ticket */
  char prefix[CNV_SW_SUBJECT_MAX]; /* "cnv.S.s.SID." */
  size_t prefix_len;
  bool rehandshake;      /* a node said the ticket expired: handshake again, resend all */
  uint64_t handshake_ms; /* monotonic: when the last handshake was tried */
  uint64_t seq;          /* the session's last sequence number */
  /* the last capability path submitted and its subject: a run of calls to one capability
   * writes its subject once */
  char last_path[CNV_SW_SUBJECT_MAX];
  size_t last_path_len; /* 0: none */
  char last_subject[CNV_SW_SUBJECT_MAX];
  uint64_t next_id; /* the last request id given */
  /* calls */
  nc_call *calls;
  uint32_t mask; /* entries - 1 */
  uint32_t in_flight;
  char *lines; /* max_in_flight buffers of max_message bytes */
  uint32_t *free_bufs;
  uint32_t n_free;
  uint32_t bufs_used; /* buffers 0..bufs_used-1 have held a line (the stack gives them in order) */
  /* scratch */
  cnv_arg *args;
  uint8_t *plain; /* an INVOCATION or RESPONSE payload */
  size_t plain_cap;
  uint8_t *out; /* a sealed REQUEST, or a HELLO */
  size_t out_cap;
  bool in_poll;
  bool closing; /* close is completing the calls: their callbacks may not submit */
};

/* ---- clocks ---- */

static uint64_t mono_ms(void) { return cnv__clock_ms(CLOCK_MONOTONIC); }
static uint64_t wall_ms(void) { return cnv__clock_ms(CLOCK_REALTIME); }

static void sleep_ms(uint32_t ms) {
  struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
  nanosleep(&ts, NULL);
}

static cnv_status from_nats(natsStatus s) {
  switch (s) {
    case NATS_OK:
      return CNV_OK;
    case NATS_NO_MEMORY:
      return CNV_ENOMEM;
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
      return CNV_ENATS_TIMEOUT;
    case NATS_INVALID_ARG:
      return CNV_EINVAL;
    default:
      return CNV_ENATS_CONNECT;
  }
}

/* ---- configuration ---- */

static cnv_status check_config(const cnv_nats_client_config *cfg) {
  if (!cfg || !cfg->servers || !cfg->servers[0] || cfg->swarm == 0 || !cfg->secret_key || !cfg->token ||
      cfg->token_len == 0 || !cfg->trust || cfg->n_trust == 0)
    return CNV_EINVAL;
  if (cfg->token_len > CNV_SW_MAX_TOKEN || cfg->max_in_flight > NC_MAX_IN_FLIGHT ||
      (cfg->max_message != 0 && (cfg->max_message < NC_MIN_MESSAGE || cfg->max_message > NC_MAX_MESSAGE)))
    return CNV_ERANGE;
  return CNV_OK;
}

static void apply_defaults(cnv_nats_client_config *cfg) {
  if (!cfg->connect_timeout_ms) cfg->connect_timeout_ms = NC_DEFAULT_CONNECT_MS;
  if (!cfg->attempt_timeout_ms) cfg->attempt_timeout_ms = NC_DEFAULT_ATTEMPT_MS;
  if (!cfg->call_timeout_ms) cfg->call_timeout_ms = NC_DEFAULT_CALL_MS;
  if (!cfg->max_in_flight) cfg->max_in_flight = NC_DEFAULT_IN_FLIGHT;
  if (!cfg->max_message) cfg->max_message = NC_DEFAULT_MESSAGE;
}

/* Copies what the configuration points at and makes the fixed buffers. */
static cnv_status client_alloc(cnv_nats_client *c, const cnv_nats_client_config *cfg) {
  c->cfg = *cfg;
  apply_defaults(&c->cfg);
  size_t slen = strlen(cfg->servers);
  c->servers = malloc(slen + 1);
  c->token = malloc(cfg->token_len);
  uint32_t entries = 2;
  while (entries < 2u * c->cfg.max_in_flight) entries <<= 1;
  c->mask = entries - 1;
  c->calls = calloc(entries, sizeof *c->calls);
  c->lines = malloc((size_t)c->cfg.max_in_flight * c->cfg.max_message);
  c->free_bufs = malloc((size_t)c->cfg.max_in_flight * sizeof *c->free_bufs);
  c->args = malloc(NC_LINE_ARGS * sizeof *c->args);
  c->plain_cap = (size_t)c->cfg.max_message + NC_PAYLOAD_EXTRA;
  c->plain = malloc(c->plain_cap);
  /* a REQUEST (ticket, payload, framing), and a HELLO (token, framing) */
  c->out_cap = CNV_SW_MAX_TICKET + c->plain_cap + CNV_SW_REQUEST_OVERHEAD + CNV_SW_MAX_TOKEN + 512u;
  c->out = malloc(c->out_cap);
  if (!c->servers || !c->token || !c->calls || !c->lines || !c->free_bufs || !c->args || !c->plain || !c->out)
    return CNV_ENOMEM;
  memcpy(c->servers, cfg->servers, slen + 1);
  memcpy(c->token, cfg->token, cfg->token_len);
  memcpy(c->secret_key, cfg->secret_key, CNV_SW_SECRET_BYTES);
  memcpy(c->public_key, cfg->secret_key + 32, CNV_SW_KEY_BYTES); /* libsodium: seed || public key */
  c->cfg.servers = c->servers;
  c->cfg.secret_key = c->secret_key;
  c->cfg.token = c->token;
  c->cfg.trust = NULL; /* held by the verifier */
  for (uint32_t i = 0; i < c->cfg.max_in_flight; i++) c->free_bufs[i] = c->cfg.max_in_flight - 1 - i;
  c->n_free = c->cfg.max_in_flight;
  return CNV_OK;
}

static cnv_status make_verifier(cnv_nats_client *c, const uint8_t *trust, size_t n_trust) {
  cnv_deleg_config dc;
  cnv_deleg_config_default(&dc);
  dc.cache_capacity = 16; /* a handful of node tokens, checked once per handshake */
  dc.cache_max_bytes = 1u << 20;
  dc.neg_cache_slots = 0;
  cnv_status st = cnv_deleg_verifier_create(&dc, &c->verifier);
  for (size_t i = 0; st == CNV_OK && i < n_trust; i++) st = cnv_deleg_trust_add(c->verifier, trust + 32 * i);
  return st;
}

static cnv_status nats_connect(cnv_nats_client *c) {
  natsOptions *o = NULL;
  natsStatus s = natsOptions_Create(&o);
  if (s == NATS_OK) s = natsn_set_servers(o, c->servers);
  if (s == NATS_OK) s = natsOptions_SetTimeout(o, c->cfg.connect_timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1); /* reconnect forever */
  /* each request goes out in submit's own write, not at the flusher thread's next wake-up
   * (a hand-off between threads per batch of requests: nats_invoke/cnv measures the gain) */
  if (s == NATS_OK) s = natsOptions_SetSendAsap(o, true);
  if (s == NATS_OK) s = natsConnection_Connect(&c->nc, o);
  natsOptions_Destroy(o);
  if (s == NATS_OK || s == NATS_NO_MEMORY || s == NATS_INVALID_ARG) return from_nats(s);
  return CNV_ENATS_CONNECT; /* no server reached (a timeout included) */
}

/* ---- the handshake ---- */

/* Whether the node's token comes from a trust root, is held by node_pk and allows swarm.serve
 * in this swarm: CNV_OK, CNV_ENATS_NOT_AUTHORIZED (it verifies but allows no such thing), or the
 * delegation code that refused it. */
static cnv_status check_node_token(cnv_nats_client *c, const cnv_sw_welcome *w) {
  cnv_deleg_cap cap;
  cnv_status st = cnv_deleg_cap_from_path(CNV_NATS_SERVE_CAPABILITY, strlen(CNV_NATS_SERVE_CAPABILITY), &cap);
  if (st != CNV_OK) return st;
  cnv_deleg_request req = {.now = wall_ms() / 1000u, .swarm = c->cfg.swarm, .holder = w->node_pk, .cap = &cap};
  st = cnv_deleg_verify(c->verifier, w->node_token, w->node_token_len, &req, NULL, NULL);
  if (st == CNV_EDELEG_NOT_ALLOWED || st == CNV_EDELEG_FORBIDDEN || st == CNV_EDELEG_WRONG_SWARM)
    return CNV_ENATS_NOT_AUTHORIZED;
  return st;
}

/* The session's id, the same on both sides: the first CNV_SW_SID_BYTES of the HELLO's hash
 * (docs/nats.md "Handshake"; the node puts it in the ticket it issues). */
static void session_id(const uint8_t hello_hash[CNV_SW_HASH_BYTES], uint8_t sid[CNV_SW_SID_BYTES]) {
  memcpy(sid, hello_hash, CNV_SW_SID_BYTES);
}

/* Subscribes to the session's subjects (after a handshake gave a new session id). */
static cnv_status subscribe(cnv_nats_client *c) {
  char all[CNV_SW_SUBJECT_MAX];
  cnv_status st = cnv_sw_subject_session(CNV_SW_SESS_ALL, c->cfg.swarm, c->sid, 0, all, sizeof all, NULL);
  if (st != CNV_OK) return st;
  size_t n = strlen(all); /* "cnv.S.s.SID.>": the prefix is all but the '>' */
  memcpy(c->prefix, all, n - 1);
  c->prefix[n - 1] = '\0';
  c->prefix_len = n - 1;
  if (c->sub) {
    /* the old session's answers are of no use any more (its calls are resent under the new
     * one); a failed unsubscribe (disconnected) leaves nothing to undo: the server forgets it */
    (void)natsSubscription_Unsubscribe(c->sub);
    natsSubscription_Destroy(c->sub);
    c->sub = NULL;
  }
  natsStatus s = natsConnection_SubscribeSync(&c->sub, c->nc, all);
  /* the session's subjects are anybody's to publish on (the session id is public): nats.c
   * keeps what arrives until poll reads it, so it keeps at most a few answers per call in
   * flight (beyond that it drops, and a dropped answer's call is sent again) */
  int64_t msgs = (int64_t)NC_PENDING_PER_CALL * c->cfg.max_in_flight + NC_PENDING_SPARE;
  int64_t bytes = msgs * ((int64_t)c->cfg.max_message + NC_ANSWER_OVERHEAD);
  if (s == NATS_OK) s = natsSubscription_SetPendingLimits(c->sub, (int)msgs, bytes > INT_MAX ? INT_MAX : (int)bytes);
  /* a round trip: the server has the interest before the first request goes out */
  if (s == NATS_OK) s = natsConnection_FlushTimeout(c->nc, c->cfg.connect_timeout_ms);
  return from_nats(s);
}

/* Reads the WELCOME: checks its signature, the node's token, the status; takes the ticket and
 * the session's keys. *authentic: it comes from a node of the swarm (its signature and token
 * checked), so its answer is the handshake's; another one may be anybody's. */
static cnv_status take_welcome(cnv_nats_client *c, const uint8_t hh[CNV_SW_HASH_BYTES], const uint8_t eph_sk[32],
                               const void *data, size_t len, bool *authentic) {
  cnv_sw_welcome w;
  *authentic = false;
  cnv_status st = cnv_sw_welcome_read(c->cfg.swarm, hh, data, len, &w);
  if (st != CNV_OK) return st;
  if ((st = check_node_token(c, &w)) != CNV_OK) return st;
  *authentic = true;
  if (w.status != 0) return w.status; /* the swarm's node refused the agent (its token) */
  if (w.ticket_len == 0 || w.ticket_len > sizeof c->ticket) return CNV_ESW_MALFORMED;
  st = cnv_sw_session_keys(eph_sk, w.eph_pk, hh, w.node_pk, w.eph_pk, c->key_c2s, c->key_s2c);
  if (st != CNV_OK) return st;
  memcpy(c->ticket, w.ticket, w.ticket_len);
  c->ticket_len = w.ticket_len;
  c->ticket_expires_ms = w.expires_ms;
  c->ticket_sent = false; /* no node holds the new session yet */
  session_id(hh, c->sid);
  c->seq = 0; /* a new session: a new replay window on the nodes */
  return CNV_OK;
}

/* One handshake, blocking up to timeout_ms. A swarm with no node answering yet (no responders)
 * is asked again until the time is up. */
static cnv_status handshake(cnv_nats_client *c, uint32_t timeout_ms) {
  uint8_t eph_pk[CNV_SW_EPH_BYTES], eph_sk[CNV_SW_EPH_BYTES], hh[CNV_SW_HASH_BYTES];
  char hs[CNV_SW_SUBJECT_MAX];
  cnv_status st = cnv_sw_subject_swarm(CNV_SW_SUBJ_HANDSHAKE, c->cfg.swarm, hs, sizeof hs, NULL);
  if (st == CNV_OK) st = cnv_sw_eph_keypair(eph_pk, eph_sk);
  if (st != CNV_OK) return st;
  cnv_sw_hello hello = {.ts_ms = wall_ms(), .token = c->token, .token_len = c->cfg.token_len};
  memcpy(hello.agent_pk, c->public_key, sizeof hello.agent_pk);
  memcpy(hello.eph_pk, eph_pk, sizeof hello.eph_pk);
  size_t hlen = 0;
  st = cnv_sw_hello_write(c->cfg.swarm, c->secret_key, &hello, c->out, c->out_cap, &hlen);
  if (st == CNV_OK) st = cnv_sw_hash(c->out, hlen, hh);
  /* the WELCOMEs come to an inbox of this handshake's: anyone subscribed to the handshake
   * subject may answer a HELLO too, and the first answer need not be a node's; one that is
   * not authentic is passed over (its reason kept for a timeout) for the next */
  natsInbox *inbox = NULL;
  natsSubscription *hsub = NULL;
  if (st == CNV_OK) st = from_nats(natsInbox_Create(&inbox));
  if (st == CNV_OK) st = from_nats(natsConnection_SubscribeSync(&hsub, c->nc, (const char *)inbox));
  uint64_t end = mono_ms() + timeout_ms;
  cnv_status last = CNV_ENATS_TIMEOUT; /* why, when no authentic WELCOME comes in time */
  bool sent = false;
  while (st == CNV_OK) {
    uint64_t now = mono_ms();
    if (now >= end) {
      st = last;
      break;
    }
    if (!sent) {
      st = from_nats(natsConnection_PublishRequest(c->nc, hs, (const char *)inbox, c->out, (int)hlen));
      if (st != CNV_OK) break;
      sent = true;
    }
    natsMsg *reply = NULL;
    natsStatus s = natsSubscription_NextMsg(&reply, hsub, (int64_t)(end - now));
    if (s == NATS_TIMEOUT) {
      st = last;
      break;
    }
    if (s != NATS_OK) {
      st = from_nats(s);
      break;
    }
    if (natsMsg_IsNoResponders(reply)) { /* no node subscribed yet: asked again */
      natsMsg_Destroy(reply);
      sleep_ms(NC_NO_RESPONDER_WAIT_MS);
      sent = false;
      continue;
    }
    bool authentic;
    cnv_status w =
        take_welcome(c, hh, eph_sk, natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), &authentic);
    natsMsg_Destroy(reply);
    if (authentic) {
      st = w;
      break;
    }
    last = w;
  }
  natsSubscription_Destroy(hsub); /* unsubscribes */
  natsInbox_Destroy(inbox);
  sodium_memzero(eph_sk, sizeof eph_sk);
  if (st == CNV_OK) st = subscribe(c);
  return st;
}

/* ---- calls ---- */

static char *call_line(cnv_nats_client *c, const nc_call *k) { return c->lines + (size_t)k->buf * c->cfg.max_message; }

/* Seals the call's line (a new sequence number, the time now, the same request id) and
 * publishes it on its capability's subject; with the ticket when it is the session's first
 * send or a node lacked the session for this call. */
static cnv_status send_attempt(cnv_nats_client *c, nc_call *k) {
  char reply[CNV_SW_SUBJECT_MAX]; /* "cnv.S.s.SID.r.R": the session's prefix, then the id */
  if (!natsn_reply_write(c->prefix, c->prefix_len, k->id, reply, sizeof reply)) return CNV_ERANGE;
  cnv_status st;
  cnv_session_invoke inv = {.deadline_ms = k->deadline_ms, .line = call_line(c, k), .line_len = k->line_len};
  size_t plen = 0, w = 0;
  if ((st = cnv_session_invoke_encode(&inv, c->plain, c->plain_cap, &plen)) != CNV_OK) return st;
  uint8_t attempt = k->attempts > 255 ? 255 : (uint8_t)k->attempts;
  bool ticket = !c->ticket_sent || k->with_ticket;
  st = cnv_sw_request_seal(c->key_c2s, c->ticket, ticket ? c->ticket_len : 0, ++c->seq, k->id, wall_ms(), attempt,
                           k->subject, reply, c->plain, plen, c->out, c->out_cap, &w);
  if (st != CNV_OK) return st;
  k->attempts++;
  st = from_nats(natsConnection_PublishRequest(c->nc, k->subject, reply, c->out, (int)w));
  if (st == CNV_OK && ticket) c->ticket_sent = true;
  return st;
}

static void call_free(cnv_nats_client *c, nc_call *k) {
  c->free_bufs[c->n_free++] = k->buf;
  c->in_flight--;
  k->id = 0;
}

/* Completes a call once: frees its entry (its callback may submit again), then runs it. */
static void complete(cnv_nats_client *c, nc_call *k, cnv_status status, int32_t done, uint8_t type,
                     const uint8_t *result, size_t result_len) {
  cnv_nats_result r = {.id = k->id,
                       .status = status,
                       .done = done,
                       .result_type = type,
                       .attempts = k->attempts,
                       .result = result,
                       .result_len = result_len};
  cnv_nats_done_fn fn = k->fn;
  void *ctx = k->ctx;
  call_free(c, k);
  fn(ctx, &r);
}

/* The subject of capability path (path_len bytes) into subject: the last path's again without
 * writing it, another one written and kept as the last. */
static cnv_status cap_subject(cnv_nats_client *c, const char *path, size_t path_len,
                              char subject[CNV_SW_SUBJECT_MAX]) {
  if (path_len > 0 && path_len == c->last_path_len && memcmp(path, c->last_path, path_len) == 0) {
    memcpy(subject, c->last_subject, strlen(c->last_subject) + 1);
    return CNV_OK;
  }
  cnv_status st = cnv_sw_subject_cap(c->cfg.swarm, path, path_len, subject, CNV_SW_SUBJECT_MAX, NULL);
  if (st != CNV_OK) return st;
  /* a path that fits a subject fits last_path: the subject holds it and more */
  memcpy(c->last_path, path, path_len);
  c->last_path_len = path_len;
  memcpy(c->last_subject, subject, strlen(subject) + 1);
  return CNV_OK;
}

cnv_status cnv_nats_client_submit(cnv_nats_client *c, const char *line, size_t line_len, uint32_t deadline_ms,
                                  cnv_nats_done_fn done, void *ctx, uint64_t *id) {
  if (!c || !line || !done) return CNV_EINVAL;
  if (c->closing) return CNV_ENATS_CLOSED;
  if (line_len > c->cfg.max_message) return CNV_ERANGE;
  if (c->in_flight >= c->cfg.max_in_flight) return CNV_EFULL;
  cnv_invocation inv;
  cnv_parse_limits limits = {.max_input = c->cfg.max_message, .max_args = NC_LINE_ARGS};
  cnv_status st = cnv_invocation_init(&inv, c->args, NC_LINE_ARGS);
  if (st == CNV_OK) st = cnv_parse_invocation(line, line_len, &limits, NULL, &inv);
  if (st != CNV_OK) return st;
  uint64_t rid;
  do { /* at most max_in_flight busy entries of at least twice as many: this ends */
    rid = ++c->next_id;
  } while (rid == 0 || c->calls[rid & c->mask].id != 0);
  nc_call *k = &c->calls[rid & c->mask];
  st = cap_subject(c, inv.path.ptr, inv.path.len, k->subject);
  if (st != CNV_OK) return st;
  k->id = rid;
  k->fn = done;
  k->ctx = ctx;
  k->deadline_ms = deadline_ms;
  k->attempts = 0;
  k->transient = CNV_OK;
  k->with_ticket = false;
  k->no_session_sent = false;
  k->wait_ms = c->cfg.attempt_timeout_ms;
  k->start_ms = mono_ms();
  k->resend_ms = k->start_ms + k->wait_ms;
  k->buf = c->free_bufs[--c->n_free];
  if (k->buf >= c->bufs_used) c->bufs_used = k->buf + 1;
  k->line_len = line_len;
  memcpy(call_line(c, k), line, line_len);
  c->in_flight++;
  st = send_attempt(c, k);
  if (st != CNV_OK) {
    call_free(c, k);
    return st;
  }
  if (id) *id = rid;
  return CNV_OK;
}

/* ---- answers ---- */

/* The request id an answer's subject names ("PREFIX r.R" or "PREFIX d.R"), 0 when it is not
 * one of this session's answer subjects. */
static uint64_t subject_reqid(const cnv_nats_client *c, const char *subj) {
  if (!subj || strncmp(subj, c->prefix, c->prefix_len) != 0) return 0;
  const char *p = subj + c->prefix_len;
  if ((p[0] != 'r' && p[0] != 'd') || p[1] != '.' || p[2] < '0' || p[2] > '9') return 0;
  uint64_t v = 0;
  for (p += 2; *p; p++) {
    if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10) return 0;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  return v;
}

/* Handles one message of the subscription; true when it completed a call. */
static bool on_message(cnv_nats_client *c, natsMsg *m, uint64_t now) {
  uint64_t rid = subject_reqid(c, natsMsg_GetSubject(m));
  cnv_sw_response resp;
  if (rid == 0 || cnv_sw_response_parse(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &resp) != CNV_OK ||
      resp.reqid != rid)
    return false;
  nc_call *k = &c->calls[rid & c->mask];
  if (k->id != rid) return false; /* answered before (a retry's second answer), or never asked */
  if (resp.refusal) {
    /* unauthenticated: anyone may publish one. It never completes a call. It makes the client
     * renew its ticket only once the ticket's end has passed by the client's clock: a renewal
     * resends every unanswered call under a new session id, so a claim (the dedupe key is the
     * session id and request id) would not stop an effectful call that already runs from
     * running again. A node that can open the ticket says it expired sealed (below).
     * CNV_ESW_NO_SESSION sends the call again with the ticket, once per attempt: a forged one
     * costs one send. */
    if ((resp.status == CNV_ESW_TICKET_EXPIRED || resp.status == CNV_ESW_TICKET) && wall_ms() >= c->ticket_expires_ms)
      c->rehandshake = true;
    if (resp.status == CNV_ESW_NO_SESSION && !k->no_session_sent) {
      k->no_session_sent = true;
      k->with_ticket = true;
      cnv__ignore_status(send_attempt(c, k)); /* as in timers: the next attempt tries again */
    }
    return false;
  }
  size_t plen = 0;
  cnv_session_response r;
  if (cnv_sw_response_open(c->key_s2c, &resp, c->plain, c->plain_cap, &plen) != CNV_OK ||
      cnv_session_response_decode(c->plain, plen, &r) != CNV_OK)
    return false; /* not sealed for this session: dropped */
  if (r.done == CNV_SESSION_DONE_REFUSED && r.status == CNV_ESW_TICKET_EXPIRED) {
    c->rehandshake = true; /* a node of the swarm opened the ticket: it did expire */
    return false;
  }
  if (r.status == CNV_ENATS_IN_PROGRESS) {
    k->resend_ms = now + k->wait_ms; /* another node runs it: wait for its answer */
    k->transient = CNV_OK;           /* it got past JetStream: a refusal before is old news */
    return false;
  }
  if (r.done == CNV_SESSION_DONE_REFUSED && r.status == CNV_ENATS_JETSTREAM) {
    /* refused before it ran because the node could not reach JetStream (a server restarting):
     * the next attempt may find it back; the call ends with this status if none does */
    k->transient = r.status;
    return false;
  }
  int32_t done = r.done == CNV_SESSION_DONE_REFUSED ? -1 : (int32_t)r.done;
  complete(c, k, r.status, done, r.result_type, r.result, r.result_len);
  return true;
}

/* Completes the calls past call_timeout_ms, resends those past their attempt's wait; returns
 * the calls completed and sets *next to the earliest time a timer is due. */
static unsigned timers(cnv_nats_client *c, uint64_t now, uint64_t *next) {
  unsigned n = 0;
  *next = UINT64_MAX;
  for (uint32_t i = 0; i <= c->mask && c->in_flight > 0; i++) {
    nc_call *k = &c->calls[i];
    if (k->id == 0) continue;
    uint64_t end = k->start_ms + c->cfg.call_timeout_ms;
    if (now >= end) {
      complete(c, k, k->transient != CNV_OK ? k->transient : CNV_ENATS_TIMEOUT, -1, 0, NULL, 0);
      n++;
      continue;
    }
    if (now >= k->resend_ms) {
      uint32_t cap = c->cfg.attempt_timeout_ms * NC_BACKOFF_MAX;
      k->wait_ms = k->wait_ms >= cap / 2 ? cap : k->wait_ms * 2;
      k->resend_ms = now + k->wait_ms;
      k->no_session_sent = false; /* a new attempt */
      /* a send that fails (disconnected) is tried again at the next attempt's time */
      cnv__ignore_status(send_attempt(c, k));
    }
    if (k->resend_ms < *next) *next = k->resend_ms;
    if (end < *next) *next = end;
  }
  return n;
}

/* A new handshake after a node refused the ticket, then every call resent under it. A failed
 * handshake is tried again after an attempt's wait (the calls time out meanwhile). */
static void renew(cnv_nats_client *c, uint64_t now) {
  if (now < c->handshake_ms + c->cfg.attempt_timeout_ms) return;
  c->handshake_ms = now;
  if (handshake(c, c->cfg.connect_timeout_ms) != CNV_OK) return;
  c->rehandshake = false;
  for (uint32_t i = 0; i <= c->mask; i++) {
    nc_call *k = &c->calls[i];
    if (k->id == 0) continue;
    k->resend_ms = mono_ms() + k->wait_ms;
    k->no_session_sent = false;             /* a new attempt, under the new session */
    cnv__ignore_status(send_attempt(c, k)); /* as in timers: the next attempt tries again */
  }
}

cnv_status cnv_nats_client_poll(cnv_nats_client *c, int timeout_ms, unsigned *completed) {
  if (completed) *completed = 0;
  if (!c || timeout_ms < -1) return CNV_EINVAL;
  if (c->in_poll) return CNV_ESTATE;
  c->in_poll = true;
  uint64_t start = mono_ms();
  uint64_t end = timeout_ms < 0 ? UINT64_MAX : start + (uint64_t)timeout_ms;
  unsigned n = 0;
  for (;;) {
    uint64_t now = mono_ms(), next;
    if (c->rehandshake) renew(c, now);
    n += timers(c, now, &next);
    uint64_t until = next < end ? next : end;
    int64_t wait = n > 0 || until <= now ? 0 : (int64_t)(until - now);
    if (wait > INT32_MAX) wait = INT32_MAX;
    /* what is there now, up to NC_DRAIN_PER_POLL messages, destroyed together after: nats.c
     * hands each destroyed message to its collector thread, and wakes that thread when it
     * waits, so a run of destroys wakes it once where one after each message woke it each
     * time */
    natsMsg *got[NC_DRAIN_PER_POLL];
    unsigned drained = 0;
    natsStatus s = natsSubscription_NextMsg(&got[0], c->sub, wait);
    while (s == NATS_OK) {
      if (on_message(c, got[drained], mono_ms())) n++;
      if (++drained == NC_DRAIN_PER_POLL) break;
      s = natsSubscription_NextMsg(&got[drained], c->sub, 0);
    }
    for (unsigned i = 0; i < drained; i++) natsMsg_Destroy(got[i]);
    if (n > 0 || mono_ms() >= end) break;
    /* NextMsg returned at once without a message (a no-responders notice, a reconnection):
     * a short pause, so that a long poll does not spin */
    if (s != NATS_OK && s != NATS_TIMEOUT && wait > 0) sleep_ms(wait < 10 ? (uint32_t)wait : 10u);
  }
  c->in_poll = false;
  if (completed) *completed = n;
  return CNV_OK;
}

/* ---- synchronous call ---- */

typedef struct sync_call {
  bool done;
  cnv_nats_result *out;
  void *buf;
  size_t cap;
  bool fits;
} sync_call;

static void sync_done(void *ctx, const cnv_nats_result *r) {
  sync_call *s = ctx;
  *s->out = *r;
  s->done = true;
  s->fits = r->result_len <= s->cap;
  if (s->fits && r->result_len > 0) memcpy(s->buf, r->result, r->result_len);
  s->out->result = s->fits ? s->buf : NULL;
}

cnv_status cnv_nats_client_call(cnv_nats_client *c, const char *line, size_t line_len, uint32_t deadline_ms,
                                cnv_nats_result *out, void *buf, size_t cap) {
  if (!c || !out || (!buf && cap > 0)) return CNV_EINVAL;
  if (c->in_poll) return CNV_ESTATE;
  sync_call s = {.done = false, .out = out, .buf = buf, .cap = cap};
  cnv_status st = cnv_nats_client_submit(c, line, line_len, deadline_ms, sync_done, &s, NULL);
  while (st == CNV_OK && !s.done) st = cnv_nats_client_poll(c, -1, NULL);
  if (st != CNV_OK) return st;
  return s.fits ? CNV_OK : CNV_ERANGE;
}

uint32_t cnv_nats_client_in_flight(const cnv_nats_client *c) { return c ? c->in_flight : 0; }

/* ---- life cycle ---- */

static void client_free(cnv_nats_client *c) {
  if (c->sub) natsSubscription_Destroy(c->sub);
  if (c->nc) {
    natsConnection_Close(c->nc);
    natsConnection_Destroy(c->nc);
  }
  cnv_deleg_verifier_destroy(c->verifier);
  if (c->token) sodium_memzero(c->token, c->cfg.token_len);
  /* the lines that were written (the others were never touched: no need to fault them in) */
  if (c->lines) sodium_memzero(c->lines, (size_t)c->bufs_used * c->cfg.max_message);
  if (c->plain) sodium_memzero(c->plain, c->plain_cap);
  if (c->out) sodium_memzero(c->out, c->out_cap);
  free(c->servers);
  free(c->token);
  free(c->calls);
  free(c->lines);
  free(c->free_bufs);
  free(c->args);
  free(c->plain);
  free(c->out);
  sodium_memzero(c, sizeof *c); /* the keys: the agent's, the session's */
  free(c);
}

cnv_status cnv_nats_client_connect(const cnv_nats_client_config *cfg, cnv_nats_client **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  cnv_status st = check_config(cfg);
  if (st != CNV_OK) return st;
  if (sodium_init() < 0) return CNV_ENOTSUP;
  cnv_nats_client *c = calloc(1, sizeof *c);
  if (!c) return CNV_ENOMEM;
  st = client_alloc(c, cfg);
  if (st == CNV_OK) st = make_verifier(c, cfg->trust, cfg->n_trust);
  uint64_t start = mono_ms();
  if (st == CNV_OK) st = nats_connect(c);
  if (st == CNV_OK) {
    uint64_t spent = mono_ms() - start;
    uint32_t left = spent >= c->cfg.connect_timeout_ms ? 1u : c->cfg.connect_timeout_ms - (uint32_t)spent;
    c->handshake_ms = mono_ms();
    st = handshake(c, left);
  }
  if (st != CNV_OK) {
    client_free(c);
    return st;
  }
  *out = c;
  return CNV_OK;
}

void cnv_nats_client_close(cnv_nats_client *c) {
  if (!c) return;
  c->in_poll = true; /* callbacks may not poll, call or close, */
  c->closing = true; /* nor submit */
  for (uint32_t i = 0; i <= c->mask && c->in_flight > 0; i++) {
    if (c->calls[i].id != 0) complete(c, &c->calls[i], CNV_ENATS_CLOSED, -1, 0, NULL, 0);
  }
  client_free(c);
}
