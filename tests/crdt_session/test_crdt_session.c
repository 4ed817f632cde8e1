/* CRDT replication over a session: a client and a server session (handshake in memory) carry
 * an OR-Set and a PN-Counter between two replicators until they converge; a tampered frame is
 * refused by the session and nothing is merged; oversized and malformed messages are refused
 * and counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <cnv/crdt_session.h>

#include "support/session_pair.h"

#define TOKEN "token: holder=agent"
#define C_ID 11u
#define S_ID 22u

typedef struct side {
  cnv_session *sess;
  cnv_crdt_session *a;
  cnv_crdt_repl *r;
  cnv_status deliver_st; /* the first delivery error (CNV_OK: none) */
  cnv_session_event last;
  int events;
} side;

typedef struct world {
  side c, s;
  uint8_t server_pk[32], server_sk[64], agent_pk[32], agent_sk[64];
  uint64_t now;
} world;

static void on_event(void *arg, const cnv_session_event *e) {
  side *to = arg;
  to->events++;
  to->last = *e;
  if (e->kind == CNV_SESSION_EV_MESSAGE && e->type == CNV_MSG_REPLICATION) {
    cnv_status st = cnv_crdt_session_deliver(to->a, to->r, e);
    if (to->deliver_st == CNV_OK) to->deliver_st = st;
  }
}

/* Moves everything `from` has to send (the session's own frames, then the adapter's outbox)
 * into `to`'s session, delivering REPLICATION events; returns the first feed error. */
static cnv_status carry(world *w, side *from, side *to) {
  static uint8_t buf[1 << 18];
  size_t n = 0, k = 0;
  assert_int_equal(cnv_session_pull(from->sess, buf, sizeof buf, &n), CNV_OK);
  if (from->a) {
    assert_int_equal(cnv_crdt_session_pull(from->a, buf + n, sizeof buf - n, &k), CNV_OK);
    assert_int_equal(cnv_crdt_session_pending(from->a), 0);
  }
  return tsp_feed(to->sess, buf, n + k, 0, w->now, on_event, to);
}

static void handshake(world *w) {
  cnv_session_config cc, sc;
  tsp_configs(w->server_pk, w->server_sk, w->agent_pk, w->agent_sk, TOKEN, sizeof TOKEN - 1, &cc, &sc);
  w->now = 1000;
  assert_int_equal(cnv_session_create(&cc, w->now, &w->c.sess), CNV_OK);
  assert_int_equal(cnv_session_create(&sc, w->now, &w->s.sess), CNV_OK);
  assert_int_equal(carry(w, &w->c, &w->s), CNV_OK); /* HELLO */
  assert_int_equal(carry(w, &w->s, &w->c), CNV_OK); /* HELLO_REPLY */
  assert_int_equal(carry(w, &w->c, &w->s), CNV_OK); /* AUTH */
  assert_int_equal(w->s.last.kind, CNV_SESSION_EV_AUTH);
  assert_memory_equal(w->s.last.peer_key, w->agent_pk, 32);
  assert_int_equal(cnv_session_accept(w->s.sess), CNV_OK);
  assert_int_equal(carry(w, &w->s, &w->c), CNV_OK); /* READY */
  assert_int_equal(w->c.last.kind, CNV_SESSION_EV_READY);
}

static uint64_t clock_of(void *ctx) { return ((world *)ctx)->now; }

static void make_side(world *w, side *sd, uint64_t me, uint64_t peer, uint32_t adapter_max) {
  cnv_crdt_session_config ac = {.session = sd->sess, .peer = peer, .max_message = adapter_max, .now_ns = clock_of, .clock_ctx = w};
  assert_int_equal(cnv_crdt_session_create(&ac, &sd->a), CNV_OK);
  cnv_crdt_repl_config rc = {.replica = me, .transport = cnv_crdt_session_transport(sd->a), .max_message = 1u << 16};
  assert_int_equal(cnv_crdt_repl_create(&rc, &sd->r), CNV_OK);
  assert_int_equal(cnv_crdt_repl_add(sd->r, "set", CNV_CRDT_ORSET), CNV_OK);
  assert_int_equal(cnv_crdt_repl_add(sd->r, "pn", CNV_CRDT_PNCOUNTER), CNV_OK);
}

