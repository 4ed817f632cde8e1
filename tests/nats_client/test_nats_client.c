/* The swarm client (cnv_nats_client_*) against a node of the test's own on one nats-server:
 * the fake node answers handshakes and requests with the swarmwire codecs as a real node does
 * (docs/nats.md), and misbehaves on demand (drops a first attempt, answers twice, says "in
 * progress", says the ticket expired, answers on the stored-answer subject, never answers,
 * holds no session), so each rule of the client is seen from the wire: the handshake and the
 * node token's check (a node without swarm.serve, or from another root, is refused), one
 * completion per call, retries with the same request id and a new sequence number, the ticket
 * on a session's first send only and again after CNV_ESW_NO_SESSION, the ticket renewed, the
 * call timeout, the in-flight limit, and the argument errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>
#include <sodium.h>

#include <cnv/nats.h>
#include <cnv/session.h>

#include "support/forge.h"
#include "support/nats_cluster.h"

#define SWARM 7u

enum mode {
  ANSWER = 0,       /* answer every attempt */
  DROP_FIRST,       /* no answer to attempt 0 */
  TWICE,            /* two answers to the same attempt: the second says "second" */
  IN_PROGRESS,      /* attempt 0: "in progress"; later attempts: the answer */
  EXPIRE_FIRST,     /* requests under the first ticket: REFUSAL ticket expired */
  STORED,           /* the answer on the stored-answer subject, not the reply subject */
  SILENT,           /* never answer */
  JETSTREAM,        /* attempt 0: refused, JetStream unreachable; later attempts: the answer */
  JETSTREAM_ALWAYS, /* every attempt refused so */
  REFUSE_HANDSHAKE, /* WELCOME with a denial of the agent's token */
  NO_SESSION        /* requests without the ticket: REFUSAL CNV_ESW_NO_SESSION, sent twice */
};

#define MAX_SEEN 64
#define MAX_SESSIONS 8

