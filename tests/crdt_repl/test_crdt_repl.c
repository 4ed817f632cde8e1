/* The crdt replicator (include/cnv/crdt.h "Replication", src/crdt/repl*.c) over the in-process
 * hub (tests/support/crdt_hub.h): 3 to 5 replicas under loss, duplication and reordering
 * converge once the loop quiesces, counting every increment once; the messages carry deltas,
 * not states; a replica that joins late gets the full state; a delta that reached only some
 * replicas before its sender left still reaches all (digests); malformed messages are refused
 * and counted. Seeds: CNV_CRDT_SEED (printed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/crdt.h>

#include "crdt/repl_wire.h"
#include "support/crdt_hub.h"

#define MAXR 5

static uint64_t base_seed(void) {
  static uint64_t seed;
  if (!seed) {
    const char *e = getenv("CNV_CRDT_SEED");
    seed = e && *e ? strtoull(e, NULL, 0) : 0x5eed19ull;
    if (!seed) seed = 1;
    printf("# CNV_CRDT_SEED=%llu\n", (unsigned long long)seed);
  }
  return seed;
}

typedef struct swarm {
  crdt_hub *hub;
  cnv_crdt_repl *r[MAXR];
  size_t n;
} swarm;

static const char *const names[] = {"g", "pn", "set", "lww", "mv", "vc"};
static const int types[] = {CNV_CRDT_GCOUNTER, CNV_CRDT_PNCOUNTER, CNV_CRDT_ORSET,
                            CNV_CRDT_LWW, CNV_CRDT_MVREG, CNV_CRDT_VCLOCK};
#define NVALUES 6

static cnv_crdt_repl *make_repl(crdt_hub *hub, size_t i, uint32_t max_message) {
  cnv_crdt_repl_config cfg = {.replica = 1000 + i, .transport = crdt_hub_port(hub, i, 1000 + i), .max_message = max_message};
  cnv_crdt_repl *r = NULL;
  assert_int_equal(cnv_crdt_repl_create(&cfg, &r), CNV_OK);
  for (size_t v = 0; v < NVALUES; v++) assert_int_equal(cnv_crdt_repl_add(r, names[v], types[v]), CNV_OK);
  crdt_hub_attach(hub, i, r);
  return r;
}

static void swarm_open(swarm *s, size_t n, uint64_t seed, unsigned loss, unsigned dup) {
  memset(s, 0, sizeof *s);
  s->hub = crdt_hub_create(seed, loss, dup, true);
  assert_non_null(s->hub);
  s->n = n;
  for (size_t i = 0; i < n; i++) s->r[i] = make_repl(s->hub, i, 0);
}

static void swarm_close(swarm *s) {
  for (size_t i = 0; i < s->n; i++) cnv_crdt_repl_destroy(s->r[i]);
  crdt_hub_destroy(s->hub);
}

static void round_trip(swarm *s) {
  for (size_t i = 0; i < s->n; i++)
    if (s->r[i]) assert_int_equal(cnv_crdt_repl_tick(s->r[i]), CNV_OK);
  size_t errors = 0;
  crdt_hub_deliver(s->hub, &errors);
  assert_int_equal(errors, 0);
}

/* ---- reading states out ---- */

static cnv_status clone_fn(void *ctx, const cnv_crdt *state) { return cnv_crdt_clone(state, 0, (cnv_crdt **)ctx); }

static cnv_crdt *snapshot(cnv_crdt_repl *r, const char *name) {
  cnv_crdt *c = NULL;
  assert_int_equal(cnv_crdt_repl_read(r, name, clone_fn, &c), CNV_OK);
  return c;
}

static bool all_equal(swarm *s) {
  for (size_t v = 0; v < NVALUES; v++) {
    cnv_crdt *first = NULL;
    bool eq = true;
    for (size_t i = 0; i < s->n && eq; i++) {
      if (!s->r[i]) continue;
      cnv_crdt *c = snapshot(s->r[i], names[v]);
      if (!first)
        first = c;
      else {
        eq = cnv_crdt_equal(first, c);
        cnv_crdt_destroy(c);
      }
    }
    cnv_crdt_destroy(first);
    if (!eq) return false;
  }
  return true;
}

