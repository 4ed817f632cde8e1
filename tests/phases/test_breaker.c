/* Circuit breaker with hysteresis on scripted noisy failure ratios: it trips once, does not
 * flap while the ratio is noisy, and recovers only after two full calm cool-downs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cnv/phases.h>

#define TICK 100u /* ns between evaluations; one bucket */

static cnv_breaker_config cfg(void) {
  cnv_breaker_config c = {.upper = 0.5, .lower = 0.2, .window_ns = 1000, .buckets = 10, .min_samples = 10, .cooldown_ns = 500};
  return c;
}

struct segment {
  int ticks;
  double a, b; /* per-tick failure ratio alternates a, b, a, ... */
};

struct run {
  int moves;
  int phase[16];
  int tick[16];
};

/* Feeds 20 outcomes per tick at the scripted ratio, ticks the swarm, records every move. */
static struct run play(const struct segment *seg, int nseg) {
  cnv_swarm sw;
  cnv_breaker_config c = cfg();
  assert_int_equal(cnv_swarm_init(&sw, 1, 0, &c, NULL), CNV_OK);
  assert_int_equal(cnv_swarm_transition(&sw, CNV_PHASE_BOOTSTRAP, CNV_PHASE_NEGOTIATION, 0), CNV_OK);
  assert_int_equal(cnv_swarm_transition(&sw, CNV_PHASE_NEGOTIATION, CNV_PHASE_ACTIVATION, 0), CNV_OK);
  assert_int_equal(cnv_swarm_transition(&sw, CNV_PHASE_ACTIVATION, CNV_PHASE_OPERATIONAL, 0), CNV_OK);
  struct run r = {0};
  uint64_t now = 0;
  int tick = 0;
  for (int s = 0; s < nseg; s++)
    for (int i = 0; i < seg[s].ticks; i++, tick++) {
      double ratio = (i & 1) ? seg[s].b : seg[s].a;
      int fails = (int)(ratio * 20.0 + 0.5);
      for (int k = 0; k < 20; k++) assert_int_equal(cnv_swarm_record_invocation(&sw, k >= fails), CNV_OK);
      now += TICK;
      int moved;
      assert_int_equal(cnv_swarm_tick(&sw, now, &moved), CNV_OK);
      if (moved >= 0 && r.moves < 16) {
        r.phase[r.moves] = moved;
        r.tick[r.moves++] = tick;
      }
    }
  return r;
}

static void test_noise_below_upper_never_trips(void **state) {
  (void)state;
  const struct segment s[] = {{400, 0.30, 0.48}, {200, 0.0, 0.95}}; /* window mean 0.39, 0.475 */
  struct run r = play(s, 2);
  assert_int_equal(r.moves, 0);
}

static void test_trip_then_hold_then_recover(void **state) {
  (void)state;
  const struct segment s[] = {
      {20, 0.10, 0.10},  /* healthy */
      {6, 0.90, 0.90},   /* burst: trips once */
      {80, 0.10, 0.35},  /* noisy, window mean 0.225 >= lower: must hold Degraded */
      {60, 0.05, 0.05},  /* calm: Recovery after 5 calm ticks, Operational 5 later */
      {200, 0.10, 0.30}, /* noise below upper: stays Operational */
  };
  struct run r = play(s, 5);
  assert_int_equal(r.moves, 3);
  assert_int_equal(r.phase[0], CNV_PHASE_DEGRADED);
  assert_int_equal(r.phase[1], CNV_PHASE_RECOVERY);
  assert_int_equal(r.phase[2], CNV_PHASE_OPERATIONAL);
  assert_true(r.tick[0] >= 20 && r.tick[0] < 26);
  /* Calm needs the burst and the noise to leave the window first. */
  assert_true(r.tick[1] >= 106 + 6);
  assert_true(r.tick[2] - r.tick[1] >= 5);
}

static void test_ratio_straddling_both_thresholds(void **state) {
  (void)state;
  /* Window mean 0.52: above upper, so one trip; never under lower, so no way back. */
  const struct segment s[] = {{300, 0.05, 0.99}};
  struct run r = play(s, 1);
  assert_int_equal(r.moves, 1);
  assert_int_equal(r.phase[0], CNV_PHASE_DEGRADED);
}

static void test_relapse_restarts_cooldown(void **state) {
  (void)state;
  const struct segment s[] = {
      {6, 1.0, 1.0},  /* trip */
      {16, 0.0, 0.0}, /* window clears at tick 14; Recovery at tick 19 */
      {3, 1.0, 1.0},  /* relapse inside Recovery (ticks 22-24): cool-down restarts */
      {40, 0.0, 0.0},
  };
  struct run r = play(s, 4);
  assert_int_equal(r.moves, 3);
  assert_int_equal(r.phase[1], CNV_PHASE_RECOVERY);
  assert_int_equal(r.phase[2], CNV_PHASE_OPERATIONAL);
  assert_int_equal(r.tick[1], 19);
  /* Without the relapse Operational would come at tick 25; with it, only after the relapse
   * left the window (tick 33) and a full cool-down passed. */
  assert_true(r.tick[2] >= 33 + 5);
}

static void test_min_samples_and_config(void **state) {
  (void)state;
  cnv_breaker b;
  cnv_breaker_config c = cfg();
  assert_int_equal(cnv_breaker_init(&b, &c), CNV_OK);
  for (int i = 0; i < 9; i++) assert_int_equal(cnv_breaker_record(&b, 0), CNV_OK);
  int target;
  double ratio;
  assert_int_equal(cnv_breaker_evaluate(&b, 100, CNV_PHASE_OPERATIONAL, &target, &ratio), CNV_OK);
  assert_int_equal(target, CNV_PHASE_OPERATIONAL);
  assert_int_equal(cnv_breaker_record(&b, 0), CNV_OK);
  assert_int_equal(cnv_breaker_evaluate(&b, 200, CNV_PHASE_OPERATIONAL, &target, &ratio), CNV_OK);
  assert_int_equal(target, CNV_PHASE_DEGRADED);
  assert_true(ratio == 1.0);
  assert_int_equal(cnv_breaker_evaluate(&b, 300, 9, &target, NULL), CNV_EPHASE_UNKNOWN);
  c.lower = 0.6;
  assert_int_equal(cnv_breaker_init(&b, &c), CNV_EBREAKER_CONFIG);
  c = cfg();
  c.buckets = CNV_BREAKER_MAX_BUCKETS + 1;
  assert_int_equal(cnv_breaker_init(&b, &c), CNV_EBREAKER_CONFIG);
  c = cfg();
  c.upper = 1.5;
  assert_int_equal(cnv_breaker_init(&b, &c), CNV_EBREAKER_CONFIG);
  assert_int_equal(cnv_breaker_init(NULL, &c), CNV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_noise_below_upper_never_trips),
      cmocka_unit_test(test_trip_then_hold_then_recover),
      cmocka_unit_test(test_ratio_straddling_both_thresholds),
      cmocka_unit_test(test_relapse_restarts_cooldown),
      cmocka_unit_test(test_min_samples_and_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
