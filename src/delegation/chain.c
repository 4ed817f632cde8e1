/* Chain verification, cheapest checks first: a summary of the parsed token (link hashes,
 * windows, swarms, holder), the policy and per-request checks on it, and only then the
 * static pass with the signatures (run once per distinct token, then cached). The order is
 * docs/delegation.md#rules. */
#include <string.h>

#include "deleg.h"

static cnv_status fail_link(cnv_deleg_error *err, int32_t link, cnv_status st) {
  if (err) *err = (cnv_deleg_error){.link = link, .offset = 0};
  return st;
}

/* Rules of link i given links 0..i-1 passed: principal, parent hash, signature, narrowing. */
static cnv_status link_rules(const cnv_deleg_token *tok, const cnv__deleg_span *span,
                             const uint8_t *buf, uint32_t i, const cnv__deleg_chain *c) {
  static const uint8_t zero[CNV_DELEG_HASH_BYTES];
  const cnv_deleg_link *l = &tok->links[i];
  const cnv_deleg_link *prev = i ? &tok->links[i - 1] : NULL;
  if (prev && memcmp(l->issuer, prev->audience, CNV_DELEG_KEY_BYTES) != 0) return CNV_EDELEG_MISALIGNED;
  if (memcmp(l->parent, prev ? c->hash[i - 1] : zero, CNV_DELEG_HASH_BYTES) != 0) {
    return CNV_EDELEG_PARENT_HASH;
  }
  if (!cnv__deleg_verify_body(buf + span->off, span->body_len, l->signature, l->issuer)) {
    return CNV_EDELEG_BAD_SIGNATURE;
  }
  return prev ? cnv__deleg_narrows(&prev->caveats, &l->caveats) : CNV_OK;
}

void cnv__deleg_chain_summary(const cnv_deleg_token *tok, const uint8_t *buf, const cnv__deleg_span *spans,
                              cnv__deleg_chain *c) {
  c->n_links = tok->n_links;
  for (uint8_t i = 0; i < tok->n_links; i++) {
    c->not_before[i] = tok->links[i].caveats.not_before;
    c->expiry[i] = tok->links[i].caveats.expiry;
    c->swarm[i] = tok->links[i].caveats.swarm;
    c->max_uses[i] = tok->links[i].caveats.max_uses;
    cnv__deleg_hash_link(buf + spans[i].off, spans[i].body_len + CNV_DELEG_SIG_BYTES, c->hash[i]);
  }
  memcpy(c->root, tok->links[0].issuer, CNV_DELEG_KEY_BYTES);
  memcpy(c->holder, tok->links[tok->n_links - 1].audience, CNV_DELEG_KEY_BYTES);
  memcpy(c->delegate, tok->links[0].audience, CNV_DELEG_KEY_BYTES);
  c->leaf = tok->links[tok->n_links - 1].caveats;
}

cnv_status cnv__deleg_chain_static(const cnv_deleg_token *tok, const cnv__deleg_span *spans,
                                   const uint8_t *buf, const cnv__deleg_chain *c, cnv_deleg_error *err) {
  for (uint32_t i = 0; i < tok->n_links; i++) {
    cnv_status st = link_rules(tok, &spans[i], buf, i, c);
    if (st != CNV_OK) return fail_link(err, (int32_t)i, st);
  }
  return CNV_OK;
}

cnv_status cnv__deleg_chain_policy(cnv_deleg_verifier *v, const cnv__deleg_chain *c, cnv_deleg_error *err) {
  if (!cnv__deleg_key_present(v, v->trust, c->root)) return fail_link(err, 0, CNV_EDELEG_UNTRUSTED_ROOT);
  for (int32_t i = 0; i < c->n_links; i++) {
    if (cnv__deleg_key_present(v, v->revoked, c->hash[i])) return fail_link(err, i, CNV_EDELEG_REVOKED);
  }
  return CNV_OK;
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

cnv_status cnv__deleg_check_time(uint64_t skew, uint8_t n_links, const uint64_t *not_before,
                                 const uint64_t *expiry, uint64_t now, cnv_deleg_error *err) {
  for (int32_t i = 0; i < n_links; i++) {
    if (sat_add(now, skew) < not_before[i]) return fail_link(err, i, CNV_EDELEG_NOT_YET_VALID);
    if (now > sat_add(expiry[i], skew)) return fail_link(err, i, CNV_EDELEG_EXPIRED);
  }
  return CNV_OK;
}

cnv_status cnv__deleg_check_bind(uint8_t n_links, const uint64_t *swarm, const uint8_t holder[CNV_DELEG_KEY_BYTES],
                                 uint64_t req_swarm, const uint8_t req_holder[CNV_DELEG_KEY_BYTES],
                                 cnv_deleg_error *err) {
  for (int32_t i = 0; i < n_links; i++) {
    if (swarm[i] != CNV_DELEG_ANY_SWARM && swarm[i] != req_swarm) return fail_link(err, i, CNV_EDELEG_WRONG_SWARM);
  }
  if (memcmp(req_holder, holder, CNV_DELEG_KEY_BYTES) != 0) {
    return fail_link(err, n_links - 1, CNV_EDELEG_WRONG_HOLDER);
  }
  return CNV_OK;
}

cnv_status cnv__deleg_check_window(uint64_t skew, uint8_t n_links, const uint64_t *not_before,
                                   const uint64_t *expiry, const uint64_t *swarm,
                                   const uint8_t holder[CNV_DELEG_KEY_BYTES], const cnv_deleg_request *req,
                                   cnv_deleg_error *err) {
  cnv_status st = cnv__deleg_check_time(skew, n_links, not_before, expiry, req->now, err);
  return st == CNV_OK ? cnv__deleg_check_bind(n_links, swarm, holder, req->swarm, req->holder, err) : st;
}

cnv_status cnv__deleg_chain_leaf(const cnv__deleg_chain *c, const cnv_deleg_request *req, cnv_deleg_error *err) {
  int32_t leaf = c->n_links - 1;
  if (req->cap) {
    cnv_status st = cnv__deleg_cap_check(&c->leaf, req->cap);
    if (st != CNV_OK) return fail_link(err, leaf, st);
  }
  if (!cnv_effects_subset(req->effects, c->leaf.effects)) return fail_link(err, leaf, CNV_EDELEG_EFFECTS_EXCEEDED);
  return CNV_OK;
}

cnv_status cnv__deleg_chain_request(const cnv_deleg_verifier *v, const cnv__deleg_chain *c,
                                    const cnv_deleg_request *req, cnv_deleg_error *err) {
  cnv_status st =
      cnv__deleg_check_window(v->cfg.skew, c->n_links, c->not_before, c->expiry, c->swarm, c->holder, req, err);
  return st == CNV_OK ? cnv__deleg_chain_leaf(c, req, err) : st;
}