static int64_t counter_of(cnv_crdt_repl *r, const char *name) {
  cnv_crdt *c = snapshot(r, name);
  int64_t v = 0;
  assert_int_equal(cnv_crdt_counter_value(c, &v), CNV_OK);
  cnv_crdt_destroy(c);
  return v;
}

/* ---- random updates ---- */

typedef struct op {
  int kind;
  uint64_t arg, ts;
} op;

static cnv_status op_fn(void *ctx, cnv_crdt *state, cnv_crdt *delta) {
  const op *o = ctx;
  char elem[8];
  int len = snprintf(elem, sizeof elem, "e%u", (unsigned)(o->arg % 24));
  switch (o->kind) {
    case 0:
      return cnv_crdt_gcounter_inc(state, o->arg % 5 + 1, delta);
    case 1:
      return cnv_crdt_pncounter_add(state, (int64_t)(o->arg % 9) - 4, delta);
    case 2:
      return o->arg & 32 ? cnv_crdt_orset_remove(state, elem, (size_t)len, delta)
                         : cnv_crdt_orset_add(state, elem, (size_t)len, delta);
    case 3:
      return cnv_crdt_lww_set(state, elem, (size_t)len, o->ts, delta);
    case 4:
      return cnv_crdt_mvreg_set(state, elem, (size_t)len, delta);
    default:
      return cnv_crdt_vclock_tick(state, delta);
  }
}

static void converge_case(uint64_t seed) {
  swarm s;
  size_t n = 3 + (size_t)(seed % 3);
  swarm_open(&s, n, seed, 25, 15);
  int64_t g_sum = 0, pn_sum = 0;
  uint64_t ts = 0;
  for (int round = 0; round < 60; round++) {
    for (size_t i = 0; i < n; i++) {
      unsigned k = (unsigned)(crdt_hub_rand(s.hub) % 3);
      for (unsigned u = 0; u < k; u++) {
        op o = {.kind = (int)(crdt_hub_rand(s.hub) % NVALUES), .arg = crdt_hub_rand(s.hub), .ts = ++ts};
        cnv_status st = cnv_crdt_repl_update(s.r[i], names[o.kind], op_fn, &o);
        assert_int_equal(st, CNV_OK);
        if (o.kind == 0) g_sum += (int64_t)(o.arg % 5 + 1);
        if (o.kind == 1) pn_sum += (int64_t)(o.arg % 9) - 4;
      }
    }
    round_trip(&s);
  }
  /* quiesce: no more updates, the same faults */
  int rounds = 0;
  while (!all_equal(&s) && rounds < 400) {
    round_trip(&s);
    rounds++;
  }
  if (!all_equal(&s)) fail_msg("seed %llu: %zu replicas did not converge", (unsigned long long)seed, n);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(counter_of(s.r[i], "g"), g_sum);
    assert_int_equal(counter_of(s.r[i], "pn"), pn_sum);
  }
  cnv_crdt_repl_stats st;
  cnv_crdt_repl_stats_get(s.r[0], &st);
  assert_true(st.sent > 0 && st.received > 0);
  assert_int_equal(st.malformed, 0);
  swarm_close(&s);
}

static void test_converge_lossy(void **state) {
  (void)state;
  uint64_t seed = base_seed();
  for (uint64_t k = 0; k < 24; k++) converge_case(seed * 1000003ull + k);
}

/* ---- deltas, not states ---- */

static cnv_status add_elem(void *ctx, cnv_crdt *state, cnv_crdt *delta) {
  char e[16];
  int len = snprintf(e, sizeof e, "elem%u", *(unsigned *)ctx);
  return cnv_crdt_orset_add(state, e, (size_t)len, delta);
}

