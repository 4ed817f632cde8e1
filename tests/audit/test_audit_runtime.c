/* Replay and what-if over logs a runtime wrote. The property: for many random runs (seeded;
 * the seed is printed, CNV_AUDIT_SEED=<n> repeats one) of a runtime with a ledger, where one
 * thread adds and removes agents with tokens of random scopes, effects, windows (on a token
 * clock the test moves), use limits and chains, revokes their links, registers and
 * unregisters capabilities, moves the phase and submits normal and low-priority work,
 * cnv_audit_replay reproduces every decision: as many decisions as ADMIT records, each ADMIT
 * record the status submit returned, none differing. Then what-if on a scripted run:
 * revoking a link from the start, dropping a recorded revocation, ignoring the trust root
 * and forcing Emergency each change exactly the decisions they must. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "audit_fixture.h"
#include "cnv_test_util.h"
#include "support/forge.h"

#define SWARM 21u
#define T0 1700000000u

static _Atomic uint64_t token_clock = T0;

static uint64_t test_clock(void *ctx) {
  (void)ctx;
  return atomic_load(&token_clock);
}

static cnv_status handler_ok(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *result) {
  (void)ctx;
  (void)call;
  (void)result;
  return CNV_OK;
}

/* Capabilities the runs use, with their effects. */
static const struct {
  const char *path;
  cnv_effects effects;
} paths[] = {
    {"svc.read", CNV_EFFECT_READ_ONLY},
    {"svc.write", CNV_EFFECT_MUTATE_STATE},
    {"admin.reset", CNV_EFFECT_PRIVILEGED | CNV_EFFECT_MUTATE_STATE},
    {"svc.audit.list", CNV_EFFECT_READ_ONLY},
    {"other.ping", CNV_EFFECTS_NONE},
};
#define N_PATHS (sizeof paths / sizeof paths[0])

static const char *const allows[] = {"svc.*", "svc.read", "svc.write", "admin.*", "other.ping", "admin.reset"};
#define N_ALLOWS (sizeof allows / sizeof allows[0])

#define MAX_AGENTS 64
#define N_MIDS 3

typedef struct agent {
  uint32_t handle;
  bool live;
  uint8_t links[2][32]; /* link hashes, root first */
  int n_links;
} agent;

typedef struct run {
  uint64_t rng;
  slog s;
  cnv_runtime *rt;
  tkey root, stranger, mids[N_MIDS];
  uint8_t mid_tok[N_MIDS][CNV_DELEG_MAX_TOKEN_BYTES];
  size_t mid_len[N_MIDS];
  agent agents[MAX_AGENTS];
  int n_agents;
  uint8_t next_key;
  bool registered[N_PATHS];
  cnv_status *statuses; /* what each submit returned, in order */
  size_t n_submits, cap_submits;
} run;

static uint64_t rnd(run *r, uint64_t n) { return cnv_test_rand(&r->rng) % n; }

static void config(run *r, cnv_runtime_config *cfg) {
  cnv_runtime_config_default(cfg);
  cfg->workers = 1;
  cfg->queue_capacity = 16;
  cfg->swarm_id = SWARM;
  cfg->deleg.skew = 3;
  cfg->deleg.max_counters = 256;
  cfg->deleg.max_counters_per_delegate = 8;
  cfg->clock = test_clock;
  cfg->ledger = r->s.l;
  /* the breaker never moves the phase on its own: only the test does */
  cfg->breaker.cooldown_ns = 3600ull * 1000000000ull;
  cfg->breaker.min_samples = 1000000;
}

static void reg(run *r, size_t i) {
  cnv_runtime_handler_spec spec = {.effects = paths[i].effects, .cls = CNV_DURATION_BATCH, .fn = handler_ok};
  assert_int_equal(cnv_runtime_register(r->rt, paths[i].path, strlen(paths[i].path), &spec), CNV_OK);
  r->registered[i] = true;
}

static void unreg(run *r, size_t i) {
  assert_int_equal(cnv_runtime_unregister(r->rt, paths[i].path, strlen(paths[i].path)), CNV_OK);
  r->registered[i] = false;
}

