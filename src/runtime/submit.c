/* The submit side of the pipeline: parse -> capability id -> handler -> phase -> token ->
 * record -> queue. Runs on the submitter's thread; no allocation once the token is cached.
 * Every submit ends in exactly one outcome counter (accepted, full, refused or a denial). */
#include <string.h>

#include <cnv/protocol.h>

#include "clock.h"
#include "core/atomic.h"
#include "core/ignore.h"
#include "rt_internal.h"

/* Arguments one line may carry; more is a malformed line. */
#define SUBMIT_MAX_ARGS 32u

/* A denial: its status, and its counter in *outcome. */
static cnv_status deny(int reason, int *outcome) {
  *outcome = CNV__RT_C_DENIED0 + reason;
  return cnv_runtime_denial_status(reason);
}

static const cnv__rt_handler *handler_find(const cnv_runtime *rt, uint64_t id, uint32_t *index) {
  for (uint32_t i = (uint32_t)id & rt->handler_mask; rt->handler_index[i];
       i = (i + 1) & rt->handler_mask) {
    const cnv__rt_handler *h = &rt->handlers[rt->handler_index[i] - 1];
    if (h->id == id) {
      *index = rt->handler_index[i] - 1;
      return h;
    }
  }
  return NULL;
}

static int phase_admits(cnv_phase p) {
  return p == CNV_PHASE_OPERATIONAL || p == CNV_PHASE_DEGRADED || p == CNV_PHASE_RECOVERY;
}

/* The agent's token check for handler h; CNV_OK or a denial status (not yet counted). */
static cnv_status token_check(cnv_runtime *rt, uint32_t agent, const cnv__rt_handler *h) {
  if (agent >= rt->cfg.max_agents) return CNV_ERT_DENY_UNKNOWN_AGENT;
  const cnv__rt_agent *a = &rt->agents[agent];
  /* acquire: pairs with agent_add's release, so pk and token are fully written */
  if (!cnv__load_acquire(&a->ready)) return CNV_ERT_DENY_UNKNOWN_AGENT;
  cnv_deleg_request req = {.now = cnv__rt_token_now(rt), .swarm = rt->cfg.swarm_id, .holder = a->pk, .cap = &h->cap, .effects = h->effects};
  cnv_status st = cnv_deleg_authorize(rt->verifier, a->token, a->token_len, &req, NULL, NULL);
  return st == CNV_OK ? CNV_OK : cnv_runtime_map_deleg(st);
}

static cnv_status enqueue(cnv_runtime *rt, uint32_t agent, uint32_t handler, const char *line,
                          size_t len, const cnv_invocation *inv, int *outcome) {
  cnv__rt_rec_buf buf;
  cnv__rt_rec_head head = {
      /* relaxed: uniqueness only; no data is published through seq */
      .seq = cnv__fetch_add_relaxed(&rt->seq, 1u),
      .accept_ns = cnv__rt_now_ns(),
      .handler = handler,
      .agent = agent,
      .line_len = (uint16_t)len,
      .path_off = (uint16_t)(inv->path.ptr - line),
      .path_len = (uint16_t)inv->path.len};
  memcpy(buf.words, &head, sizeof head);
  memcpy((char *)buf.words + CNV__RT_RECORD_HEADER, line, len);
  if (cnv_queue_try_push_mpmc(rt->queue, buf.words) != CNV_OK) {
    *outcome = CNV__RT_C_FULL;
    return CNV_EFULL;
  }
  *outcome = CNV__RT_C_ACCEPTED;
  return CNV_OK;
}

static cnv_status pipeline(cnv_runtime *rt, uint32_t agent, const char *line, size_t len,
                           int *outcome) {
  if (len > rt->cfg.max_line) return deny(CNV_RT_DENY_TOO_LONG, outcome);
  cnv_arg args[SUBMIT_MAX_ARGS];
  cnv_invocation inv;
  /* args is a local array of SUBMIT_MAX_ARGS > 0 slots: the init cannot fail */
  cnv__ignore_status(cnv_invocation_init(&inv, args, SUBMIT_MAX_ARGS));
  uint64_t id;
  if (cnv_parse_invocation(line, len, NULL, NULL, &inv) != CNV_OK ||
      cnv_invocation_id(&inv, &id) != CNV_OK) {
    return deny(CNV_RT_DENY_MALFORMED, outcome);
  }
  /* rt->capabilities is not NULL after create, so the observe cannot fail */
  cnv__ignore_status(cnv_variety_tally_observe(rt->capabilities, id));
  uint32_t index;
  const cnv__rt_handler *h = handler_find(rt, id, &index);
  if (!h) return deny(CNV_RT_DENY_UNKNOWN_CAPABILITY, outcome);
  if (!phase_admits(cnv_swarm_phase(&rt->swarm))) return deny(CNV_RT_DENY_PHASE, outcome);
  cnv_status st = token_check(rt, agent, h);
  if (st != CNV_OK) return deny(cnv_runtime_denial_of(st), outcome);
  return enqueue(rt, agent, index, line, len, &inv, outcome);
}

cnv_status cnv_runtime_submit(cnv_runtime *rt, uint32_t agent, const char *line, size_t len) {
  if (!rt || (!line && len)) return CNV_EINVAL;
  /* Entry, a seq_cst RMW (cnv_tel_striped_add), then a seq_cst state load: with stop's seq_cst
   * STOPPING store and seq_cst counter reads, either this load sees STOPPING or stop's reads
   * see this entry (cnv_runtime_stop). */
  cnv__rt_count(rt, CNV__RT_C_SUBMITTED, 1u);
  int outcome = CNV__RT_C_REFUSED;
  cnv_status st = CNV_ESTATE;
  /* seq_cst (see above; also acquire, pairing with start's seq_cst store of RUNNING, so the
   * handler table and the threads are ready) */
  if (atomic_load_explicit(&rt->state, memory_order_seq_cst) == CNV__RT_RUNNING) {
    st = pipeline(rt, agent, line, len, &outcome);
  }
  /* Exit: the outcome's seq_cst RMW releases the queue push above to stop, whose read of the
   * outcome counters acquires it. */
  cnv__rt_count(rt, outcome, 1u);
  return st;
}