static void setup(world *w, uint32_t c_max, uint32_t s_max) {
  memset(w, 0, sizeof *w);
  handshake(w);
  make_side(w, &w->c, C_ID, S_ID, c_max);
  make_side(w, &w->s, S_ID, C_ID, s_max);
}

static void teardown(world *w) {
  side *sides[2] = {&w->c, &w->s};
  for (int i = 0; i < 2; i++) {
    cnv_crdt_repl_destroy(sides[i]->r);
    cnv_crdt_session_destroy(sides[i]->a);
    cnv_session_destroy(sides[i]->sess);
  }
}

/* One round: both tick, then the bytes go both ways; every delivery must succeed. */
static void round_trip(world *w) {
  w->now += 1000;
  assert_int_equal(cnv_crdt_repl_tick(w->c.r), CNV_OK);
  assert_int_equal(cnv_crdt_repl_tick(w->s.r), CNV_OK);
  assert_int_equal(carry(w, &w->c, &w->s), CNV_OK);
  assert_int_equal(carry(w, &w->s, &w->c), CNV_OK);
  assert_int_equal(w->c.deliver_st, CNV_OK);
  assert_int_equal(w->s.deliver_st, CNV_OK);
}

typedef struct op {
  const char *elem; /* OR-Set element to add (or remove when del) */
  bool del;
  int64_t n; /* PN-Counter addend */
} op;

static cnv_status apply(void *ctx, cnv_crdt *state, cnv_crdt *delta) {
  const op *o = ctx;
  if (o->elem) {
    size_t len = strlen(o->elem);
    return o->del ? cnv_crdt_orset_remove(state, o->elem, len, delta) : cnv_crdt_orset_add(state, o->elem, len, delta);
  }
  return cnv_crdt_pncounter_add(state, o->n, delta);
}

static void add(side *sd, const char *elem) {
  op o = {.elem = elem};
  assert_int_equal(cnv_crdt_repl_update(sd->r, "set", apply, &o), CNV_OK);
}
static void del(side *sd, const char *elem) {
  op o = {.elem = elem, .del = true};
  assert_int_equal(cnv_crdt_repl_update(sd->r, "set", apply, &o), CNV_OK);
}
static void count(side *sd, int64_t n) {
  op o = {.n = n};
  assert_int_equal(cnv_crdt_repl_update(sd->r, "pn", apply, &o), CNV_OK);
}

typedef struct view {
  int64_t pn;
  size_t size;
  bool has[4]; /* "a" .. "d" */
} view;

static cnv_status read_pn(void *ctx, const cnv_crdt *state) { return cnv_crdt_counter_value(state, &((view *)ctx)->pn); }
static cnv_status read_set(void *ctx, const cnv_crdt *state) {
  view *v = ctx;
  v->size = cnv_crdt_orset_size(state);
  for (int i = 0; i < 4; i++) {
    char e = (char)('a' + i);
    v->has[i] = cnv_crdt_orset_contains(state, &e, 1);
  }
  return CNV_OK;
}
static view look(side *sd) {
  view v;
  memset(&v, 0, sizeof v);
  assert_int_equal(cnv_crdt_repl_read(sd->r, "pn", read_pn, &v), CNV_OK);
  assert_int_equal(cnv_crdt_repl_read(sd->r, "set", read_set, &v), CNV_OK);
  return v;
}
static bool same(view a, view b) {
  return a.pn == b.pn && a.size == b.size && memcmp(a.has, b.has, sizeof a.has) == 0;
}

/* Rounds until both views are equal and match want (at most 32). */
static void converge(world *w, view want) {
  for (int k = 0; k < 32 && !(same(look(&w->c), want) && same(look(&w->s), want)); k++) round_trip(w);
  view c = look(&w->c), s = look(&w->s);
  assert_int_equal(c.pn, want.pn);
  assert_int_equal(c.size, want.size);
  assert_true(same(c, want));
  assert_true(same(s, want));
}

