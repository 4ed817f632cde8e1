/* The phase machine alone: the exhaustive 8x8 move table, stale and final moves, counters,
 * per-phase time and errors, algedonic signal, and the shutdown report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cnv/phases.h>

enum { B = CNV_PHASE_BOOTSTRAP,
       N = CNV_PHASE_NEGOTIATION,
       A = CNV_PHASE_ACTIVATION,
       O = CNV_PHASE_OPERATIONAL,
       D = CNV_PHASE_DEGRADED,
       R = CNV_PHASE_RECOVERY,
       E = CNV_PHASE_EMERGENCY,
       S = CNV_PHASE_SHUTDOWN };

/* docs/phases.md's legal moves written out by hand, row = from, column = to (B N A O D R E S). */
static const int legal[8][8] = {
    /* B */ {0, 1, 0, 0, 0, 0, 1, 0},
    /* N */ {0, 0, 1, 0, 0, 0, 1, 0},
    /* A */ {0, 0, 0, 1, 0, 0, 1, 0},
    /* O */ {0, 0, 0, 0, 1, 0, 1, 1},
    /* D */ {0, 0, 0, 0, 0, 1, 1, 1},
    /* R */ {0, 0, 0, 1, 0, 0, 1, 1},
    /* E */ {0, 0, 0, 0, 0, 1, 0, 1},
    /* S */ {0, 0, 0, 0, 0, 0, 0, 0},
};

/* A legal path from Bootstrap to each phase. */
static const int paths[8][6] = {
    [B] = {-1},
    [N] = {N, -1},
    [A] = {N, A, -1},
    [O] = {N, A, O, -1},
    [D] = {N, A, O, D, -1},
    [R] = {N, A, O, D, R, -1},
    [E] = {E, -1},
    [S] = {N, A, O, S, -1},
};

static uint64_t drive(cnv_swarm *sw, int target, uint64_t t) {
  assert_int_equal(cnv_swarm_init(sw, 7, t, NULL, NULL), CNV_OK);
  int cur = B;
  for (int i = 0; paths[target][i] >= 0; i++) {
    t += 10;
    assert_int_equal(cnv_swarm_transition(sw, cur, paths[target][i], t), CNV_OK);
    cur = paths[target][i];
  }
  assert_int_equal(cnv_swarm_phase(sw), target);
  return t;
}

static void test_check_move_table(void **state) {
  (void)state;
  for (int f = 0; f < 8; f++)
    for (int t = 0; t < 8; t++) {
      cnv_status want = f == S ? CNV_EPHASE_FINAL : legal[f][t] ? CNV_OK
                                                                : CNV_EPHASE_ILLEGAL;
      assert_int_equal(cnv_phase_check_move(f, t), want);
    }
  assert_int_equal(cnv_phase_check_move(-1, 0), CNV_EPHASE_UNKNOWN);
  assert_int_equal(cnv_phase_check_move(0, 8), CNV_EPHASE_UNKNOWN);
  assert_string_equal(cnv_phase_name(O), "operational");
  assert_string_equal(cnv_phase_name(9), "unknown");
}

/* Every (from, to) pair applied to a real swarm sitting in `from`. */
static void test_swarm_all_pairs(void **state) {
  (void)state;
  cnv_swarm sw;
  for (int f = 0; f < 8; f++)
    for (int t = 0; t < 8; t++) {
      uint64_t now = drive(&sw, f, 1000);
      cnv_status st = cnv_swarm_transition(&sw, f, t, now + 5);
      cnv_status want = f == S ? CNV_EPHASE_FINAL : legal[f][t] ? CNV_OK
                                                                : CNV_EPHASE_ILLEGAL;
      assert_int_equal(st, want);
      assert_int_equal(cnv_swarm_phase(&sw), st == CNV_OK ? t : f);
    }
}

/* A legal move from a phase the swarm is not in is stale, never applied. */
static void test_stale_moves(void **state) {
  (void)state;
  cnv_swarm sw;
  for (int cur = 0; cur < 8; cur++)
    for (int f = 0; f < 8; f++)
      for (int t = 0; t < 8; t++) {
        if (f == cur || !legal[f][t]) continue;
        uint64_t now = drive(&sw, cur, 100);
        cnv_status want = cur == S ? CNV_EPHASE_FINAL : CNV_EPHASE_STALE;
        assert_int_equal(cnv_swarm_transition(&sw, f, t, now + 1), want);
        assert_int_equal(cnv_swarm_phase(&sw), cur);
      }
  cnv_swarm_report r;
  assert_int_equal(cnv_swarm_snapshot(&sw, 1000, &r), CNV_OK);
  assert_int_equal(r.rejected_transitions, 1);
  assert_int_equal(cnv_swarm_transition(&sw, O, 12, 1), CNV_EPHASE_UNKNOWN);
  assert_int_equal(cnv_swarm_transition(NULL, O, D, 1), CNV_EINVAL);
  assert_int_equal(cnv_swarm_transition(&sw, O, D, UINT64_C(1) << 61), CNV_ERANGE);
}

