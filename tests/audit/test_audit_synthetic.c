/* cnv_audit_replay and cnv_audit_whatif on synthetic logs: the runtime's records written by
 * hand through the ledger, each ADMIT with the status a runtime under that policy gives.
 * Replay must reproduce them; a status changed by hand must be named; what-if changes must
 * turn exactly the decisions they touch. */
#include "audit_fixture.h"

#include "support/forge.h"

enum { A = 0,
       B = 1,
       C = 2,
       U = 3,
       D = 4,
       NOBODY = 9 };

/* The base log: what it holds, for the assertions. */
typedef struct base {
  tkey root, other;
  uint8_t link_a[32], link_b[32];
  uint64_t read, write;
  uint64_t admits[32];
  cnv_status status[32];
  uint32_t agent[32];
  size_t n;
  size_t tamper; /* an ADMIT (1-based position) to record with tamper_to instead; 0: none */
  cnv_status tamper_to;
} base;

static void admit(slog *s, base *b, uint32_t agent, uint64_t cap, uint64_t t, cnv_status st, int low) {
  cnv_status rec = b->tamper == b->n + 1 ? b->tamper_to : st;
  b->agent[b->n] = agent;
  b->status[b->n] = rec;
  b->admits[b->n++] = put_admit(s, agent, cap, t, rec, low);
}

static void add_agent(slog *s, uint32_t handle, const tkey *root, uint8_t key_byte, const cnv_deleg_caveats *c,
                      uint8_t link[32]) {
  tkey k;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  assert_int_equal(mint_for_agent(root->sk, key_byte, c, &k, tok, &len), CNV_OK);
  if (link) assert_int_equal(cnv_deleg_link_hash(tok, len, 0, link), CNV_OK);
  put_agent(s, handle, k.pk, tok, len);
}

/* c emptied, then allowing pattern. */
static void cav_allowing(cnv_deleg_caveats *c, const char *pattern) {
  cav_init(c);
  assert_int_equal(cav_allow(c, pattern), CNV_OK);
}

/* Closes s, replays it and removes it: the replay must find decisions and name only the
 * one of record index, replayed as replayed. */
static void assert_one_mismatch(slog *s, uint64_t decisions, uint64_t index, cnv_status replayed) {
  slog_close(s);
  seen sn;
  cnv_audit_summary sum;
  assert_int_equal(replay_seen(s->dir, &sn, &sum), CNV_EAUDIT_MISMATCH);
  assert_int_equal(sum.decisions, decisions);
  assert_int_equal(sn.n, 1);
  assert_int_equal(sn.d[0].index, index);
  assert_int_equal(sn.d[0].replayed, replayed);
  slog_remove(s);
}