/* The test's node: what it answered and saw. */
static struct {
  nats_cluster *cluster;
  natsConnection *nc;
  natsSubscription *hs, *cap;
  tkey root, other_root, node, agent;
  uint8_t node_token[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t node_token_len;
  uint8_t agent_token[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t agent_token_len;
  uint8_t swarm_key[CNV_SW_SYM_BYTES];
  atomic_int mode;
  atomic_int handshakes;
  pthread_mutex_t lock; /* the requests seen (the node's callbacks run on NATS threads) */
  uint64_t first_sid_byte;
  int n_seen;
  struct {
    uint64_t reqid, seq;
    uint8_t attempt;
    int handshake; /* the handshake whose ticket it carried (1..) */
    bool ticket;   /* it carried the ticket */
  } seen[MAX_SEEN];
  int n_sessions; /* the sessions whose ticket it opened, as a node caches them */
  struct {
    uint8_t sid[CNV_SW_SID_BYTES], c2s[CNV_SW_SYM_BYTES], s2c[CNV_SW_SYM_BYTES];
    uint64_t handshake;
  } sessions[MAX_SESSIONS];
} fx;

/* ---- the fake node ---- */

/* The node's callbacks run on NATS threads, where a cmocka assertion cannot end the test: a
 * check that fails there records its line, and every case asserts none did. */
static atomic_int broken;
#define NODE_CHECK(x)                          \
  do {                                         \
    if (!(x)) atomic_store(&broken, __LINE__); \
  } while (0)
/* The same, leaving the callback (its label `out`) when it fails. */
#define NODE_REQUIRE(x)                \
  do {                                 \
    if (!(x)) {                        \
      atomic_store(&broken, __LINE__); \
      goto out;                        \
    }                                  \
  } while (0)

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_hello(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
  (void)nc, (void)sub, (void)closure;
  static uint8_t welcome[CNV_SW_MAX_TICKET + 2 * CNV_DELEG_MAX_TOKEN_BYTES], ticket[CNV_SW_MAX_TICKET];
  cnv_sw_hello hello;
  uint8_t hh[CNV_SW_HASH_BYTES], eph_sk[CNV_SW_EPH_BYTES];
  const void *data = natsMsg_GetData(msg);
  size_t len = (size_t)natsMsg_GetDataLength(msg);
  if (cnv_sw_hello_read(SWARM, data, len, &hello) != CNV_OK || cnv_sw_hash(data, len, hh) != CNV_OK) {
    atomic_store(&broken, __LINE__);
    natsMsg_Destroy(msg);
    return;
  }
  int n = atomic_fetch_add(&fx.handshakes, 1) + 1;
  cnv_sw_welcome w = {.node_token = fx.node_token, .node_token_len = fx.node_token_len};
  memcpy(w.node_pk, fx.node.pk, sizeof w.node_pk);
  if (atomic_load(&fx.mode) == REFUSE_HANDSHAKE) {
    w.status = CNV_ERT_DENY_REVOKED;
  } else {
    cnv_sw_ticket t = {.issued_ms = wall_ms(), .token = hello.token, .token_len = hello.token_len};
    t.expires_ms = t.issued_ms + 3600000u;
    memcpy(t.sid, hh, sizeof t.sid); /* the sid is the HELLO's hash, cut: both sides know it */
    memcpy(t.agent_pk, hello.agent_pk, sizeof t.agent_pk);
    memcpy(t.node_pk, fx.node.pk, sizeof t.node_pk);
    NODE_CHECK(cnv_sw_eph_keypair(w.eph_pk, eph_sk) == CNV_OK);
    NODE_CHECK(
        cnv_sw_session_keys(eph_sk, hello.eph_pk, hh, fx.node.pk, w.eph_pk, t.key_c2s, t.key_s2c) == CNV_OK);
    t.issued_ms = (uint64_t)n; /* the handshake's number (1..), for the seen table: the client
                                  never reads a ticket */
    NODE_CHECK(cnv_sw_ticket_seal(fx.swarm_key, 1, SWARM, &t, ticket, sizeof ticket, &w.ticket_len) == CNV_OK);
    w.ticket = ticket;
    w.expires_ms = t.expires_ms;
  }
  size_t wlen = 0;
  NODE_CHECK(cnv_sw_welcome_write(SWARM, fx.node.sk, hh, &w, welcome, sizeof welcome, &wlen) == CNV_OK);
  NODE_CHECK(natsConnection_Publish(fx.nc, natsMsg_GetReply(msg), welcome, (int)wlen) == NATS_OK);
  natsMsg_Destroy(msg);
}

/* Seals an answer (status, result text) to reqid and publishes it on subject. */
static void answer(const char *subject, const uint8_t key_s2c[CNV_SW_SYM_BYTES], uint64_t reqid, int32_t status,
                   uint8_t done, const char *text) {
  uint8_t payload[1024], sealed[1200];
  size_t plen = 0, slen = 0;
  cnv_session_response r = {.status = status, .done = done, .result = (const uint8_t *)text, .result_len = strlen(text)};
  NODE_CHECK(cnv_session_response_encode(&r, payload, sizeof payload, &plen) == CNV_OK);
  NODE_CHECK(cnv_sw_response_seal(key_s2c, reqid, payload, plen, sealed, sizeof sealed, &slen) == CNV_OK);
  NODE_CHECK(natsConnection_Publish(fx.nc, subject, sealed, (int)slen) == NATS_OK);
}

static void refuse(const char *subject, uint64_t reqid, cnv_status status) {
  uint8_t refusal[64];
  size_t n = 0;
  NODE_CHECK(cnv_sw_refusal_write(reqid, status, refusal, sizeof refusal, &n) == CNV_OK);
  NODE_CHECK(natsConnection_Publish(fx.nc, subject, refusal, (int)n) == NATS_OK);
}

/* The session of a request sent without its ticket, as a node finds it: the one whose REPLY
 * subject for reqid is reply; its keys and handshake number into *t. */
static bool find_session(const char *reply, uint64_t reqid, cnv_sw_ticket *t) {
  bool found = false;
  pthread_mutex_lock(&fx.lock);
  for (int i = 0; i < fx.n_sessions && !found; i++) {
    char want[CNV_SW_SUBJECT_MAX];
    NODE_CHECK(cnv_sw_subject_session(CNV_SW_SESS_REPLY, SWARM, fx.sessions[i].sid, reqid, want, sizeof want, NULL) ==
               CNV_OK);
    if (strcmp(reply, want) != 0) continue;
    memcpy(t->sid, fx.sessions[i].sid, sizeof t->sid);
    memcpy(t->key_c2s, fx.sessions[i].c2s, sizeof t->key_c2s);
    memcpy(t->key_s2c, fx.sessions[i].s2c, sizeof t->key_s2c);
    t->issued_ms = fx.sessions[i].handshake;
    found = true;
  }
  pthread_mutex_unlock(&fx.lock);
  return found;
}

static void keep_session(const cnv_sw_ticket *t) {
  pthread_mutex_lock(&fx.lock);
  int i = fx.n_sessions < MAX_SESSIONS ? fx.n_sessions++ : MAX_SESSIONS - 1;
  memcpy(fx.sessions[i].sid, t->sid, sizeof t->sid);
  memcpy(fx.sessions[i].c2s, t->key_c2s, sizeof t->key_c2s);
  memcpy(fx.sessions[i].s2c, t->key_s2c, sizeof t->key_s2c);
  fx.sessions[i].handshake = t->issued_ms;
  pthread_mutex_unlock(&fx.lock);
}

/* Records a request in the seen table (handshake: its session's, 0 when unknown). */
static void see(const cnv_sw_request *r, int handshake) {
  pthread_mutex_lock(&fx.lock);
  if (fx.n_seen < MAX_SEEN) {
    fx.seen[fx.n_seen].reqid = r->reqid;
    fx.seen[fx.n_seen].seq = r->seq;
    fx.seen[fx.n_seen].attempt = r->attempt;
    fx.seen[fx.n_seen].handshake = handshake;
    fx.seen[fx.n_seen].ticket = r->ticket_len > 0;
    fx.n_seen++;
  }
  pthread_mutex_unlock(&fx.lock);
}

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
  (void)nc, (void)sub, (void)closure;
  static uint8_t tplain[CNV_SW_MAX_TICKET], plain[4096];
  const char *subject = natsMsg_GetSubject(msg), *reply = natsMsg_GetReply(msg);
  cnv_sw_request r;
  cnv_sw_ticket t;
  memset(&t, 0, sizeof t);
  size_t plen = 0;
  cnv_session_invoke inv;
  char want[CNV_SW_SUBJECT_MAX], done_subject[CNV_SW_SUBJECT_MAX], text[256];
  NODE_REQUIRE(reply != NULL);
  NODE_REQUIRE(cnv_sw_request_parse(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), &r) == CNV_OK);
  if (r.ticket_len > 0) {
    NODE_REQUIRE(cnv_sw_ticket_open(fx.swarm_key, SWARM, r.ticket, r.ticket_len, tplain, sizeof tplain, &t) ==
                 CNV_OK);
    keep_session(&t);
  } else if (atomic_load(&fx.mode) == NO_SESSION || !find_session(reply, r.reqid, &t)) {
    see(&r, 0);
    refuse(reply, r.reqid, CNV_ESW_NO_SESSION);
    if (atomic_load(&fx.mode) == NO_SESSION) refuse(reply, r.reqid, CNV_ESW_NO_SESSION); /* a forged second one */
    goto out;
  }
  NODE_REQUIRE(cnv_sw_request_open(t.key_c2s, &r, subject, reply, plain, sizeof plain, &plen) == CNV_OK);
  NODE_REQUIRE(cnv_session_invoke_decode(plain, plen, &inv) == CNV_OK);
  /* the reply subject is the session's, for this request id */
  NODE_REQUIRE(cnv_sw_subject_session(CNV_SW_SESS_REPLY, SWARM, t.sid, r.reqid, want, sizeof want, NULL) == CNV_OK);
  NODE_REQUIRE(strcmp(reply, want) == 0);
  NODE_REQUIRE(cnv_sw_subject_session(CNV_SW_SESS_DONE, SWARM, t.sid, r.reqid, done_subject, sizeof done_subject,
                                      NULL) == CNV_OK);
  see(&r, (int)t.issued_ms);
  snprintf(text, sizeof text, "%.*s", (int)inv.line_len, inv.line);
  switch (atomic_load(&fx.mode)) {
    case DROP_FIRST:
      if (r.attempt > 0) answer(reply, t.key_s2c, r.reqid, CNV_OK, 0, text);
      break;
    case TWICE:
      answer(reply, t.key_s2c, r.reqid, CNV_OK, 0, text);
      answer(reply, t.key_s2c, r.reqid, CNV_OK, 0, "second");
      break;
    case IN_PROGRESS:
      if (r.attempt == 0)
        answer(reply, t.key_s2c, r.reqid, CNV_ENATS_IN_PROGRESS, CNV_SESSION_DONE_REFUSED, "");
      else
        answer(reply, t.key_s2c, r.reqid, CNV_OK, 0, text);
      break;
    case EXPIRE_FIRST:
      if (t.issued_ms == 1) { /* sealed: a node that opened the ticket (a plain one is anybody's) */
        answer(reply, t.key_s2c, r.reqid, CNV_ESW_TICKET_EXPIRED, CNV_SESSION_DONE_REFUSED, "");
      } else {
        answer(reply, t.key_s2c, r.reqid, CNV_OK, 0, text);
      }
      break;
    case STORED:
      answer(done_subject, t.key_s2c, r.reqid, CNV_OK, 0, text);
      break;
    case SILENT:
      break;
    case JETSTREAM:
    case JETSTREAM_ALWAYS:
      if (r.attempt == 0 || atomic_load(&fx.mode) == JETSTREAM_ALWAYS)
        answer(reply, t.key_s2c, r.reqid, CNV_ENATS_JETSTREAM, CNV_SESSION_DONE_REFUSED, "");
      else
        answer(reply, t.key_s2c, r.reqid, CNV_OK, 0, text);
      break;
    default:
      answer(reply, t.key_s2c, r.reqid, CNV_OK, 0, text);
  }
out:
  sodium_memzero(&t, sizeof t);
  natsMsg_Destroy(msg);
}