static void test_time_errors_report(void **state) {
  (void)state;
  cnv_swarm sw;
  assert_int_equal(cnv_swarm_init(&sw, 42, 1000, NULL, NULL), CNV_OK);
  assert_int_equal(cnv_swarm_transition(&sw, B, N, 1100), CNV_OK); /* 100 in B */
  assert_int_equal(cnv_swarm_transition(&sw, N, A, 1300), CNV_OK); /* 200 in N */
  assert_int_equal(cnv_swarm_transition(&sw, A, O, 1600), CNV_OK); /* 300 in A */
  for (int i = 0; i < 10; i++) assert_int_equal(cnv_swarm_record_invocation(&sw, i != 3), CNV_OK);
  assert_int_equal(cnv_swarm_transition(&sw, O, D, 2600), CNV_OK); /* 1000 in O */
  assert_int_equal(cnv_swarm_record_invocation(&sw, 0), CNV_OK);
  assert_int_equal(cnv_swarm_record_invocation(&sw, 0), CNV_OK);
  assert_int_equal(cnv_swarm_agent_join(&sw), CNV_OK);
  assert_int_equal(cnv_swarm_agent_join(&sw), CNV_OK);
  assert_int_equal(cnv_swarm_agent_join(&sw), CNV_OK);
  assert_int_equal(cnv_swarm_agent_leave(&sw), CNV_OK);
  cnv_swarm_report r;
  assert_int_equal(cnv_swarm_shutdown(&sw, D, 3000, &r), CNV_OK); /* 400 in D */
  assert_int_equal(r.swarm_id, 42);
  assert_int_equal(r.phase, S);
  const uint64_t times[8] = {100, 200, 300, 1000, 400, 0, 0, 0};
  const uint64_t errors[8] = {0, 0, 0, 1, 2, 0, 0, 0};
  for (int p = 0; p < 8; p++) {
    assert_int_equal(r.time_in_phase_ns[p], times[p]);
    assert_int_equal(r.errors_in_phase[p], errors[p]);
  }
  assert_int_equal(r.transitions, 5);
  assert_int_equal(r.invocations, 12);
  assert_int_equal(r.failures, 3);
  assert_int_equal(r.active_agents, 2);
  assert_true(r.health_ratio > 0.749 && r.health_ratio < 0.751);
  assert_int_equal(cnv_swarm_shutdown(&sw, S, 4000, &r), CNV_EPHASE_FINAL);
  assert_int_equal(cnv_swarm_agent_leave(&sw), CNV_OK);
  assert_int_equal(cnv_swarm_agent_leave(&sw), CNV_OK);
  assert_int_equal(cnv_swarm_agent_leave(&sw), CNV_EPHASE_AGENTS_UNDERFLOW);
  assert_int_equal(cnv_swarm_agent_leave(NULL), CNV_EINVAL);
  assert_int_equal(cnv_swarm_agent_join(NULL), CNV_EINVAL);
  assert_int_equal(cnv_swarm_record_invocation(NULL, 1), CNV_EINVAL);
  assert_int_equal(cnv_swarm_raise_algedonic(NULL, 1, 1), CNV_EINVAL);
  assert_int_equal(cnv_swarm_snapshot(NULL, 1, &r), CNV_EINVAL);
  assert_int_equal(cnv_swarm_init(&sw, 1, UINT64_C(1) << 61, NULL, NULL), CNV_ERANGE);
}

static void test_snapshot_counts_current_phase(void **state) {
  (void)state;
  cnv_swarm sw;
  assert_int_equal(cnv_swarm_init(&sw, 1, 500, NULL, NULL), CNV_OK);
  cnv_swarm_report r;
  assert_int_equal(cnv_swarm_snapshot(&sw, 800, &r), CNV_OK);
  assert_int_equal(r.time_in_phase_ns[B], 300);
  assert_int_equal(r.entered_ns, 500);
  assert_true(r.health_ratio == 1.0);
}

static void test_algedonic_from_every_phase(void **state) {
  (void)state;
  cnv_swarm sw;
  for (int p = 0; p < 8; p++) {
    uint64_t now = drive(&sw, p, 10);
    cnv_status st = cnv_swarm_raise_algedonic(&sw, CNV_ALGEDONIC_VARIETY_DEFICIT, now + 1);
    cnv_status want = p == S ? CNV_EPHASE_FINAL : p == E ? CNV_EPHASE_ALREADY_EMERGENCY
                                                         : CNV_OK;
    assert_int_equal(st, want);
    assert_int_equal(cnv_swarm_phase(&sw), p == S ? S : E);
    cnv_swarm_report r;
    assert_int_equal(cnv_swarm_snapshot(&sw, now + 2, &r), CNV_OK);
    assert_int_equal(r.algedonic_signals, 1);
    assert_int_equal(r.last_algedonic_reason, CNV_ALGEDONIC_VARIETY_DEFICIT);
  }
  /* Emergency -> Recovery -> Operational is the way back. */
  uint64_t now = drive(&sw, O, 10);
  assert_int_equal(cnv_swarm_raise_algedonic(&sw, CNV_ALGEDONIC_OPERATOR, now), CNV_OK);
  assert_int_equal(cnv_swarm_transition(&sw, E, R, now + 1), CNV_OK);
  assert_int_equal(cnv_swarm_transition(&sw, R, O, now + 2), CNV_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_check_move_table),
      cmocka_unit_test(test_swarm_all_pairs),
      cmocka_unit_test(test_stale_moves),
      cmocka_unit_test(test_time_errors_report),
      cmocka_unit_test(test_snapshot_counts_current_phase),
      cmocka_unit_test(test_algedonic_from_every_phase),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