/* Writes the base log: every decision kind submit makes, in its phases. */
static void build_base(slog *s, base *b) {
  tkey_make(&b->root, 0x10);
  tkey_make(&b->other, 0x11);
  put_config(s, 7, 5, 1024, 64);
  put_trust(s, b->root.pk, 0);
  cnv_deleg_caveats c;
  cav_allowing(&c, "svc.*");
  c.expiry = 1000;
  add_agent(s, A, &b->root, 0x21, &c, b->link_a);
  cav_allowing(&c, "svc.read");
  add_agent(s, B, &b->root, 0x22, &c, b->link_b);
  cav_allowing(&c, "svc.*");
  add_agent(s, C, &b->other, 0x23, &c, NULL);
  c.max_uses = 2;
  add_agent(s, U, &b->root, 0x24, &c, NULL);
  cav_allowing(&c, "svc.*");
  c.effects = CNV_EFFECT_READ_ONLY;
  add_agent(s, D, &b->root, 0x25, &c, NULL);
  b->read = put_register(s, "svc.read", CNV_EFFECT_READ_ONLY);
  b->write = put_register(s, "svc.write", CNV_EFFECT_MUTATE_STATE);

  admit(s, b, A, b->read, 100, CNV_ERT_DENY_PHASE, 0); /* Bootstrap */
  put_to_operational(s);
  admit(s, b, A, b->read, 100, CNV_OK, 0);
  admit(s, b, A, b->write, 100, CNV_OK, 0);
  admit(s, b, B, b->write, 100, CNV_ERT_DENY_NOT_ALLOWED, 0);
  admit(s, b, B, b->read, 100, CNV_OK, 0);
  admit(s, b, C, b->read, 100, CNV_ERT_DENY_UNTRUSTED, 0);
  admit(s, b, NOBODY, b->read, 100, CNV_ERT_DENY_UNKNOWN_AGENT, 0);
  admit(s, b, A, 12345, 100, CNV_ERT_DENY_UNKNOWN_CAPABILITY, 0);
  admit(s, b, U, b->read, 100, CNV_OK, 0);
  admit(s, b, U, b->read, 101, CNV_OK, 0);
  admit(s, b, U, b->read, 102, CNV_ERT_DENY_USES, 0);
  admit(s, b, D, b->write, 102, CNV_ERT_DENY_EFFECTS, 0);
  admit(s, b, D, b->read, 102, CNV_OK, 0);
  admit(s, b, A, b->read, 1005, CNV_OK, 0); /* within the skew */
  admit(s, b, A, b->read, 2000, CNV_ERT_DENY_EXPIRED, 0);
  admit(s, b, A, b->read, 200, CNV_ERT_DENY_RATE, 0);
  admit(s, b, B, b->read, 200, CNV_EFULL, 0);
  admit(s, b, A, 0, 200, CNV_ERT_DENY_TOO_LONG, 0);
  admit(s, b, A, b->read, 200, CNV_ERT_DENY_ARGUMENTS, 0);
  put_phase(s, CNV_PHASE_OPERATIONAL, CNV_PHASE_DEGRADED);
  admit(s, b, A, b->read, 200, CNV_ERT_DENY_SHED, 1);
  admit(s, b, A, b->read, 200, CNV_OK, 0);
  put_revoke(s, b->link_b);
  admit(s, b, B, b->read, 200, CNV_ERT_DENY_REVOKED, 0);
  put_phase(s, CNV_PHASE_DEGRADED, CNV_PHASE_RECOVERY);
  admit(s, b, A, b->write, 200, CNV_OK, 1);
  put_unregister(s, b->write);
  admit(s, b, A, b->write, 200, CNV_ERT_DENY_UNKNOWN_CAPABILITY, 0);
  put_agent_remove(s, A);
  admit(s, b, A, b->read, 200, CNV_ERT_DENY_UNKNOWN_AGENT, 0);
  put_phase(s, CNV_PHASE_RECOVERY, CNV_PHASE_EMERGENCY);
  admit(s, b, B, b->read, 200, CNV_ERT_DENY_PHASE, 0);
}

/* A new log holding the base log, still open for more records. */
static void base_open(slog *s, base *b) {
  slog_open(s);
  build_base(s, b);
}

static void base_log(slog *s, base *b) {
  base_open(s, b);
  slog_close(s);
}

static int setup(void **state) {
  (void)state;
  return sodium_init() < 0 ? -1 : 0;
}

/* A test's base log (its cmocka state: written before it, removed after) and what a replay
 * or what-if over it reported. */
typedef struct based {
  slog s;
  base b;
  seen sn;
  cnv_audit_summary sum;
} based;

static int base_setup(void **state) {
  based *x = calloc(1, sizeof *x);
  if (!x) return -1;
  base_log(&x->s, &x->b);
  *state = x;
  return 0;
}

static int base_teardown(void **state) {
  based *x = *state;
  slog_remove(&x->s);
  free(x);
  return 0;
}

/* After a what-if into x->sn: each base decision i for which moved(b, i) says yes is
 * reported, recorded as logged and replayed as replayed; no other is. Returns how many. */