/* Random caveats for a holder: scope, forbidden part, effects, window on the token clock,
 * uses and swarm. */
static void random_caveats(run *r, cnv_deleg_caveats *c) {
  cav_init(c);
  uint64_t now = atomic_load(&token_clock);
  int n = 1 + (int)rnd(r, 2);
  for (int i = 0; i < n; i++) {
    const char *a = allows[rnd(r, N_ALLOWS)];
    bool dup = false;
    cnv_deleg_pattern p;
    assert_int_equal(cnv_deleg_pattern_parse(a, strlen(a), &p), CNV_OK);
    for (int j = 0; j < c->n_allow; j++) dup |= c->allow[j].id == p.id && c->allow[j].kind == p.kind;
    if (!dup) assert_int_equal(cav_allow(c, a), CNV_OK);
  }
  if (rnd(r, 5) == 0) assert_int_equal(cav_forbid(c, "svc.write"), CNV_OK);
  static const cnv_effects ceilings[] = {CNV_EFFECTS_ALL, CNV_EFFECT_READ_ONLY,
                                         CNV_EFFECT_READ_ONLY | CNV_EFFECT_MUTATE_STATE,
                                         CNV_EFFECT_PRIVILEGED | CNV_EFFECT_MUTATE_STATE};
  c->effects = ceilings[rnd(r, 4)];
  if (rnd(r, 4) == 0) c->not_before = now + rnd(r, 10);
  if (rnd(r, 2) == 0) c->expiry = (c->not_before > now ? c->not_before : now) + 1 + rnd(r, 40);
  if (rnd(r, 2) == 0) c->max_uses = 1 + (uint32_t)rnd(r, 4);
  uint64_t sw = rnd(r, 10);
  c->swarm = sw < 6 ? CNV_DELEG_ANY_SWARM : sw < 9 ? SWARM
                                                   : SWARM + 1;
  c->depth = 0;
}

/* Adds an agent: a root token from the trusted root (or, rarely, a stranger), or a chain
 * through one of the intermediaries (whose root link several agents share). */
static void agent_new(run *r) {
  if (r->n_agents == MAX_AGENTS) return;
  agent *a = &r->agents[r->n_agents];
  cnv_deleg_caveats c;
  random_caveats(r, &c);
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  tkey k;
  uint8_t key_byte = r->next_key++;
  uint64_t how = rnd(r, 10);
  if (how < 3) {
    int m = (int)rnd(r, N_MIDS);
    /* narrow the intermediary's link: within its window and its uses */
    if (m == 1) {
      c.not_before = 0;
      if (c.expiry > T0 + 60) c.expiry = T0 + 60;
    }
    if (m == 2 && c.max_uses > 5) c.max_uses = 5;
    uint8_t nonce[CNV_DELEG_NONCE_BYTES];
    tkey_make(&k, key_byte);
    nonce_of(nonce, key_byte);
    assert_int_equal(cnv_deleg_attenuate(r->mid_tok[m], r->mid_len[m], r->mids[m].sk, k.pk, &c, nonce, tok,
                                         sizeof tok, &len),
                     CNV_OK);
    a->n_links = 2;
  } else {
    assert_int_equal(mint_for_agent(how == 3 ? r->stranger.sk : r->root.sk, key_byte, &c, &k, tok, &len), CNV_OK);
    a->n_links = 1;
  }
  for (int i = 0; i < a->n_links; i++) assert_int_equal(cnv_deleg_link_hash(tok, len, (uint32_t)i, a->links[i]), CNV_OK);
  assert_int_equal(cnv_runtime_agent_add(r->rt, k.pk, tok, len, &a->handle), CNV_OK);
  a->live = true;
  r->n_agents++;
}