static void test_messages_carry_deltas(void **state) {
  (void)state;
  swarm s;
  swarm_open(&s, 2, base_seed(), 0, 0);
  for (unsigned i = 0; i < 2000; i++) assert_int_equal(cnv_crdt_repl_update(s.r[0], "set", add_elem, &i), CNV_OK);
  for (int k = 0; k < 6; k++) round_trip(&s);
  assert_true(all_equal(&s));
  cnv_crdt *full = snapshot(s.r[0], "set");
  size_t full_len = 0;
  assert_int_equal(cnv_crdt_encode(full, NULL, 0, &full_len), CNV_EFULL);
  cnv_crdt_destroy(full);
  for (unsigned i = 2000; i < 2040; i++) {
    cnv_crdt_repl_stats a, b;
    cnv_crdt_repl_stats_get(s.r[0], &a);
    assert_int_equal(cnv_crdt_repl_update(s.r[0], "set", add_elem, &i), CNV_OK);
    round_trip(&s);
    cnv_crdt_repl_stats_get(s.r[0], &b);
    /* one add: a delta record and a digest, far below the state */
    assert_true(b.bytes_sent - a.bytes_sent < 600);
    assert_true((b.bytes_sent - a.bytes_sent) * 20 < full_len);
  }
  round_trip(&s);
  assert_true(all_equal(&s));
  swarm_close(&s);
}

/* ---- a replica met late gets the full state ---- */

static void test_late_joiner(void **state) {
  (void)state;
  swarm s;
  swarm_open(&s, 3, base_seed() + 7, 10, 10);
  s.n = 2; /* the third starts later */
  crdt_hub_attach(s.hub, 2, NULL);
  op o = {.kind = 0, .arg = 3};
  for (int k = 0; k < 100; k++) {
    assert_int_equal(cnv_crdt_repl_update(s.r[k % 2], "g", op_fn, &o), CNV_OK);
    round_trip(&s);
  }
  for (int k = 0; k < 50 && !all_equal(&s); k++) round_trip(&s);
  assert_int_equal(counter_of(s.r[0], "g"), 400);
  s.n = 3;
  crdt_hub_attach(s.hub, 2, s.r[2]);
  for (int k = 0; k < 100 && !all_equal(&s); k++) round_trip(&s);
  assert_true(all_equal(&s));
  assert_int_equal(counter_of(s.r[2], "g"), 400);
  swarm_close(&s);
}

/* ---- a delta that reached one peer only, its sender gone: the digests repair it ---- */

static cnv_status add_x(void *ctx, cnv_crdt *state, cnv_crdt *delta) {
  (void)ctx;
  return cnv_crdt_orset_add(state, "x", 1, delta);
}

static void test_digest_repairs_departed_sender(void **state) {
  (void)state;
  swarm s;
  swarm_open(&s, 3, base_seed() + 11, 0, 0);
  for (int k = 0; k < 3; k++) round_trip(&s); /* everyone knows everyone */
  crdt_hub_cut(s.hub, 0, 1, true);            /* 0's messages never reach 1 */
  assert_int_equal(cnv_crdt_repl_update(s.r[0], "set", add_x, NULL), CNV_OK);
  round_trip(&s);
  crdt_hub_attach(s.hub, 0, NULL); /* 0 leaves for good */
  cnv_crdt_repl_destroy(s.r[0]);
  s.r[0] = NULL;
  cnv_crdt *c = snapshot(s.r[1], "set");
  assert_false(cnv_crdt_orset_contains(c, "x", 1));
  cnv_crdt_destroy(c);
  for (int k = 0; k < 100 && !all_equal(&s); k++) round_trip(&s);
  assert_true(all_equal(&s));
  c = snapshot(s.r[1], "set");
  assert_true(cnv_crdt_orset_contains(c, "x", 1));
  cnv_crdt_destroy(c);
  swarm_close(&s);
}

/* ---- retirement, a retired replica's next id, snapshots ---- */

static cnv_status inc5(void *ctx, cnv_crdt *state, cnv_crdt *delta) {
  (void)ctx;
  return cnv_crdt_gcounter_inc(state, 5, delta);
}