static size_t assert_moved(const based *x, int (*moved)(const base *b, size_t i), cnv_status replayed) {
  size_t n = 0;
  for (size_t i = 0; i < x->b.n; i++) {
    const cnv_audit_decision *d = seen_at(&x->sn, x->b.admits[i]);
    if (moved(&x->b, i)) {
      assert_non_null(d);
      assert_int_equal(d->replayed, replayed);
      assert_int_equal(d->recorded, x->b.status[i]);
      n++;
    } else {
      assert_null(d);
    }
  }
  return n;
}

static void replay_reproduces_every_decision(void **state) {
  based *x = *state;
  const base *b = &x->b;
  assert_int_equal(replay_seen(x->s.dir, &x->sn, &x->sum), CNV_OK);
  assert_int_equal(x->sn.n, 0);
  assert_int_equal(x->sum.decisions, b->n);
  assert_int_equal(x->sum.same, b->n);
  assert_int_equal(x->sum.differ, 0);
  size_t ok = 0;
  for (size_t i = 0; i < b->n; i++) ok += b->status[i] == CNV_OK;
  assert_int_equal(x->sum.accepted, ok);
  assert_int_equal(x->sum.denied, b->n - ok);
  /* every record is read: GENESIS, the runtime's, the final checkpoint */
  assert_true(x->sum.records > b->admits[b->n - 1]);
  /* out and fn may be NULL */
  assert_int_equal(cnv_audit_replay(x->s.dir, NULL, NULL, NULL), CNV_OK);
}

/* Each ADMIT recorded with another status than the policy gives is named, and only it. */
static void replay_names_a_changed_status(void **state) {
  (void)state;
  static const struct {
    size_t at;
    cnv_status to;
  } cases[] = {
      {5, CNV_ERT_DENY_NOT_ALLOWED}, /* B's accepted read recorded as denied */
      {2, CNV_ERT_DENY_REVOKED},     /* A's accepted read */
      {11, CNV_OK},                  /* U's third use accepted */
      {6, CNV_OK},                   /* the untrusted token accepted */
      {7, CNV_ERT_DENY_RATE},        /* a load outcome for an unknown agent */
      {1, CNV_OK},                   /* accepted in Bootstrap */
      {20, CNV_ERT_DENY_PHASE},      /* a phase denial in Degraded */
      {26, CNV_OK},                  /* accepted in Emergency */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    slog s;
    base b = {.tamper = cases[k].at, .tamper_to = cases[k].to};
    base_log(&s, &b);
    seen sn;
    cnv_audit_summary sum;
    assert_int_equal(replay_seen(s.dir, &sn, &sum), CNV_EAUDIT_MISMATCH);
    uint64_t index = b.admits[cases[k].at - 1];
    const cnv_audit_decision *d = seen_at(&sn, index);
    assert_non_null(d);
    assert_int_equal(d->recorded, cases[k].to);
    assert_int_not_equal(d->replayed, cases[k].to);
    assert_int_equal(d->agent, b.agent[cases[k].at - 1]);
    /* that record alone (U's third use recorded as accepted: replay charges accepted
     * decisions only, so the first two are reproduced and the third is named) */
    assert_int_equal(sn.n, 1);
    assert_int_equal(sum.differ, 1);
    assert_int_equal(sum.decisions, b.n);
    slog_remove(&s);
  }
}

/* A callback that asks to stop ends the replay at once, still a mismatch. */
static void replay_stops_when_asked(void **state) {
  (void)state;
  slog s;
  base b = {0};
  base_open(&s, &b);
  put_admit(&s, NOBODY, b.read, 300, CNV_OK, 0);
  put_admit(&s, NOBODY, b.read, 300, CNV_OK, 0);
  slog_close(&s);
  seen sn = {.stop_after = 1};
  cnv_audit_summary sum;
  assert_int_equal(cnv_audit_replay(s.dir, seen_fn, &sn, &sum), CNV_EAUDIT_MISMATCH);
  assert_int_equal(sn.n, 1);
  assert_int_equal(sum.differ, 1);
  assert_int_equal(sum.decisions, b.n + 1);
  slog_remove(&s);
}