static void submit(run *r, int low) {
  uint32_t handle;
  if (r->n_agents == 0 || rnd(r, 12) == 0) {
    handle = 500 + (uint32_t)rnd(r, 10); /* never added */
  } else {
    handle = r->agents[rnd(r, (uint64_t)r->n_agents)].handle; /* removed ones too */
  }
  const char *path = paths[rnd(r, N_PATHS)].path;
  if (rnd(r, 40) == 0) path = "nobody.knows";
  cnv_runtime_submit_opts o = {.low_priority = low};
  cnv_status st = cnv_runtime_submit_ex(r->rt, handle, path, strlen(path), &o, NULL);
  if (r->n_submits == r->cap_submits) {
    r->cap_submits = r->cap_submits ? r->cap_submits * 2 : 256;
    r->statuses = realloc(r->statuses, r->cap_submits * sizeof *r->statuses);
    assert_non_null(r->statuses);
  }
  r->statuses[r->n_submits++] = st;
}

/* A legal move from the current phase, now and then. */
static void phase_move(run *r) {
  int from = cnv_runtime_phase(r->rt);
  int to;
  switch (from) {
    case CNV_PHASE_OPERATIONAL:
      to = CNV_PHASE_DEGRADED;
      break;
    case CNV_PHASE_DEGRADED:
      to = CNV_PHASE_RECOVERY;
      break;
    case CNV_PHASE_RECOVERY:
      to = CNV_PHASE_OPERATIONAL;
      break;
    default:
      to = CNV_PHASE_RECOVERY; /* out of Emergency */
      break;
  }
  if (from != CNV_PHASE_EMERGENCY && rnd(r, 6) == 0) to = CNV_PHASE_EMERGENCY;
  assert_int_equal(cnv_runtime_transition(r->rt, from, to), CNV_OK);
}

static void step(run *r) {
  uint64_t op = rnd(r, 100);
  if (op < 50) {
    submit(r, 0);
  } else if (op < 62) {
    submit(r, 1);
  } else if (op < 70) {
    atomic_fetch_add(&token_clock, rnd(r, 8));
  } else if (op < 74) {
    if (r->n_agents) {
      agent *a = &r->agents[rnd(r, (uint64_t)r->n_agents)];
      assert_int_equal(cnv_runtime_revoke(r->rt, a->links[rnd(r, (uint64_t)a->n_links)]), CNV_OK);
    }
  } else if (op < 79) {
    agent_new(r);
  } else if (op < 82) {
    if (r->n_agents) {
      agent *a = &r->agents[rnd(r, (uint64_t)r->n_agents)];
      if (a->live) {
        assert_int_equal(cnv_runtime_agent_remove(r->rt, a->handle), CNV_OK);
        a->live = false;
      }
    }
  } else if (op < 86) {
    size_t i = rnd(r, N_PATHS);
    if (r->registered[i]) {
      unreg(r, i);
    } else {
      reg(r, i);
    }
  } else if (op < 90) {
    phase_move(r);
  } else {
    submit(r, 0);
  }
}

/* Creates the ledger and the runtime, trust, intermediaries, capabilities and a few agents,
 * and starts it. */
static void run_up(run *r, uint64_t seed) {
  memset(r, 0, sizeof *r);
  r->rng = seed;
  r->next_key = 1;
  atomic_store(&token_clock, T0);
  slog_open(&r->s);
  cnv_runtime_config cfg;
  config(r, &cfg);
  assert_int_equal(cnv_runtime_create(&cfg, &r->rt), CNV_OK);
  tkey_make(&r->root, 0xF0);
  tkey_make(&r->stranger, 0xF1);
  assert_int_equal(cnv_runtime_trust_add(r->rt, r->root.pk), CNV_OK);
  for (int m = 0; m < N_MIDS; m++) {
    cnv_deleg_caveats c;
    cav_init(&c);
    assert_int_equal(cav_allow(&c, "svc.*"), CNV_OK);
    assert_int_equal(cav_allow(&c, "admin.*"), CNV_OK);
    assert_int_equal(cav_allow(&c, "other.ping"), CNV_OK);
    if (m == 1) c.expiry = T0 + 60; /* an intermediary that expires mid-run */
    if (m == 2) c.max_uses = 5;     /* and one whose uses all its holders share */
    assert_int_equal(mint_for_agent(r->root.sk, (uint8_t)(0xE0 + m), &c, &r->mids[m], r->mid_tok[m], &r->mid_len[m]),
                     CNV_OK);
  }
  for (size_t i = 0; i < N_PATHS; i++) {
    if (i != 3) reg(r, i);
  }
  for (int i = 0; i < 6; i++) agent_new(r);
  assert_int_equal(cnv_runtime_agent_rate(r->rt, r->agents[0].handle, 1, 1), CNV_OK);
}

