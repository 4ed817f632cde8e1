/* Capability paths and patterns; the caveat rules (canonical form, narrowing, matching). */
#include <string.h>

#include <cnv/protocol.h>

#include "deleg.h"

/* Ids come from the protocol module (docs/contract.md: XXH3-64 of the validated path), so a pattern's
 * id is the capability id every other module computes; any invalid path is BAD_PATH here. */
cnv_status cnv__deleg_path_id(const char *path, size_t len, uint64_t *id, uint64_t *noun,
                              uint8_t *segments) {
  if (cnv_capability_id(path, len, id) != CNV_OK) return CNV_EDELEG_BAD_PATH;
  const char *dot = memchr(path, '.', len);
  size_t noun_len = dot ? (size_t)(dot - path) : len;
  unsigned segs = 1;
  for (const char *p = dot; p; p = memchr(p + 1, '.', len - (size_t)(p + 1 - path))) segs++;
  *segments = (uint8_t)segs;
  /* the first segment of a valid path is itself a valid one-segment path */
  return cnv_capability_id(path, noun_len, noun) == CNV_OK ? CNV_OK : CNV_EDELEG_BAD_PATH;
}

cnv_status cnv_deleg_cap_from_path(const char *path, size_t len, cnv_deleg_cap *out) {
  if (!path || !out) return CNV_EINVAL;
  return cnv__deleg_path_id(path, len, &out->id, &out->noun, &out->segments);
}

cnv_status cnv_deleg_pattern_parse(const char *text, size_t len, cnv_deleg_pattern *out) {
  if (!text || !out) return CNV_EINVAL;
  uint64_t id, noun;
  uint8_t segs;
  if (len >= 2 && text[len - 2] == '.' && text[len - 1] == '*') {
    /* `noun.*`: exactly one segment before the wildcard. */
    cnv_status st = cnv__deleg_path_id(text, len - 2, &id, &noun, &segs);
    if (st != CNV_OK) return st;
    if (segs != 1) return CNV_EDELEG_BAD_PATH;
    *out = (cnv_deleg_pattern){.id = noun, .noun = noun, .kind = CNV_DELEG_PREFIX};
    return CNV_OK;
  }
  cnv_status st = cnv__deleg_path_id(text, len, &id, &noun, &segs);
  if (st != CNV_OK) return st;
  *out = (cnv_deleg_pattern){.id = id, .noun = noun, .kind = CNV_DELEG_EXACT};
  return CNV_OK;
}

bool cnv_deleg_pattern_matches(const cnv_deleg_pattern *p, const cnv_deleg_cap *c) {
  if (p->kind == CNV_DELEG_EXACT) return p->id == c->id && p->noun == c->noun;
  return p->kind == CNV_DELEG_PREFIX && c->segments >= 2 && p->noun == c->noun;
}

int cnv__deleg_pattern_cmp(const cnv_deleg_pattern *a, const cnv_deleg_pattern *b) {
  if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
  if (a->id != b->id) return a->id < b->id ? -1 : 1;
  return 0;
}

/* True when every capability narrow matches is also matched by wide. */
static bool covers(const cnv_deleg_pattern *wide, const cnv_deleg_pattern *narrow) {
  if (wide->kind == CNV_DELEG_PREFIX) return wide->noun == narrow->noun &&
                                             (narrow->kind == CNV_DELEG_PREFIX || narrow->id != narrow->noun);
  return narrow->kind == CNV_DELEG_EXACT && wide->id == narrow->id && wide->noun == narrow->noun;
}

static bool set_covers(const cnv_deleg_pattern *set, uint8_t n, const cnv_deleg_pattern *p) {
  for (uint8_t i = 0; i < n; i++) {
    if (covers(&set[i], p)) return true;
  }
  return false;
}

static cnv_status set_check(const cnv_deleg_pattern *set, uint8_t n) {
  if (n > CNV_DELEG_MAX_PATTERNS) return CNV_ETOKEN_PATTERN_COUNT;
  for (uint8_t i = 0; i < n; i++) {
    const cnv_deleg_pattern *p = &set[i];
    if (p->kind != CNV_DELEG_EXACT && p->kind != CNV_DELEG_PREFIX) return CNV_ETOKEN_BAD_PATTERN;
    if (p->kind == CNV_DELEG_PREFIX && p->id != p->noun) return CNV_ETOKEN_BAD_PATTERN;
    if (i == 0) continue;
    int cmp = cnv__deleg_pattern_cmp(&set[i - 1], p);
    if (cmp == 0) return CNV_ETOKEN_DUPLICATE;
    if (cmp > 0) return CNV_ETOKEN_UNSORTED;
  }
  return CNV_OK;
}

cnv_status cnv__deleg_caveats_check(const cnv_deleg_caveats *c) {
  cnv_status st = set_check(c->allow, c->n_allow);
  if (st == CNV_OK) st = set_check(c->forbid, c->n_forbid);
  if (st == CNV_OK && c->not_before > c->expiry) st = CNV_ETOKEN_BAD_WINDOW;
  return st;
}

cnv_status cnv__deleg_narrows(const cnv_deleg_caveats *parent, const cnv_deleg_caveats *child) {
  for (uint8_t i = 0; i < child->n_allow; i++) {
    if (!set_covers(parent->allow, parent->n_allow, &child->allow[i])) return CNV_EDELEG_WIDENED_ALLOW;
  }
  for (uint8_t i = 0; i < parent->n_forbid; i++) {
    if (!set_covers(child->forbid, child->n_forbid, &parent->forbid[i])) return CNV_EDELEG_DROPPED_FORBIDDEN;
  }
  if (!cnv_effects_subset(child->effects, parent->effects)) return CNV_EDELEG_WIDENED_EFFECTS;
  if (child->not_before < parent->not_before || child->expiry > parent->expiry) return CNV_EDELEG_WIDENED_WINDOW;
  if (child->max_uses > parent->max_uses) return CNV_EDELEG_WIDENED_USES;
  if (parent->depth == 0 || child->depth >= parent->depth) return CNV_EDELEG_DEPTH;
  if (parent->swarm != CNV_DELEG_ANY_SWARM && child->swarm != parent->swarm) return CNV_EDELEG_WIDENED_SWARM;
  return CNV_OK;
}

cnv_status cnv__deleg_cap_check(const cnv_deleg_caveats *c, const cnv_deleg_cap *cap) {
  for (uint8_t i = 0; i < c->n_forbid; i++) {
    if (cnv_deleg_pattern_matches(&c->forbid[i], cap)) return CNV_EDELEG_FORBIDDEN;
  }
  for (uint8_t i = 0; i < c->n_allow; i++) {
    if (cnv_deleg_pattern_matches(&c->allow[i], cap)) return CNV_OK;
  }
  return CNV_EDELEG_NOT_ALLOWED;
}