/* Every decision of A that reached its token check (revoked from the start). */
static int a_token_checked(const base *b, size_t i) {
  return b->agent[i] == A && (b->status[i] == CNV_OK || b->status[i] == CNV_ERT_DENY_EXPIRED);
}

static void whatif_revoke_added_from_the_start(void **state) {
  based *x = *state;
  cnv_audit_change ch = {.kind = CNV_AUDIT_REVOKE_ADD};
  memcpy(ch.hash, x->b.link_a, 32);
  whatif_one(x->s.dir, &ch, &x->sn, &x->sum);
  /* every decision of A that reached its token check is now a revocation, nothing else moves */
  size_t expect = assert_moved(x, a_token_checked, CNV_ERT_DENY_REVOKED);
  assert_int_equal(expect, 6);
  assert_int_equal(x->sn.n, expect);
  assert_int_equal(x->sum.differ, expect);
  assert_int_equal(x->sum.same + x->sum.differ, x->b.n);
}

static void whatif_revoke_removed(void **state) {
  based *x = *state;
  cnv_audit_change ch = {.kind = CNV_AUDIT_REVOKE_REMOVE};
  memcpy(ch.hash, x->b.link_b, 32);
  whatif_one(x->s.dir, &ch, &x->sn, &x->sum);
  assert_int_equal(x->sn.n, 1);
  assert_int_equal(x->sn.d[0].recorded, CNV_ERT_DENY_REVOKED);
  assert_int_equal(x->sn.d[0].replayed, CNV_OK);
  assert_int_equal(x->sn.d[0].agent, B);
  /* a hash the log never revoked changes nothing */
  memset(ch.hash, 0xAB, 32);
  assert_int_equal(cnv_audit_whatif(x->s.dir, &ch, 1, NULL, NULL, &x->sum), CNV_OK);
  assert_int_equal(x->sum.differ, 0);
}

/* The token-checked decisions, the untrusted one already denied as untrusted. */
static int token_checked(const base *b, size_t i) {
  cnv_status r = b->status[i];
  return r == CNV_OK || r == CNV_ERT_DENY_NOT_ALLOWED || r == CNV_ERT_DENY_USES || r == CNV_ERT_DENY_EFFECTS ||
         r == CNV_ERT_DENY_EXPIRED || r == CNV_ERT_DENY_REVOKED;
}

static void whatif_trust_removed(void **state) {
  based *x = *state;
  cnv_audit_change ch = {.kind = CNV_AUDIT_TRUST_REMOVE};
  memcpy(ch.key, x->b.root.pk, 32);
  whatif_one(x->s.dir, &ch, &x->sn, &x->sum);
  assert_int_equal(x->sum.accepted, 0);
  assert_int_equal(x->sum.differ, assert_moved(x, token_checked, CNV_ERT_DENY_UNTRUSTED));
}

/* Not decided before the phase is looked at, nor already a phase denial. */
static int phase_checked(const base *b, size_t i) {
  cnv_status r = b->status[i];
  return !(r == CNV_ERT_DENY_PHASE || r == CNV_ERT_DENY_TOO_LONG || r == CNV_ERT_DENY_UNKNOWN_CAPABILITY ||
           r == CNV_ERT_DENY_ARGUMENTS);
}