static cnv_status replicas_of(void *ctx, const cnv_crdt *state) {
  *(size_t *)ctx = cnv_crdt_replicas(state);
  return CNV_OK;
}

static size_t replicas(cnv_crdt_repl *r, const char *name) {
  size_t n = 0;
  assert_int_equal(cnv_crdt_repl_read(r, name, replicas_of, &n), CNV_OK);
  return n;
}

static void test_retire_rekey_snapshot(void **state) {
  (void)state;
  swarm s;
  swarm_open(&s, 3, base_seed() + 13, 10, 10);
  for (size_t i = 0; i < 3; i++) assert_int_equal(cnv_crdt_repl_update(s.r[i], "g", inc5, NULL), CNV_OK);
  for (int k = 0; k < 100 && !(all_equal(&s) && counter_of(s.r[0], "g") == 15); k++) round_trip(&s);
  assert_int_equal(counter_of(s.r[1], "g"), 15);
  assert_int_equal(replicas(s.r[1], "g"), 3);
  /* replica 2 leaves for good; replica 0 retires it: everyone does, the value stays */
  crdt_hub_attach(s.hub, 2, NULL);
  cnv_crdt_repl *gone = s.r[2];
  s.r[2] = NULL;
  assert_int_equal(cnv_crdt_repl_retire(s.r[0], 1002), CNV_OK);
  for (int k = 0; k < 100 && !(all_equal(&s) && replicas(s.r[1], "g") == 2); k++) round_trip(&s);
  assert_int_equal(replicas(s.r[1], "g"), 2);
  assert_int_equal(counter_of(s.r[1], "g"), 15);
  /* it comes back under the same id with its old state: its mutations are refused once it
   * merged a state that retired it; under a new id they count again */
  s.r[2] = gone;
  crdt_hub_attach(s.hub, 2, gone);
  for (int k = 0; k < 100 && cnv_crdt_repl_update(gone, "g", inc5, NULL) == CNV_OK; k++) round_trip(&s);
  assert_int_equal(cnv_crdt_repl_update(gone, "g", inc5, NULL), CNV_EINVAL);
  assert_int_equal(cnv_crdt_repl_rekey(gone, 2002), CNV_OK);
  assert_int_equal(cnv_crdt_repl_update(gone, "g", inc5, NULL), CNV_OK);
  for (int k = 0; k < 100 && !(all_equal(&s) && counter_of(s.r[0], "g") >= 20); k++) round_trip(&s);
  assert_true(all_equal(&s));
  int64_t total = counter_of(s.r[0], "g");
  assert_true(total >= 20);
  /* a snapshot fed to an observer gives it the whole state */
  size_t len = 0;
  assert_int_equal(cnv_crdt_repl_snapshot(s.r[0], NULL, 0, &len), CNV_EFULL);
  uint8_t *snap = malloc(len);
  assert_non_null(snap);
  assert_int_equal(cnv_crdt_repl_snapshot(s.r[0], snap, len, &len), CNV_OK);
  crdt_hub *h2 = crdt_hub_create(1, 0, 0, false);
  cnv_crdt_repl *obs = make_repl(h2, 5, 0); /* replica 1005: no peer of the hub */
  assert_int_equal(cnv_crdt_repl_receive(obs, 1000, snap, len), CNV_OK);
  assert_int_equal(counter_of(obs, "g"), total);
  free(snap);
  cnv_crdt_repl_destroy(obs);
  crdt_hub_destroy(h2);
  swarm_close(&s);
}

/* ---- malformed messages ---- */

static uint8_t captured[1 << 16];
static size_t captured_len;

static cnv_status capture(void *ctx, uint64_t to, const uint8_t *msg, size_t len) {
  (void)ctx;
  /* keep the first message that carries a delta (a digest comes after it) */
  if (to != 0 && captured_len == 0 && len <= sizeof captured) {
    memcpy(captured, msg, len);
    captured_len = len;
  }
  return CNV_OK;
}