/* Stops and destroys the runtime and closes the ledger (everything durable, read next). */
static void run_down(run *r) {
  assert_int_equal(cnv_runtime_stop(r->rt, 30ull * 1000000000ull), CNV_OK);
  cnv_runtime_destroy(r->rt);
  r->rt = NULL;
  slog_close(&r->s);
}

/* The ADMIT records of the closed log, in order, must be the submits' statuses. */
static void admits_match_submits(run *r) {
  cnv_ledger_reader *rd;
  assert_int_equal(cnv_ledger_reader_open(r->s.dir, &rd, NULL), CNV_OK);
  size_t k = 0;
  for (uint64_t i = 0; i < cnv_ledger_reader_size(rd); i++) {
    cnv_ledger_entry e;
    assert_int_equal(cnv_ledger_reader_get(rd, i, &e, NULL), CNV_OK);
    if (e.kind != CNV_LREC_ADMIT) continue;
    assert_true(k < r->n_submits);
    assert_int_equal(e.status, r->statuses[k]);
    k++;
  }
  assert_int_equal(k, r->n_submits);
  cnv_ledger_reader_close(rd);
}

static void run_free(run *r) {
  slog_remove(&r->s);
  free(r->statuses);
}

static int setup(void **state) {
  (void)state;
  return sodium_init() < 0 ? -1 : 0;
}

/* Statuses seen over all runs: the property must have met each kind of decision. */
static void tally(bool seen_st[], const run *r) {
  for (size_t i = 0; i < r->n_submits; i++) {
    int reason = cnv_runtime_denial_of(r->statuses[i]);
    if (r->statuses[i] == CNV_OK) {
      seen_st[CNV_RT_DENY_COUNT] = true;
    } else if (reason >= 0) {
      seen_st[reason] = true;
    }
  }
}

/* Replays dir, printing the first decisions it names; the replay must succeed (every
 * decision the same). Returns its summary. */
static cnv_audit_summary replay_matches(const char *dir) {
  seen sn;
  cnv_audit_summary sum;
  cnv_status st = replay_seen(dir, &sn, &sum);
  for (size_t i = 0; i < sn.n && i < 8; i++) {
    printf("  mismatch at record %llu: agent %u recorded %d replayed %d\n", (unsigned long long)sn.d[i].index,
           sn.d[i].agent, sn.d[i].recorded, sn.d[i].replayed);
  }
  assert_int_equal(st, CNV_OK);
  return sum;
}

static void replay_reproduces_random_runs(void **state) {
  (void)state;
  const char *env = getenv("CNV_AUDIT_SEED");
  uint64_t base_seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
  /* not scaled down under sanitizers: the coverage check below needs the runs (each is short) */
  uint64_t runs = env && *env ? 1 : 40;
  bool seen_st[CNV_RT_DENY_COUNT + 1] = {0};
  for (uint64_t k = 0; k < runs; k++) {
    uint64_t seed = base_seed + k;
    printf("audit property: seed %llu (CNV_AUDIT_SEED=%llu repeats it)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    run r;
    run_up(&r, seed);
    assert_int_equal(cnv_runtime_start(r.rt), CNV_OK);
    int steps = 200 + (int)rnd(&r, 400);
    for (int i = 0; i < steps; i++) step(&r);
    run_down(&r);
    admits_match_submits(&r);
    cnv_audit_summary sum = replay_matches(r.s.dir);
    assert_int_equal(sum.differ, 0);
    assert_int_equal(sum.decisions, r.n_submits);
    assert_int_equal(sum.same, r.n_submits);
    tally(seen_st, &r);
    run_free(&r);
  }
  if (!env || !*env) {
    /* the runs met accepted work and every policy denial the test can provoke */
    static const int kinds[] = {CNV_RT_DENY_COUNT, CNV_RT_DENY_PHASE, CNV_RT_DENY_UNKNOWN_AGENT,
                                CNV_RT_DENY_UNKNOWN_CAPABILITY, CNV_RT_DENY_EXPIRED, CNV_RT_DENY_REVOKED,
                                CNV_RT_DENY_NOT_ALLOWED, CNV_RT_DENY_EFFECTS, CNV_RT_DENY_USES,
                                CNV_RT_DENY_UNTRUSTED, CNV_RT_DENY_SHED, CNV_RT_DENY_RATE};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
      if (!seen_st[kinds[i]]) printf("never seen: %s\n", cnv_runtime_denial_name(kinds[i]));
      assert_true(seen_st[kinds[i]]);
    }
  }
}