/* A token root_sk signs for holder, allowing one pattern in SWARM. */
static void mint(const uint8_t *root_sk, const uint8_t *holder, const char *allow, uint8_t *out, size_t *len) {
  cnv_deleg_caveats c;
  cav_init(&c);
  c.swarm = SWARM;
  assert_int_equal(cav_allow(&c, allow), CNV_OK);
  assert_int_equal(cnv_deleg_mint_root(root_sk, holder, &c, NULL, out, CNV_DELEG_MAX_TOKEN_BYTES, len), CNV_OK);
}

static int setup(void **state) {
  (void)state;
  if (sodium_init() < 0) return -1;
  if (nats_cluster_start(1, &fx.cluster) != 0) {
    fprintf(stderr, "nats-server: %s\n", nats_cluster_error());
    return -1;
  }
  tkey_make(&fx.root, 1);
  tkey_make(&fx.other_root, 2);
  tkey_make(&fx.node, 3);
  tkey_make(&fx.agent, 4);
  mint(fx.root.sk, fx.node.pk, CNV_NATS_SERVE_CAPABILITY, fx.node_token, &fx.node_token_len);
  mint(fx.root.sk, fx.agent.pk, "demo.*", fx.agent_token, &fx.agent_token_len);
  randombytes_buf(fx.swarm_key, sizeof fx.swarm_key);
  pthread_mutex_init(&fx.lock, NULL);
  char hs[CNV_SW_SUBJECT_MAX], cap[CNV_SW_SUBJECT_MAX + 8], queue[CNV_SW_SUBJECT_MAX];
  if (cnv_sw_subject_swarm(CNV_SW_SUBJ_HANDSHAKE, SWARM, hs, sizeof hs, NULL) != CNV_OK ||
      cnv_sw_subject_swarm(CNV_SW_SUBJ_QUEUE, SWARM, queue, sizeof queue, NULL) != CNV_OK)
    return -1;
  snprintf(cap, sizeof cap, "%s.cap.>", queue);
  if (natsConnection_ConnectTo(&fx.nc, nats_cluster_url(fx.cluster, 0)) != NATS_OK ||
      natsConnection_QueueSubscribe(&fx.hs, fx.nc, hs, queue, on_hello, NULL) != NATS_OK ||
      natsConnection_QueueSubscribe(&fx.cap, fx.nc, cap, queue, on_request, NULL) != NATS_OK ||
      natsConnection_Flush(fx.nc) != NATS_OK)
    return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  natsSubscription_Destroy(fx.hs);
  natsSubscription_Destroy(fx.cap);
  natsConnection_Destroy(fx.nc);
  nats_cluster_stop(fx.cluster);
  pthread_mutex_destroy(&fx.lock);
  return 0;
}