static void test_malformed_refused(void **state) {
  (void)state;
  /* a sender whose first message to replica 2 is captured */
  cnv_crdt_repl_config cfg = {.replica = 1, .transport = {.send = capture}};
  cnv_crdt_repl *a = NULL, *b = NULL;
  assert_int_equal(cnv_crdt_repl_create(&cfg, &a), CNV_OK);
  cfg.replica = 2;
  cfg.max_message = 4096;
  assert_int_equal(cnv_crdt_repl_create(&cfg, &b), CNV_OK);
  assert_int_equal(cnv_crdt_repl_add(a, "set", CNV_CRDT_ORSET), CNV_OK);
  assert_int_equal(cnv_crdt_repl_add(b, "set", CNV_CRDT_ORSET), CNV_OK);
  assert_int_equal(cnv_crdt_repl_add(b, "g", CNV_CRDT_GCOUNTER), CNV_OK);
  /* b introduces itself: a's next tick sends it the delta */
  repl_buf hb = {0};
  assert_int_equal(repl_begin(&hb, 77, 0, 0), CNV_OK);
  assert_int_equal(repl_buf_reserve(&hb, 32), CNV_OK);
  repl_put_u8(&hb, REPL_DIGEST);
  repl_put_u8(&hb, 3);
  repl_put_bytes(&hb, "set", 3);
  repl_put_u8(&hb, CNV_CRDT_ORSET);
  repl_put_u64(&hb, 0);
  repl_put_u64(&hb, 0);
  hb.count = 1;
  repl_finish(&hb);
  assert_int_equal(cnv_crdt_repl_receive(a, 2, hb.p, hb.len), CNV_OK);
  free(hb.p);
  assert_int_equal(cnv_crdt_repl_update(a, "set", add_x, NULL), CNV_OK);
  assert_int_equal(cnv_crdt_repl_tick(a), CNV_OK);
  assert_true(captured_len > REPL_HEADER);
  assert_int_equal(captured[REPL_HEADER], REPL_DELTA);

  uint64_t refused = 0;
  /* every truncation */
  for (size_t cut = 0; cut < captured_len; cut++) {
    assert_int_equal(cnv_crdt_repl_receive(b, 1, captured, cut), CNV_ECRDT_MALFORMED);
    refused++;
  }
  uint8_t m[sizeof captured + 1];
  /* trailing byte */
  memcpy(m, captured, captured_len);
  m[captured_len] = 0;
  assert_int_equal(cnv_crdt_repl_receive(b, 1, m, captured_len + 1), CNV_ECRDT_MALFORMED);
  refused++;
  /* single-byte corruptions of the fixed parts: magic, version, flags, count 0, kind, name
   * length 0, type, full flag, from_seq 0 */
  const size_t at[] = {0, 1, 2, 3, REPL_HEADER - 2, REPL_HEADER, REPL_HEADER + 1, REPL_HEADER + 5, REPL_HEADER + 6};
  const uint8_t val[] = {'X', 'X', 9, 1, 0, 9, 0, 9, 2};
  for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
    memcpy(m, captured, captured_len);
    m[at[k]] = val[k];
    if (at[k] == REPL_HEADER - 2) m[REPL_HEADER - 1] = 0;
    assert_int_equal(cnv_crdt_repl_receive(b, 1, m, captured_len), CNV_ECRDT_MALFORMED);
    refused++;
  }
  /* from_seq 0 */
  memcpy(m, captured, captured_len);
  memset(m + REPL_HEADER + 7, 0, 8);
  assert_int_equal(cnv_crdt_repl_receive(b, 1, m, captured_len), CNV_ECRDT_MALFORMED);
  refused++;
  /* a delta whose type is not the receiver's value's: "set" renamed "g\0\0" is malformed (NUL
   * in a name); renamed to the one-byte name "g" with the length fixed below */
  memcpy(m, captured, captured_len);
  m[REPL_HEADER + 2] = 0;
  assert_int_equal(cnv_crdt_repl_receive(b, 1, m, captured_len), CNV_ECRDT_MALFORMED);
  refused++;
  {
    size_t n = 0;
    memcpy(m, captured, REPL_HEADER + 1);
    m[n = REPL_HEADER + 1] = 1;
    m[++n] = 'g';
    memcpy(m + n + 1, captured + REPL_HEADER + 5, captured_len - (REPL_HEADER + 5));
    size_t len = captured_len - 2;
    assert_int_equal(cnv_crdt_repl_receive(b, 1, m, len), CNV_ECRDT_MALFORMED);
    refused++;
  }
  /* larger than max_message */
  uint8_t *big = calloc(1, 5000);
  assert_non_null(big);
  memcpy(big, captured, captured_len);
  assert_int_equal(cnv_crdt_repl_receive(b, 1, big, 5000), CNV_ECRDT_MALFORMED);
  refused++;
  free(big);

  cnv_crdt_repl_stats st;
  cnv_crdt_repl_stats_get(b, &st);
  assert_int_equal(st.malformed, refused);
  cnv_crdt *c = snapshot(b, "set");
  assert_true(cnv_crdt_is_empty(c));
  cnv_crdt_destroy(c);
  /* the message itself is accepted and merged */
  assert_int_equal(cnv_crdt_repl_receive(b, 1, captured, captured_len), CNV_OK);
  c = snapshot(b, "set");
  assert_true(cnv_crdt_orset_contains(c, "x", 1));
  cnv_crdt_destroy(c);
  cnv_crdt_repl_stats_get(b, &st);
  assert_int_equal(st.malformed, refused);
  /* addressed to another replica: ignored, nothing merged, nothing counted */
  memcpy(m, captured, captured_len);
  m[12] = 9; /* to = 9 */
  cnv_crdt_repl_stats_get(b, &st);
  uint64_t received = st.received;
  assert_int_equal(cnv_crdt_repl_receive(b, 1, m, captured_len), CNV_OK);
  cnv_crdt_repl_stats_get(b, &st);
  assert_int_equal(st.received, received + 1);
  assert_int_equal(st.malformed, refused);
  cnv_crdt_repl_destroy(a);
  cnv_crdt_repl_destroy(b);
}