/* A scripted run for what-if: agent X (root token, unlimited), agent Y (revoked mid-run),
 * low-priority work in Degraded. */
typedef struct script {
  run r;
  uint32_t x, y;
  uint8_t x_link[32], y_link[32];
} script;

static uint32_t scripted_agent(run *r, uint8_t key_byte, uint8_t link[32]) {
  cnv_deleg_caveats c;
  cav_init(&c);
  assert_int_equal(cav_allow(&c, "svc.*"), CNV_OK);
  tkey k;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  assert_int_equal(mint_for_agent(r->root.sk, key_byte, &c, &k, tok, &len), CNV_OK);
  assert_int_equal(cnv_deleg_link_hash(tok, len, 0, link), CNV_OK);
  uint32_t h;
  assert_int_equal(cnv_runtime_agent_add(r->rt, k.pk, tok, len, &h), CNV_OK);
  return h;
}

static void sub(run *r, uint32_t who, const char *path, int low, cnv_status want) {
  cnv_runtime_submit_opts o = {.low_priority = low};
  assert_int_equal(cnv_runtime_submit_ex(r->rt, who, path, strlen(path), &o, NULL), want);
}

static void script_run(script *sc) {
  run *r = &sc->r;
  run_up(r, 1);
  sc->x = scripted_agent(r, 0x70, sc->x_link);
  sc->y = scripted_agent(r, 0x71, sc->y_link);
  assert_int_equal(cnv_runtime_start(r->rt), CNV_OK);
  sub(r, sc->x, "svc.read", 0, CNV_OK);
  sub(r, sc->y, "svc.read", 0, CNV_OK);
  sub(r, sc->x, "svc.write", 0, CNV_OK);
  assert_int_equal(cnv_runtime_revoke(r->rt, sc->y_link), CNV_OK);
  sub(r, sc->y, "svc.read", 0, CNV_ERT_DENY_REVOKED);
  sub(r, sc->y, "svc.write", 0, CNV_ERT_DENY_REVOKED);
  assert_int_equal(cnv_runtime_transition(r->rt, CNV_PHASE_OPERATIONAL, CNV_PHASE_DEGRADED), CNV_OK);
  sub(r, sc->x, "svc.read", 1, CNV_ERT_DENY_SHED);
  sub(r, sc->x, "svc.read", 0, CNV_OK);
  run_down(r);
}

/* sn holds n decisions, each of agent who, recorded with recorded and replayed as replayed. */
static void assert_each_seen(const seen *sn, size_t n, uint32_t who, cnv_status recorded, cnv_status replayed) {
  assert_int_equal(sn->n, n);
  for (size_t i = 0; i < sn->n; i++) {
    assert_int_equal(sn->d[i].agent, who);
    assert_int_equal(sn->d[i].recorded, recorded);
    assert_int_equal(sn->d[i].replayed, replayed);
  }
}

