/* cnv_runtime_agent_check: the token decision submit makes for one capability, charging
 * nothing. Submit authorizes with the agent's prepared token (cnv_deleg_prepared_authorize),
 * which is cnv_deleg_authorize: a verification and then one use of each use-limited link.
 * Here the same request (the runtime's verifier and token clock, the agent's token, key and
 * the swarm, the handler's capability and declared effects) goes to cnv_deleg_verify, which
 * is that verification without the use, and its status maps to a denial as submit's does. */
#include <urcu/urcu-bp.h>

#include <cnv/protocol.h>

#include "clock.h"
#include "rt_internal.h"

/* What the check needs of the handler, copied inside the read-side section. */
typedef struct check_target {
  cnv_deleg_cap cap;
  cnv_effects effects;
} check_target;

static int target_of(cnv_runtime *rt, uint64_t id, check_target *t) {
  urcu_bp_read_lock();
  const cnv__rt_handler *h = cnv__rt_table_find(cnv__rt_table_get(rt), id);
  if (h) *t = (check_target){.cap = h->cap, .effects = h->effects};
  CNV__HB_RELEASE(&rt->table);
  urcu_bp_read_unlock();
  return h != NULL;
}

cnv_status cnv_runtime_agent_check(cnv_runtime *rt, uint32_t agent, const char *path, size_t path_len) {
  if (!rt || !path) return CNV_EINVAL;
  uint64_t id;
  cnv_status st = cnv_capability_id(path, path_len, &id);
  if (st != CNV_OK) return st;
  check_target t;
  /* submit's order: the handler, then the agent, then its token */
  if (!target_of(rt, id, &t)) return CNV_ERT_DENY_UNKNOWN_CAPABILITY;
  const cnv__rt_agent *a = cnv__rt_agent_get(rt, agent);
  if (!a) return CNV_ERT_DENY_UNKNOWN_AGENT;
  const cnv__rt_token *tok = a->token;
  cnv_deleg_request req = {.now = cnv__rt_token_now(rt), .swarm = rt->cfg.swarm_id, .holder = tok->holder, .cap = &t.cap, .effects = t.effects};
  st = cnv_deleg_verify(rt->verifier, tok->bytes, tok->len, &req, NULL, NULL);
  return st == CNV_OK ? CNV_OK : cnv_runtime_map_deleg(st);
}