/* Before each case: the node answers, nothing seen, no handshake counted; no check of the
 * node failed in the case before. */
static void reset(int mode) {
  assert_int_equal(atomic_load(&broken), 0);
  atomic_store(&fx.mode, mode);
  atomic_store(&fx.handshakes, 0);
  pthread_mutex_lock(&fx.lock);
  fx.n_seen = 0;
  fx.n_sessions = 0;
  pthread_mutex_unlock(&fx.lock);
}

static void config(cnv_nats_client_config *cfg) {
  cnv_nats_client_config_default(cfg);
  cfg->servers = nats_cluster_url(fx.cluster, 0);
  cfg->swarm = SWARM;
  cfg->secret_key = fx.agent.sk;
  cfg->token = fx.agent_token;
  cfg->token_len = fx.agent_token_len;
  cfg->trust = fx.root.pk;
  cfg->n_trust = 1;
  cfg->attempt_timeout_ms = 100; /* the retry cases wait for it */
}

static cnv_nats_client *connect_ok(uint32_t call_timeout_ms) {
  cnv_nats_client_config cfg;
  config(&cfg);
  cfg.call_timeout_ms = call_timeout_ms;
  cnv_nats_client *c = NULL;
  assert_int_equal(cnv_nats_client_connect(&cfg, &c), CNV_OK);
  return c;
}