static void test_arguments(void **state) {
  (void)state;
  crdt_hub *h = crdt_hub_create(1, 0, 0, false);
  cnv_crdt_repl_config cfg = {.replica = 0, .transport = crdt_hub_port(h, 0, 5)};
  cnv_crdt_repl *r = NULL;
  assert_int_equal(cnv_crdt_repl_create(&cfg, &r), CNV_EINVAL);
  cfg.replica = 5;
  cfg.max_message = 100;
  assert_int_equal(cnv_crdt_repl_create(&cfg, &r), CNV_ERANGE);
  cfg.max_message = 0;
  assert_int_equal(cnv_crdt_repl_create(&cfg, &r), CNV_OK);
  assert_int_equal(cnv_crdt_repl_add(r, "", CNV_CRDT_ORSET), CNV_ERANGE);
  assert_int_equal(cnv_crdt_repl_add(r, "a", 99), CNV_ERANGE);
  assert_int_equal(cnv_crdt_repl_add(r, "a", CNV_CRDT_ORSET), CNV_OK);
  assert_int_equal(cnv_crdt_repl_add(r, "a", CNV_CRDT_ORSET), CNV_EEXIST);
  assert_int_equal(cnv_crdt_repl_update(r, "b", op_fn, NULL), CNV_ENOTFOUND);
  assert_int_equal(cnv_crdt_repl_receive(r, 0, (const uint8_t *)"x", 1), CNV_EINVAL);
  assert_int_equal(cnv_crdt_repl_retire(r, 5), CNV_EINVAL);
  cnv_crdt_repl_destroy(r);
  crdt_hub_destroy(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_converge_lossy),
      cmocka_unit_test(test_messages_carry_deltas),
      cmocka_unit_test(test_late_joiner),
      cmocka_unit_test(test_digest_repairs_departed_sender),
      cmocka_unit_test(test_retire_rekey_snapshot),
      cmocka_unit_test(test_malformed_refused),
      cmocka_unit_test(test_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