static void test_converge(void **state) {
  (void)state;
  world w;
  setup(&w, 0, 0);
  add(&w.c, "a");
  add(&w.c, "b");
  count(&w.c, 5);
  add(&w.s, "c");
  count(&w.s, -3);
  view want = {.pn = 2, .size = 3, .has = {true, true, true, false}};
  converge(&w, want);
  /* a remove on one side, a concurrent add and remove of "d" (add wins) */
  del(&w.c, "a");
  add(&w.s, "d");
  add(&w.c, "d");
  del(&w.c, "d");
  count(&w.s, 40);
  view want2 = {.pn = 42, .size = 3, .has = {false, true, true, true}};
  converge(&w, want2);
  cnv_crdt_session_stats cs, ss;
  cnv_crdt_session_stats_get(w.c.a, &cs);
  cnv_crdt_session_stats_get(w.s.a, &ss);
  assert_true(cs.sealed > 0 && ss.sealed > 0);
  assert_true(cs.bytes_sealed > cs.sealed * (CNV_FRAME_HEADER_SIZE + CNV_SESSION_TAG_BYTES));
  assert_int_equal(ss.delivered, cs.sealed); /* every frame the client sealed reached the server */
  assert_int_equal(cs.delivered, ss.sealed);
  assert_int_equal(cs.malformed + ss.malformed + cs.send_refused + ss.send_refused, 0);
  cnv_crdt_repl_stats rs;
  cnv_crdt_repl_stats_get(w.s.r, &rs);
  assert_int_equal(rs.received, ss.delivered);
  assert_int_equal(rs.malformed, 0);
  assert_int_equal(cnv_session_error(w.c.sess), CNV_OK);
  assert_int_equal(cnv_session_error(w.s.sess), CNV_OK);
  teardown(&w);
}

/* A sealed frame modified in flight fails to open: the server session ends, nothing reaches
 * the replicator. */
static void test_tampered(void **state) {
  (void)state;
  world w;
  setup(&w, 0, 0);
  add(&w.c, "a");
  view want = {.pn = 0, .size = 1, .has = {true, false, false, false}};
  converge(&w, want);
  count(&w.c, 100);
  assert_int_equal(cnv_crdt_repl_tick(w.c.r), CNV_OK);
  static uint8_t buf[1 << 16];
  size_t n = 0;
  assert_int_equal(cnv_crdt_session_pull(w.c.a, buf, sizeof buf, &n), CNV_OK);
  assert_true(n > CNV_FRAME_HEADER_SIZE + CNV_SESSION_TAG_BYTES);
  buf[CNV_FRAME_HEADER_SIZE + 1] ^= 0x40; /* a payload byte of the first frame */
  cnv_crdt_repl_stats before, after;
  cnv_crdt_repl_stats_get(w.s.r, &before);
  cnv_crdt_session_stats sb, sa;
  cnv_crdt_session_stats_get(w.s.a, &sb);
  w.s.events = 0;
  assert_int_equal(tsp_feed(w.s.sess, buf, n, 0, w.now, on_event, &w.s), CNV_ESESSION_OPEN);
  assert_int_equal(w.s.events, 0);
  assert_int_equal(cnv_session_error(w.s.sess), CNV_ESESSION_OPEN);
  cnv_crdt_repl_stats_get(w.s.r, &after);
  cnv_crdt_session_stats_get(w.s.a, &sa);
  assert_int_equal(after.received, before.received);
  assert_int_equal(sa.delivered, sb.delivered);
  assert_int_equal(look(&w.s).pn, 0);
  assert_int_equal(look(&w.c).pn, 100);
  /* the ended session refuses the server's next sends: counted by adapter and replicator */
  count(&w.s, 1);
  assert_int_equal(cnv_crdt_repl_tick(w.s.r), CNV_OK);
  cnv_crdt_session_stats_get(w.s.a, &sa);
  cnv_crdt_repl_stats_get(w.s.r, &after);
  assert_true(sa.send_refused > 0);
  assert_true(after.send_failed > before.send_failed);
  teardown(&w);
}