static void whatif_phase_forced(void **state) {
  based *x = *state;
  const base *b = &x->b;
  cnv_audit_change ch = {.kind = CNV_AUDIT_PHASE_FORCE, .phase = CNV_PHASE_EMERGENCY};
  whatif_one(x->s.dir, &ch, &x->sn, &x->sum);
  assert_int_equal(x->sum.accepted, 0);
  assert_int_equal(x->sum.differ, assert_moved(x, phase_checked, CNV_ERT_DENY_PHASE));
  /* Operational throughout: the Bootstrap denial and the shed work pass; B's read in
   * Emergency now reaches its token, which was revoked */
  ch.phase = CNV_PHASE_OPERATIONAL;
  whatif_one(x->s.dir, &ch, &x->sn, &x->sum);
  assert_int_equal(x->sn.n, 3);
  assert_int_equal(seen_at(&x->sn, b->admits[0])->replayed, CNV_OK);
  assert_int_equal(seen_at(&x->sn, b->admits[19])->replayed, CNV_OK);
  assert_int_equal(seen_at(&x->sn, b->admits[b->n - 1])->replayed, CNV_ERT_DENY_REVOKED);
}

/* Changes combine; no change at all is a replay that reports nothing. */
static void whatif_combined_and_empty(void **state) {
  based *x = *state;
  assert_int_equal(cnv_audit_whatif(x->s.dir, NULL, 0, NULL, NULL, &x->sum), CNV_OK);
  assert_int_equal(x->sum.differ, 0);
  assert_int_equal(x->sum.decisions, x->b.n);
  cnv_audit_change ch[2] = {{.kind = CNV_AUDIT_REVOKE_REMOVE}, {.kind = CNV_AUDIT_PHASE_FORCE, .phase = CNV_PHASE_OPERATIONAL}};
  memcpy(ch[0].hash, x->b.link_b, 32);
  assert_int_equal(cnv_audit_whatif(x->s.dir, ch, 2, seen_fn, &x->sn, &x->sum), CNV_OK);
  /* the revoked read and the Emergency one of B both pass now, with the other two */
  assert_int_equal(x->sn.n, 4);
  assert_int_equal(seen_at(&x->sn, x->b.admits[21])->replayed, CNV_OK);
}

