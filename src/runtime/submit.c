/* The submit side of the pipeline: parse -> capability id -> handler -> phase -> token ->
 * record -> queue. Runs on the submitter's thread; no allocation once the token is cached. */
#include <string.h>
#include <time.h>

#include <cnv/protocol.h>

#include "core/atomic.h"
#include "rt_internal.h"

/* Arguments one line may carry; more is a malformed line. */
#define SUBMIT_MAX_ARGS 32u

static cnv_status deny(cnv__rt_stripe *s, int reason) {
  /* relaxed: a statistic; stop's inflight handshake orders it before the final read */
  cnv__fetch_add_relaxed(&s->c[CNV__RT_C_DENIED0 + reason], 1u);
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

static uint64_t token_now(const cnv_runtime *rt) {
  if (rt->cfg.clock) return rt->cfg.clock(rt->cfg.clock_ctx);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec;
}

/* The agent's token check for handler h; CNV_OK or a denial status (not yet counted). */
static cnv_status token_check(cnv_runtime *rt, uint32_t agent, const cnv__rt_handler *h) {
  if (agent >= rt->cfg.max_agents) return CNV_ERT_DENY_UNKNOWN_AGENT;
  const cnv__rt_agent *a = &rt->agents[agent];
  /* acquire: pairs with agent_add's release, so pk and token are fully written */
  if (!cnv__load_acquire(&a->ready)) return CNV_ERT_DENY_UNKNOWN_AGENT;
  cnv_deleg_request req = {.now = token_now(rt), .swarm = rt->cfg.swarm_id, .holder = a->pk,
                           .cap = &h->cap, .effects = h->effects};
  cnv_status st = cnv_deleg_authorize(rt->verifier, a->token, a->token_len, &req, NULL, NULL);
  return st == CNV_OK ? CNV_OK : cnv_runtime_map_deleg(st);
}

static cnv_status enqueue(cnv_runtime *rt, cnv__rt_stripe *s, uint32_t agent, uint32_t handler,
                          const char *line, size_t len, const cnv_invocation *inv) {
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
    cnv__fetch_add_relaxed(&s->c[CNV__RT_C_FULL], 1u); /* relaxed: statistic */
    return CNV_EFULL;
  }
  cnv__fetch_add_relaxed(&s->c[CNV__RT_C_ACCEPTED], 1u); /* relaxed: statistic */
  return CNV_OK;
}

static cnv_status pipeline(cnv_runtime *rt, cnv__rt_stripe *s, uint32_t agent, const char *line,
                           size_t len) {
  if (len > rt->cfg.max_line) return deny(s, CNV_RT_DENY_TOO_LONG);
  cnv_arg args[SUBMIT_MAX_ARGS];
  cnv_invocation inv;
  cnv_invocation_init(&inv, args, SUBMIT_MAX_ARGS);
  uint64_t id;
  if (cnv_parse_invocation(line, len, NULL, NULL, &inv) != CNV_OK ||
      cnv_invocation_id(&inv, &id) != CNV_OK) {
    return deny(s, CNV_RT_DENY_MALFORMED);
  }
  cnv__rt_variety_observe(rt, id);
  uint32_t index;
  const cnv__rt_handler *h = handler_find(rt, id, &index);
  if (!h) return deny(s, CNV_RT_DENY_UNKNOWN_CAPABILITY);
  if (!phase_admits(cnv_swarm_phase(&rt->swarm))) return deny(s, CNV_RT_DENY_PHASE);
  cnv_status st = token_check(rt, agent, h);
  if (st != CNV_OK) return deny(s, cnv_runtime_denial_of(st));
  return enqueue(rt, s, agent, index, line, len, &inv);
}

cnv_status cnv_runtime_submit(cnv_runtime *rt, uint32_t agent, const char *line, size_t len) {
  if (!rt || (!line && len)) return CNV_EINVAL;
  cnv__rt_stripe *s = cnv__rt_stripe_of(rt);
  cnv__fetch_add_relaxed(&s->c[CNV__RT_C_SUBMITTED], 1u); /* relaxed: statistic */
  /* seq_cst (with the state load below, and stop's seq_cst store then inflight loads):
   * either this submit sees STOPPING, or stop sees it in flight and waits for it. */
  atomic_fetch_add_explicit(&s->inflight, 1, memory_order_seq_cst);
  cnv_status st;
  if (atomic_load_explicit(&rt->state, memory_order_seq_cst) != CNV__RT_RUNNING) {
    cnv__fetch_add_relaxed(&s->c[CNV__RT_C_REFUSED], 1u); /* relaxed: statistic */
    st = CNV_ESTATE;
  } else {
    st = pipeline(rt, s, agent, line, len);
  }
  /* release: the push and counters above happen-before stop's acquire read of inflight */
  atomic_fetch_sub_explicit(&s->inflight, 1, memory_order_release);
  return st;
}