/* Messages over max_message: refused on send (the client's adapter) and on delivery (the
 * server's adapter, smaller than the client's), counted, nothing merged; garbage in a
 * REPLICATION frame is refused by the replicator and counted; events of other types are not
 * the adapter's. */
static void test_oversized_and_malformed(void **state) {
  (void)state;
  world w;
  setup(&w, 4096, 300);
  char e[2] = "a";
  add(&w.c, e);
  view want = {.pn = 0, .size = 1, .has = {true, false, false, false}};
  converge(&w, want);
  /* the client's next delta is bigger than the server's adapter takes, smaller than 4096 */
  char big[200];
  for (int i = 0; i < 4; i++) {
    memset(big, 'x' + i, sizeof big - 1);
    big[sizeof big - 1] = 0;
    add(&w.c, big);
  }
  assert_int_equal(cnv_crdt_repl_tick(w.c.r), CNV_OK);
  cnv_crdt_session_stats cs, ss;
  cnv_crdt_session_stats_get(w.c.a, &cs);
  assert_int_equal(cs.send_refused, 0);
  w.s.deliver_st = CNV_OK;
  assert_int_equal(carry(&w, &w.c, &w.s), CNV_OK);
  assert_int_equal(w.s.deliver_st, CNV_ECRDT_MALFORMED);
  cnv_crdt_session_stats_get(w.s.a, &ss);
  assert_true(ss.malformed > 0);
  assert_int_equal(look(&w.s).size, 1);                  /* nothing merged */
  assert_int_equal(cnv_session_error(w.s.sess), CNV_OK); /* the session itself is fine */
  /* over the sender's own bound: refused before sealing */
  static uint8_t huge[5000];
  memset(huge, 1, sizeof huge);
  assert_int_equal(cnv_crdt_session_send(w.c.a, S_ID, huge, sizeof huge), CNV_ERANGE);
  assert_int_equal(cnv_crdt_session_send(w.c.a, S_ID, huge, 0), CNV_ERANGE);
  cnv_crdt_session_stats_get(w.c.a, &cs);
  assert_int_equal(cs.send_refused, 2);
  assert_int_equal(cnv_crdt_session_pending(w.c.a), 0);
  /* a message for another replica is not this link's */
  assert_int_equal(cnv_crdt_session_send(w.c.a, 99, huge, 10), CNV_OK);
  assert_int_equal(cnv_crdt_session_pending(w.c.a), 0);
  /* garbage: sealed fine, refused by the replicator, counted by both */
  cnv_crdt_repl_stats rb, ra;
  cnv_crdt_repl_stats_get(w.s.r, &rb);
  cnv_crdt_session_stats_get(w.s.a, &ss);
  uint64_t mal = ss.malformed;
  assert_int_equal(cnv_crdt_session_send(w.c.a, S_ID, (const uint8_t *)"\xff\xff garbage", 10), CNV_OK);
  w.s.deliver_st = CNV_OK;
  assert_int_equal(carry(&w, &w.c, &w.s), CNV_OK);
  assert_int_equal(w.s.deliver_st, CNV_ECRDT_MALFORMED);
  cnv_crdt_session_stats_get(w.s.a, &ss);
  cnv_crdt_repl_stats_get(w.s.r, &ra);
  assert_int_equal(ss.malformed, mal + 1);
  assert_int_equal(ra.malformed, rb.malformed + 1);
  /* not a REPLICATION message */
  cnv_session_event ev = {.kind = CNV_SESSION_EV_MESSAGE, .type = CNV_MSG_HEARTBEAT, .data = huge, .len = 1};
  assert_int_equal(cnv_crdt_session_deliver(w.s.a, w.s.r, &ev), CNV_EINVAL);
  ev.type = CNV_MSG_REPLICATION;
  ev.len = 0;
  assert_int_equal(cnv_crdt_session_deliver(w.s.a, w.s.r, &ev), CNV_ECRDT_MALFORMED);
  teardown(&w);
}