static void whatif_rejects_bad_changes(void **state) {
  based *x = *state;
  const char *dir = x->s.dir;
  cnv_audit_change ch = {.kind = 99};
  assert_int_equal(cnv_audit_whatif(dir, &ch, 1, NULL, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_audit_whatif(dir, NULL, 1, NULL, NULL, NULL), CNV_EINVAL);
  ch = (cnv_audit_change){.kind = CNV_AUDIT_PHASE_FORCE, .phase = CNV_PHASE_COUNT};
  assert_int_equal(cnv_audit_whatif(dir, &ch, 1, NULL, NULL, NULL), CNV_ERANGE);
  ch.phase = -1;
  assert_int_equal(cnv_audit_whatif(dir, &ch, 1, NULL, NULL, NULL), CNV_ERANGE);
  assert_int_equal(cnv_audit_whatif(NULL, NULL, 0, NULL, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_audit_replay(NULL, NULL, NULL, NULL), CNV_EINVAL);
}

/* Not a runtime's log: no CONFIG before the first decision, or none at all. */
static void no_config(void **state) {
  (void)state;
  slog s;
  slog_open(&s);
  put_admit(&s, 0, 1, 1, CNV_ERT_DENY_UNKNOWN_CAPABILITY, 0);
  put_config(&s, 1, 30, 16, 16);
  slog_close(&s);
  cnv_audit_summary sum;
  assert_int_equal(cnv_audit_replay(s.dir, NULL, NULL, &sum), CNV_EAUDIT_NO_CONFIG);
  assert_int_equal(sum.decisions, 0);
  assert_int_equal(cnv_audit_whatif(s.dir, NULL, 0, NULL, NULL, NULL), CNV_EAUDIT_NO_CONFIG);
  slog_remove(&s);

  slog_open(&s); /* GENESIS only */
  slog_close(&s);
  assert_int_equal(cnv_audit_replay(s.dir, NULL, NULL, NULL), CNV_EAUDIT_NO_CONFIG);
  slog_remove(&s);
}

/* Closes s, whose log replay must refuse as corrupt, and removes it. */
static void assert_corrupt(slog *s) {
  slog_close(s);
  assert_int_equal(cnv_audit_replay(s->dir, NULL, NULL, NULL), CNV_ELEDGER_CORRUPT);
  slog_remove(s);
}

/* Runtime records that no runtime writes are refused as corrupt. */
static void bad_runtime_records(void **state) {
  (void)state;
  slog s;
  slog_open(&s);
  uint8_t eight[8] = {0};
  cnv_ledger_entry e = {.kind = CNV_LREC_CONFIG, .ticket = 1, .payload = eight, .payload_len = 8};
  slog_put(&s, &e);
  assert_corrupt(&s);

  slog_open(&s);
  put_config(&s, 1, 30, 16, 16);
  e = (cnv_ledger_entry){.kind = CNV_LREC_REGISTER, .capability = 5, .payload = (const uint8_t *)"Not A Path!", .payload_len = 11};
  slog_put(&s, &e);
  assert_corrupt(&s);

  slog_open(&s);
  put_config(&s, 1, 30, 16, 16);
  put_phase(&s, CNV_PHASE_BOOTSTRAP, 12);
  assert_corrupt(&s);

  char dir[256];
  tmpdir_make(dir);
  assert_int_not_equal(cnv_audit_replay(dir, NULL, NULL, NULL), CNV_OK); /* no ledger there */
  tmpdir_remove(dir);
}

/* A second CONFIG is a new runtime: nothing of the first one's policy is left. */
static void config_starts_a_new_runtime(void **state) {
  (void)state;
  slog s;
  base b = {0};
  base_open(&s, &b);
  put_config(&s, 7, 5, 1024, 64);
  put_admit(&s, B, b.read, 100, CNV_ERT_DENY_UNKNOWN_CAPABILITY, 0);
  put_register(&s, "svc.read", CNV_EFFECT_READ_ONLY);
  put_to_operational(&s);
  put_admit(&s, B, b.read, 100, CNV_ERT_DENY_UNKNOWN_AGENT, 0);
  cnv_deleg_caveats c;
  cav_allowing(&c, "svc.*");
  c.max_uses = 2;
  add_agent(&s, U, &b.root, 0x24, &c, NULL);
  put_admit(&s, U, b.read, 100, CNV_ERT_DENY_UNTRUSTED, 0); /* no trust root yet */
  put_trust(&s, b.root.pk, 0);
  /* U's token spent both uses in the first runtime; this one counts afresh */
  put_admit(&s, U, b.read, 100, CNV_OK, 0);
  put_admit(&s, U, b.read, 100, CNV_OK, 0);
  put_admit(&s, U, b.read, 100, CNV_ERT_DENY_USES, 0);
  put_trust(&s, b.root.pk, 1);
  put_admit(&s, U, b.read, 100, CNV_ERT_DENY_UNTRUSTED, 0);
  slog_close(&s);
  cnv_audit_summary sum;
  seen sn;
  assert_int_equal(replay_seen(s.dir, &sn, &sum), CNV_OK);
  assert_int_equal(sum.decisions, b.n + 7);
  slog_remove(&s);
}

/* An agent whose token was too long for its record: known, its token checks as recorded;
 * the checks before them still run. Without the flag, a token-less AGENT is corrupt. */
static void omitted_token(void **state) {
  (void)state;
  slog s;
  slog_open(&s);
  put_config(&s, 7, 5, 1024, 64);
  uint64_t read = put_register(&s, "svc.read", CNV_EFFECT_READ_ONLY);
  put_to_operational(&s);
  cnv_ledger_entry e = {.kind = CNV_LREC_AGENT, .agent = A, .flags = CNV_RT_AGENT_TOKEN_OMITTED, .epoch = s.epoch};
  memset(e.key, 7, sizeof e.key);
  slog_put(&s, &e);
  put_admit(&s, A, read, 100, CNV_OK, 0);
  put_admit(&s, A, read, 100, CNV_ERT_DENY_REVOKED, 0);
  uint64_t wrong = put_admit(&s, A, 999, 100, CNV_OK, 0); /* no such capability */
  assert_one_mismatch(&s, 3, wrong, CNV_ERT_DENY_UNKNOWN_CAPABILITY);

  slog_open(&s);
  put_config(&s, 7, 5, 1024, 64);
  e.flags = 0;
  slog_put(&s, &e);
  assert_corrupt(&s);
}

/* ADMIT with an explicit epoch (the one its submit loaded before deciding). */
static uint64_t admit_at(slog *s, uint64_t epoch, uint64_t cap, cnv_status st) {
  int reason = st == CNV_OK ? -1 : cnv_runtime_denial_of(st);
  cnv_ledger_entry e = {.kind = CNV_LREC_ADMIT, .agent = A, .capability = cap, .token_time = 100, .status = st, .flags = 1, .detail = (uint16_t)(reason + 1), .epoch = epoch};
  return slog_put(s, &e);
}

/* A submit racing a phase move (the breaker's, on another thread): it may have read the
 * phase of a move whose record comes after its ADMIT, or not have seen a move whose record
 * comes before; the epoch it loaded bounds what it saw. */
static void phase_races(void **state) {
  (void)state;
  slog s;
  slog_open(&s);
  base b = {0};
  tkey_make(&b.root, 0x10);
  put_config(&s, 7, 5, 1024, 64);
  put_trust(&s, b.root.pk, 0);
  cnv_deleg_caveats c;
  cav_allowing(&c, "svc.*");
  add_agent(&s, A, &b.root, 0x21, &c, NULL);
  uint64_t read = put_register(&s, "svc.read", CNV_EFFECT_READ_ONLY);
  put_to_operational(&s);
  /* saw the move to Degraded (its epoch), recorded before the move's record */
  admit_at(&s, s.epoch + 1, read, CNV_ERT_DENY_SHED);
  put_phase(&s, CNV_PHASE_OPERATIONAL, CNV_PHASE_DEGRADED);
  /* loaded the epoch before the move to Recovery, read the phase before it too */
  put_phase(&s, CNV_PHASE_DEGRADED, CNV_PHASE_RECOVERY);
  admit_at(&s, s.epoch - 1, read, CNV_ERT_DENY_SHED);
  /* and after it */
  admit_at(&s, s.epoch - 1, read, CNV_OK);
  put_phase(&s, CNV_PHASE_RECOVERY, CNV_PHASE_OPERATIONAL);
  put_phase(&s, CNV_PHASE_OPERATIONAL, CNV_PHASE_DEGRADED);
  /* in Degraded with no move after it: shed, whatever the record says */
  uint64_t last = admit_at(&s, s.epoch, read, CNV_OK);
  assert_one_mismatch(&s, 4, last, CNV_ERT_DENY_SHED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(replay_reproduces_every_decision, base_setup, base_teardown),
      cmocka_unit_test(replay_names_a_changed_status),
      cmocka_unit_test(replay_stops_when_asked),
      cmocka_unit_test_setup_teardown(whatif_revoke_added_from_the_start, base_setup, base_teardown),
      cmocka_unit_test_setup_teardown(whatif_revoke_removed, base_setup, base_teardown),
      cmocka_unit_test_setup_teardown(whatif_trust_removed, base_setup, base_teardown),
      cmocka_unit_test_setup_teardown(whatif_phase_forced, base_setup, base_teardown),
      cmocka_unit_test_setup_teardown(whatif_combined_and_empty, base_setup, base_teardown),
      cmocka_unit_test_setup_teardown(whatif_rejects_bad_changes, base_setup, base_teardown),
      cmocka_unit_test(no_config),
      cmocka_unit_test(bad_runtime_records),
      cmocka_unit_test(config_starts_a_new_runtime),
      cmocka_unit_test(phase_races),
      cmocka_unit_test(omitted_token),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