static void whatif_on_a_runtime_log(void **state) {
  (void)state;
  script sc;
  script_run(&sc);
  const char *dir = sc.r.s.dir;
  cnv_audit_summary sum;
  assert_int_equal(cnv_audit_replay(dir, NULL, NULL, &sum), CNV_OK);
  assert_int_equal(sum.decisions, 7);

  /* X's link revoked from the start: its three accepted decisions are revocations */
  cnv_audit_change ch = {.kind = CNV_AUDIT_REVOKE_ADD};
  memcpy(ch.hash, sc.x_link, 32);
  seen sn;
  whatif_one(dir, &ch, &sn, &sum);
  assert_each_seen(&sn, 3, sc.x, CNV_OK, CNV_ERT_DENY_REVOKED);

  /* Y's revocation dropped: its two denials are accepted */
  ch.kind = CNV_AUDIT_REVOKE_REMOVE;
  memcpy(ch.hash, sc.y_link, 32);
  whatif_one(dir, &ch, &sn, &sum);
  assert_each_seen(&sn, 2, sc.y, CNV_ERT_DENY_REVOKED, CNV_OK);

  /* the trust root ignored: every token check fails as untrusted */
  ch.kind = CNV_AUDIT_TRUST_REMOVE;
  memcpy(ch.key, sc.r.root.pk, 32);
  whatif_one(dir, &ch, &sn, &sum);
  assert_int_equal(sum.accepted, 0);
  assert_int_equal(sn.n, 6); /* all but the shed one, decided before the token */
  for (size_t i = 0; i < sn.n; i++) assert_int_equal(sn.d[i].replayed, CNV_ERT_DENY_UNTRUSTED);

  /* Emergency throughout: every decision is a phase denial */
  ch = (cnv_audit_change){.kind = CNV_AUDIT_PHASE_FORCE, .phase = CNV_PHASE_EMERGENCY};
  whatif_one(dir, &ch, &sn, &sum);
  assert_int_equal(sum.accepted, 0);
  assert_int_equal(sum.denied, 7);
  assert_int_equal(sn.n, 7);
  for (size_t i = 0; i < sn.n; i++) assert_int_equal(sn.d[i].replayed, CNV_ERT_DENY_PHASE);
  run_free(&sc.r);
}

/* Submitters racing phase moves (as the breaker's race them): replay must still reproduce
 * every decision, shed or not. Tokens without use limits: with several submitters the order
 * of their uses is not the log's. */
#define RACE_THREADS 3

typedef struct racer {
  cnv_runtime *rt;
  uint32_t agent;
  uint64_t seed;
  _Atomic int *stop;
  uint64_t submits;
} racer;

static void *race_submitter(void *arg) {
  racer *rc = arg;
  uint64_t rng = rc->seed;
  while (!atomic_load(rc->stop)) {
    cnv_runtime_submit_opts o = {.low_priority = (int)(cnv_test_rand(&rng) & 1)};
    cnv_status st = cnv_runtime_submit_ex(rc->rt, rc->agent, "svc.read", 8, &o, NULL);
    (void)st; /* every outcome is recorded; the replay checks them */
    rc->submits++;
  }
  return NULL;
}

static void replay_with_phase_races(void **state) {
  (void)state;
  run r;
  run_up(&r, 7);
  uint8_t link[32];
  uint32_t x = scripted_agent(&r, 0x72, link);
  assert_int_equal(cnv_runtime_start(r.rt), CNV_OK);
  _Atomic int stop = 0;
  racer rc[RACE_THREADS];
  pthread_t th[RACE_THREADS];
  for (int i = 0; i < RACE_THREADS; i++) {
    rc[i] = (racer){.rt = r.rt, .agent = x, .seed = (uint64_t)i + 1, .stop = &stop};
    assert_int_equal(pthread_create(&th[i], NULL, race_submitter, &rc[i]), 0);
  }
  static const int cycle[] = {CNV_PHASE_OPERATIONAL, CNV_PHASE_DEGRADED, CNV_PHASE_RECOVERY};
  for (int i = 0; i < 300; i++) {
    assert_int_equal(cnv_runtime_transition(r.rt, cycle[i % 3], cycle[(i + 1) % 3]), CNV_OK);
    sched_yield();
  }
  atomic_store(&stop, 1);
  uint64_t total = 0;
  for (int i = 0; i < RACE_THREADS; i++) {
    assert_int_equal(pthread_join(th[i], NULL), 0);
    total += rc[i].submits;
  }
  run_down(&r);
  cnv_audit_summary sum = replay_matches(r.s.dir);
  assert_int_equal(sum.decisions, total);
  run_free(&r);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(replay_reproduces_random_runs),
      cmocka_unit_test(whatif_on_a_runtime_log),
      cmocka_unit_test(replay_with_phase_races),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