static const char LINE[] = "demo.echo --text hi";

/* One call answered once: its outcome, the line the node decoded, one attempt. */
static void call_answered(void **state) {
  (void)state;
  reset(ANSWER);
  cnv_nats_client *c = connect_ok(0);
  assert_int_equal(atomic_load(&fx.handshakes), 1);
  cnv_nats_result r;
  char buf[256];
  assert_int_equal(cnv_nats_client_call(c, LINE, strlen(LINE), 0, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_OK);
  assert_int_equal(r.done, 0);
  assert_int_equal(r.attempts, 1);
  assert_int_equal(r.id, 1);
  assert_int_equal(r.result_len, strlen(LINE));
  assert_memory_equal(r.result, LINE, strlen(LINE));
  /* a result larger than the buffer: CNV_ERANGE with its size */
  assert_int_equal(cnv_nats_client_call(c, LINE, strlen(LINE), 0, &r, buf, 4), CNV_ERANGE);
  assert_int_equal(r.result_len, strlen(LINE));
  assert_int_equal(r.id, 2);
  assert_int_equal(r.attempts, 1);
  assert_int_equal(cnv_nats_client_in_flight(c), 0);
  /* the session's first send carried the ticket, the next one not: the node holds it */
  pthread_mutex_lock(&fx.lock);
  assert_int_equal(fx.n_seen, 2);
  assert_true(fx.seen[0].ticket);
  assert_false(fx.seen[1].ticket);
  pthread_mutex_unlock(&fx.lock);
  cnv_nats_client_close(c);
}

/* A node that holds no session refuses a request without the ticket (CNV_ESW_NO_SESSION, here
 * twice, the second as a forger would): the call is sent again with the ticket, once, with the
 * same request id and a new sequence number; unauthenticated, the refusal completes nothing. */
static void no_session_resent(void **state) {
  (void)state;
  reset(NO_SESSION);
  cnv_nats_client *c = connect_ok(0);
  cnv_nats_result r;
  char buf[256];
  assert_int_equal(cnv_nats_client_call(c, LINE, strlen(LINE), 0, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.attempts, 1); /* the session's first send: with the ticket */
  assert_int_equal(cnv_nats_client_call(c, LINE, strlen(LINE), 0, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_OK);
  assert_int_equal(r.id, 2);
  assert_int_equal(r.attempts, 2);
  assert_memory_equal(r.result, LINE, strlen(LINE));
  assert_int_equal(cnv_nats_client_poll(c, 50, NULL), CNV_OK); /* the second refusal read: nothing sent */
  pthread_mutex_lock(&fx.lock);
  assert_int_equal(fx.n_seen, 3);
  assert_true(fx.seen[0].ticket);
  assert_int_equal(fx.seen[0].reqid, 1);
  assert_int_equal(fx.seen[1].reqid, 2);
  assert_int_equal(fx.seen[2].reqid, 2);
  assert_false(fx.seen[1].ticket);
  assert_true(fx.seen[2].ticket);
  assert_true(fx.seen[2].seq > fx.seen[1].seq);
  pthread_mutex_unlock(&fx.lock);
  assert_int_equal(atomic_load(&fx.handshakes), 1);
  cnv_nats_client_close(c);
}

/* An unanswered first attempt is sent again: the same request id, a new sequence number. */
static void retry_same_id(void **state) {
  (void)state;
  reset(DROP_FIRST);
  cnv_nats_client *c = connect_ok(0);
  cnv_nats_result r;
  char buf[256];
  assert_int_equal(cnv_nats_client_call(c, LINE, strlen(LINE), 0, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_OK);
  assert_int_equal(r.attempts, 2);
  pthread_mutex_lock(&fx.lock);
  assert_int_equal(fx.n_seen, 2);
  assert_int_equal(fx.seen[0].reqid, fx.seen[1].reqid);
  assert_int_equal(fx.seen[0].attempt, 0);
  assert_int_equal(fx.seen[1].attempt, 1);
  assert_true(fx.seen[1].seq > fx.seen[0].seq);
  pthread_mutex_unlock(&fx.lock);
  cnv_nats_client_close(c);
}

typedef struct tally {
  int calls;
  cnv_nats_result last;
  char text[64];
} tally;

static void count_done(void *ctx, const cnv_nats_result *r) {
  tally *t = ctx;
  t->calls++;
  t->last = *r;
  snprintf(t->text, sizeof t->text, "%.*s", (int)r->result_len, (const char *)r->result);
}

/* A callback that submits again: refused while close completes the calls. */
typedef struct resubmit {
  cnv_nats_client *c;
  int calls;
  cnv_status submit_status, poll_status;
} resubmit;

static void resubmit_done(void *ctx, const cnv_nats_result *r) {
  (void)r;
  resubmit *s = ctx;
  s->calls++;
  tally ignored = {0};
  s->submit_status = cnv_nats_client_submit(s->c, "demo.echo --text x", 18, 0, count_done, &ignored, NULL);
  s->poll_status = cnv_nats_client_poll(s->c, 0, NULL);
}

/* Two answers to one request: one completion, with the first. */
static void second_answer_ignored(void **state) {
  (void)state;
  reset(TWICE);
  cnv_nats_client *c = connect_ok(0);
  tally t = {0};
  uint64_t id = 0;
  assert_int_equal(cnv_nats_client_submit(c, LINE, strlen(LINE), 0, count_done, &t, &id), CNV_OK);
  assert_int_equal(cnv_nats_client_in_flight(c), 1);
  while (t.calls == 0) assert_int_equal(cnv_nats_client_poll(c, -1, NULL), CNV_OK);
  /* a second submit's answer comes after the first's second answer: polling until it came
   * reads the first's second answer too */
  tally u = {0};
  assert_int_equal(cnv_nats_client_submit(c, LINE, strlen(LINE), 0, count_done, &u, NULL), CNV_OK);
  while (u.calls == 0) assert_int_equal(cnv_nats_client_poll(c, -1, NULL), CNV_OK);
  assert_int_equal(t.calls, 1);
  assert_int_equal(t.last.id, id);
  assert_string_equal(t.text, LINE);
  assert_string_equal(u.text, LINE);
  cnv_nats_client_close(c);
  assert_int_equal(t.calls, 1);
}

/* "In progress" keeps the call waiting; the answer that follows completes it. */
static void in_progress_waits(void **state) {
  (void)state;
  reset(IN_PROGRESS);
  cnv_nats_client *c = connect_ok(0);
  cnv_nats_result r;
  char buf[256];
  assert_int_equal(cnv_nats_client_call(c, LINE, strlen(LINE), 0, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_OK);
  assert_int_equal(r.attempts, 2);
  cnv_nats_client_close(c);
}

/* A node says the ticket expired: a new handshake, the call resent under the new ticket. */
static void ticket_renewed(void **state) {
  (void)state;
  reset(EXPIRE_FIRST);
  cnv_nats_client *c = connect_ok(0);
  cnv_nats_result r;
  char buf[256];
  assert_int_equal(cnv_nats_client_call(c, LINE, strlen(LINE), 0, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_OK);
  assert_int_equal(atomic_load(&fx.handshakes), 2);
  pthread_mutex_lock(&fx.lock);
  assert_true(fx.n_seen >= 2);
  assert_int_equal(fx.seen[0].handshake, 1);
  assert_int_equal(fx.seen[fx.n_seen - 1].handshake, 2);
  assert_true(fx.seen[fx.n_seen - 1].ticket); /* the new session's first send */
  assert_int_equal(fx.seen[0].reqid, fx.seen[fx.n_seen - 1].reqid);
  pthread_mutex_unlock(&fx.lock);
  cnv_nats_client_close(c);
}

/* A refusal because the node could not reach JetStream is retried (it never ran); when every
 * attempt gets it, the call ends with it at the call timeout. */
static void jetstream_retried(void **state) {
  (void)state;
  reset(JETSTREAM);
  cnv_nats_client *c = connect_ok(0);
  cnv_nats_result r;
  char buf[256];
  assert_int_equal(cnv_nats_client_call(c, LINE, strlen(LINE), 0, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_OK);
  assert_int_equal(r.attempts, 2);
  cnv_nats_client_close(c);
  reset(JETSTREAM_ALWAYS);
  c = connect_ok(350);
  assert_int_equal(cnv_nats_client_call(c, LINE, strlen(LINE), 0, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_ENATS_JETSTREAM);
  assert_int_equal(r.done, -1);
  assert_true(r.attempts >= 2);
  cnv_nats_client_close(c);
}

/* An answer on the stored-answer subject (the once path) completes the call as well. */
static void stored_answer(void **state) {
  (void)state;
  reset(STORED);
  cnv_nats_client *c = connect_ok(0);
  cnv_nats_result r;
  char buf[256];
  assert_int_equal(cnv_nats_client_call(c, LINE, strlen(LINE), 0, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_OK);
  assert_int_equal(r.result_len, strlen(LINE));
  cnv_nats_client_close(c);
}

/* No answer: retried, then completed CNV_ENATS_TIMEOUT; the in-flight limit holds meanwhile,
 * and close completes what is left with CNV_ENATS_CLOSED. */
static void timeout_and_limits(void **state) {
  (void)state;
  reset(SILENT);
  cnv_nats_client_config cfg;
  config(&cfg);
  cfg.call_timeout_ms = 350;
  cfg.max_in_flight = 2;
  cnv_nats_client *c = NULL;
  assert_int_equal(cnv_nats_client_connect(&cfg, &c), CNV_OK);
  cnv_nats_result r;
  char buf[64];
  assert_int_equal(cnv_nats_client_call(c, LINE, strlen(LINE), 0, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_ENATS_TIMEOUT);
  assert_int_equal(r.done, -1);
  assert_true(r.attempts >= 2);
  pthread_mutex_lock(&fx.lock);
  for (int i = 1; i < fx.n_seen; i++) {
    assert_int_equal(fx.seen[i].reqid, fx.seen[0].reqid);
    assert_true(fx.seen[i].seq > fx.seen[i - 1].seq);
  }
  pthread_mutex_unlock(&fx.lock);
  tally a = {0}, x = {0};
  resubmit b = {.c = c};
  assert_int_equal(cnv_nats_client_submit(c, LINE, strlen(LINE), 0, count_done, &a, NULL), CNV_OK);
  assert_int_equal(cnv_nats_client_submit(c, LINE, strlen(LINE), 0, resubmit_done, &b, NULL), CNV_OK);
  assert_int_equal(cnv_nats_client_submit(c, LINE, strlen(LINE), 0, count_done, &x, NULL), CNV_EFULL);
  cnv_nats_client_close(c);
  assert_int_equal(a.calls, 1);
  assert_int_equal(a.last.status, CNV_ENATS_CLOSED);
  assert_int_equal(a.last.done, -1);
  assert_int_equal(b.calls, 1);
  assert_int_equal(b.submit_status, CNV_ENATS_CLOSED);
  assert_int_equal(b.poll_status, CNV_ESTATE);
  assert_int_equal(x.calls, 0);
}

/* The node's token decides: no swarm.serve, another root, the node's refusal of the agent. */
static void node_token_checked(void **state) {
  (void)state;
  reset(ANSWER);
  cnv_nats_client_config cfg;
  config(&cfg);
  cnv_nats_client *c = NULL;
  mint(fx.root.sk, fx.node.pk, "demo.*", fx.node_token, &fx.node_token_len);
  assert_int_equal(cnv_nats_client_connect(&cfg, &c), CNV_ENATS_NOT_AUTHORIZED);
  assert_null(c);
  mint(fx.other_root.sk, fx.node.pk, CNV_NATS_SERVE_CAPABILITY, fx.node_token, &fx.node_token_len);
  assert_int_equal(cnv_nats_client_connect(&cfg, &c), CNV_EDELEG_UNTRUSTED_ROOT);
  cfg.trust = fx.other_root.pk; /* trusting that root, the node is the swarm's */
  assert_int_equal(cnv_nats_client_connect(&cfg, &c), CNV_OK);
  cnv_nats_client_close(c);
  mint(fx.root.sk, fx.node.pk, CNV_NATS_SERVE_CAPABILITY, fx.node_token, &fx.node_token_len);
  config(&cfg);
  reset(REFUSE_HANDSHAKE);
  assert_int_equal(cnv_nats_client_connect(&cfg, &c), CNV_ERT_DENY_REVOKED);
  assert_null(c);
}

/* Argument errors: nothing connects, nothing is sent. */
static void argument_errors(void **state) {
  (void)state;
  reset(ANSWER);
  cnv_nats_client_config cfg;
  cnv_nats_client *c = NULL;
  config(&cfg);
  assert_int_equal(cnv_nats_client_connect(NULL, &c), CNV_EINVAL);
  assert_int_equal(cnv_nats_client_connect(&cfg, NULL), CNV_EINVAL);
  cfg.swarm = 0;
  assert_int_equal(cnv_nats_client_connect(&cfg, &c), CNV_EINVAL);
  config(&cfg);
  cfg.n_trust = 0;
  assert_int_equal(cnv_nats_client_connect(&cfg, &c), CNV_EINVAL);
  config(&cfg);
  cfg.max_in_flight = 65537;
  assert_int_equal(cnv_nats_client_connect(&cfg, &c), CNV_ERANGE);
  config(&cfg);
  cfg.token_len = CNV_SW_MAX_TOKEN + 1;
  assert_int_equal(cnv_nats_client_connect(&cfg, &c), CNV_ERANGE);
  config(&cfg);
  cfg.servers = "nats://127.0.0.1:1";
  cfg.connect_timeout_ms = 500;
  assert_int_equal(cnv_nats_client_connect(&cfg, &c), CNV_ENATS_CONNECT);
  assert_null(c);
  assert_int_equal(atomic_load(&fx.handshakes), 0);
  c = connect_ok(0);
  tally t = {0};
  assert_int_equal(cnv_nats_client_submit(c, "", 0, 0, count_done, &t, NULL), CNV_EPARSE_EMPTY_PATH);
  assert_int_equal(cnv_nats_client_submit(c, "Demo.echo", 9, 0, count_done, &t, NULL), CNV_EPARSE_PATH_CHAR);
  assert_int_equal(cnv_nats_client_submit(c, NULL, 0, 0, count_done, &t, NULL), CNV_EINVAL);
  assert_int_equal(cnv_nats_client_submit(c, LINE, strlen(LINE), 0, NULL, &t, NULL), CNV_EINVAL);
  static char long_line[65537];
  memset(long_line, 'a', sizeof long_line);
  assert_int_equal(cnv_nats_client_submit(c, long_line, sizeof long_line, 0, count_done, &t, NULL), CNV_ERANGE);
  assert_int_equal(cnv_nats_client_poll(c, -2, NULL), CNV_EINVAL);
  assert_int_equal(cnv_nats_client_in_flight(c), 0);
  unsigned done = 1;
  assert_int_equal(cnv_nats_client_poll(c, 0, &done), CNV_OK);
  assert_int_equal(done, 0);
  cnv_nats_client_close(c);
  cnv_nats_client_close(NULL);
  pthread_mutex_lock(&fx.lock);
  assert_int_equal(fx.n_seen, 0);
  pthread_mutex_unlock(&fx.lock);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(call_answered),
      cmocka_unit_test(no_session_resent),
      cmocka_unit_test(retry_same_id),
      cmocka_unit_test(second_answer_ignored),
      cmocka_unit_test(in_progress_waits),
      cmocka_unit_test(ticket_renewed),
      cmocka_unit_test(stored_answer),
      cmocka_unit_test(jetstream_retried),
      cmocka_unit_test(timeout_and_limits),
      cmocka_unit_test(node_token_checked),
      cmocka_unit_test(argument_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