/* Arguments, the outbox bound, and a send before the handshake. */
static void test_arguments(void **state) {
  (void)state;
  assert_true(sodium_init() >= 0);
  uint8_t pk[32], sk[64];
  assert_int_equal(crypto_sign_keypair(pk, sk), 0);
  cnv_session_config sc;
  cnv_session_config_default(&sc, CNV_SESSION_SERVER);
  sc.secret_key = sk;
  cnv_session *s = NULL;
  assert_int_equal(cnv_session_create(&sc, 1, &s), CNV_OK);
  cnv_crdt_session *a = NULL;
  cnv_crdt_session_config cfg = {.session = s, .peer = 0};
  assert_int_equal(cnv_crdt_session_create(&cfg, &a), CNV_EINVAL);
  assert_int_equal(cnv_crdt_session_create(NULL, &a), CNV_EINVAL);
  cfg.peer = 7;
  cfg.max_message = 1000;
  cfg.outbox = CNV_SESSION_SEAL_BOUND(1000) - 1;
  assert_int_equal(cnv_crdt_session_create(&cfg, &a), CNV_ERANGE);
  cfg.outbox = CNV_SESSION_SEAL_BOUND(1000);
  assert_int_equal(cnv_crdt_session_create(&cfg, &a), CNV_OK);
  assert_int_equal(cnv_crdt_session_send(a, 7, (const uint8_t *)"x", 1), CNV_ESTATE); /* no handshake */
  assert_int_equal(cnv_crdt_session_send(NULL, 7, (const uint8_t *)"x", 1), CNV_EINVAL);
  size_t n = 1;
  assert_int_equal(cnv_crdt_session_pull(a, NULL, 0, &n), CNV_OK);
  assert_int_equal(n, 0);
  assert_int_equal(cnv_crdt_session_pull(NULL, NULL, 0, &n), CNV_EINVAL);
  cnv_crdt_session_stats st;
  cnv_crdt_session_stats_get(a, &st);
  assert_int_equal(st.send_refused, 1); /* the NULL adapter counts nowhere */
  cnv_crdt_session_stats_get(NULL, &st);
  assert_int_equal(st.sealed, 0);
  assert_int_equal(cnv_crdt_session_pending(NULL), 0);
  cnv_crdt_session_destroy(a);
  cnv_crdt_session_destroy(NULL);
  cnv_session_destroy(s);
}

/* A full outbox refuses with CNV_EFULL until it is pulled. */
static void test_outbox_full(void **state) {
  (void)state;
  world w;
  memset(&w, 0, sizeof w);
  handshake(&w);
  cnv_crdt_session_config cfg = {.session = w.c.sess, .peer = S_ID, .max_message = 100, .outbox = 2 * CNV_SESSION_SEAL_BOUND(100)};
  assert_int_equal(cnv_crdt_session_create(&cfg, &w.c.a), CNV_OK);
  uint8_t m[100];
  memset(m, 3, sizeof m);
  int sent = 0;
  while (cnv_crdt_session_send(w.c.a, 0, m, sizeof m) == CNV_OK) sent++;
  assert_true(sent >= 2);
  assert_int_equal(cnv_crdt_session_send(w.c.a, 0, m, sizeof m), CNV_EFULL);
  uint8_t part[7];
  size_t n = 0;
  assert_int_equal(cnv_crdt_session_pull(w.c.a, part, sizeof part, &n), CNV_OK); /* a split frame */
  assert_int_equal(n, sizeof part);
  static uint8_t rest[4096];
  size_t k = 0;
  assert_int_equal(cnv_crdt_session_pull(w.c.a, rest, sizeof rest, &k), CNV_OK);
  assert_int_equal(cnv_crdt_session_send(w.c.a, 0, m, sizeof m), CNV_OK);
  cnv_crdt_session_destroy(w.c.a);
  cnv_session_destroy(w.c.sess);
  cnv_session_destroy(w.s.sess);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_converge),
      cmocka_unit_test(test_tampered),
      cmocka_unit_test(test_oversized_and_malformed),
      cmocka_unit_test(test_arguments),
      cmocka_unit_test(test_outbox_full),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
