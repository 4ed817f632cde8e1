/* Fuzz the phase machine against a model: each 4-byte record is one operation (move,
 * algedonic, outcome, agents, breaker tick, drain, snapshot) with fuzzer-chosen phases
 * (including out-of-range ones) and time steps. Any disagreement aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/phases.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The legal moves of docs/phases.md, written independently of src/phases. */
static const uint8_t legal[8] = {0x42, 0x44, 0x48, 0xD0, 0xE0, 0xC8, 0xA0, 0x00};

struct model {
  int phase;
  uint64_t transitions, invocations, failures, errors[8], algedonic;
  int64_t agents;
};

static cnv_status expect_move(const struct model *m, int from, int to) {
  if (from < 0 || from > 7 || to < 0 || to > 7) return CNV_EPHASE_UNKNOWN;
  if (from == CNV_PHASE_SHUTDOWN) return CNV_EPHASE_FINAL;
  if (!((legal[from] >> to) & 1)) return CNV_EPHASE_ILLEGAL;
  if (m->phase != from) return m->phase == CNV_PHASE_SHUTDOWN ? CNV_EPHASE_FINAL : CNV_EPHASE_STALE;
  return CNV_OK;
}

static void check_snapshot(cnv_swarm *sw, const struct model *m, uint64_t now) {
  cnv_swarm_report r;
  if (cnv_swarm_snapshot(sw, now, &r) != CNV_OK) abort();
  if (r.phase != m->phase || r.transitions != m->transitions || r.invocations != m->invocations ||
      r.failures != m->failures || r.active_agents != m->agents || r.algedonic_signals != m->algedonic)
    abort();
  for (int p = 0; p < 8; p++)
    if (r.errors_in_phase[p] != m->errors[p]) abort();
}

static void step(cnv_swarm *sw, cnv_observer *o, struct model *m, const uint8_t *b, uint64_t now) {
  int from = (int)(b[1] % 10) - 1, to = (int)(b[2] % 10) - 1, moved;
  cnv_status st;
  switch (b[0] % 8) {
    case 0:
      st = expect_move(m, from, to);
      if (cnv_swarm_transition(sw, from, to, now) != st) abort();
      if (st == CNV_OK) m->phase = to, m->transitions++;
      break;
    case 1:
      st = m->phase == CNV_PHASE_SHUTDOWN    ? CNV_EPHASE_FINAL
           : m->phase == CNV_PHASE_EMERGENCY ? CNV_EPHASE_ALREADY_EMERGENCY
                                             : CNV_OK;
      if (cnv_swarm_raise_algedonic(sw, b[1], now) != st) abort();
      m->algedonic++;
      if (st == CNV_OK) m->phase = CNV_PHASE_EMERGENCY, m->transitions++;
      break;
    case 2:
      if (cnv_swarm_record_invocation(sw, b[1] & 1) != CNV_OK) abort();
      m->invocations++;
      if (!(b[1] & 1)) m->failures++, m->errors[m->phase]++;
      break;
    case 3:
      if (cnv_swarm_agent_join(sw) != CNV_OK) abort();
      m->agents++;
      break;
    case 4:
      if (cnv_swarm_agent_leave(sw) != (m->agents ? CNV_OK : CNV_EPHASE_AGENTS_UNDERFLOW)) abort();
      if (m->agents) m->agents--;
      break;
    case 5:
      if (cnv_swarm_tick(sw, now, &moved) != CNV_OK) abort();
      if (moved >= 0) {
        if (!((legal[m->phase] >> moved) & 1)) abort();
        m->phase = moved, m->transitions++;
      }
      break;
    case 6: {
      uint64_t mx[8][8], sum = 0;
      if (cnv_observer_drain(o, 0, NULL) != CNV_OK || cnv_observer_matrix(o, mx) != CNV_OK) abort();
      for (int f = 0; f < 8; f++)
        for (int t = 0; t < 8; t++) {
          if (mx[f][t] && !((legal[f] >> t) & 1)) abort();
          sum += mx[f][t];
        }
      if (sum != m->transitions) abort();
      break;
    }
    default:
      check_snapshot(sw, m, now);
      break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cnv_swarm sw;
  cnv_observer_config oc = {.capacity = 1024, .max_swarms = 2, .min_samples = 2};
  cnv_observer *o;
  if (size / 4 > 1000 || cnv_observer_create(&oc, &o) != CNV_OK) return 0;
  cnv_breaker_config bc = {.upper = 0.5, .lower = 0.2, .window_ns = 1000, .buckets = 4, .min_samples = 2, .cooldown_ns = 300};
  if (cnv_swarm_init(&sw, 1, 0, &bc, o) != CNV_OK) abort();
  struct model m;
  memset(&m, 0, sizeof m);
  uint64_t now = 0;
  for (size_t i = 0; i + 4 <= size; i += 4) {
    now += data[i + 3];
    step(&sw, o, &m, data + i, now);
  }
  check_snapshot(&sw, &m, now);
  cnv_observer_destroy(o);
  return 0;
}
