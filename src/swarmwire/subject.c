/* Subjects, record key names and the node status body: every name the swarm uses on NATS is
 * made here (docs/nats.md "Subjects"), so the mapping exists once. */
#include <stdio.h>
#include <string.h>

#include "sw_internal.h"

#define MAX_PATH_BYTES 255u
#define MAX_SEGMENTS 8u

/* snprintf into out; CNV_ERANGE when it did not fit. */
static cnv_status finish(int n, size_t cap, size_t *written) {
  if (n < 0 || (size_t)n >= cap) return CNV_ERANGE;
  if (written) *written = (size_t)n;
  return CNV_OK;
}

static bool path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* A capability path as docs/grammar.md has it: 1..8 non-empty segments of [a-z0-9_-]. */
static bool valid_path(const char *path, size_t len) {
  if (len == 0 || len > MAX_PATH_BYTES) return false;
  unsigned segments = 1;
  size_t seg_len = 0;
  for (size_t i = 0; i < len; i++) {
    if (path[i] == '.') {
      if (seg_len == 0 || ++segments > MAX_SEGMENTS) return false;
      seg_len = 0;
    } else if (path_char(path[i])) {
      seg_len++;
    } else {
      return false;
    }
  }
  return seg_len > 0;
}

cnv_status cnv_sw_subject_cap(uint64_t swarm, const char *path, size_t path_len, char *out, size_t cap,
                              size_t *written) {
  if (!path || !out) return CNV_EINVAL;
  if (swarm == 0) return CNV_ERANGE;
  if (!valid_path(path, path_len)) return CNV_ESW_SUBJECT;
  return finish(snprintf(out, cap, "cnv.%llu.cap.%.*s", (unsigned long long)swarm, (int)path_len, path), cap,
                written);
}

cnv_status cnv_sw_subject_swarm(cnv_sw_subject_kind kind, uint64_t swarm, char *out, size_t cap, size_t *written) {
  if (!out) return CNV_EINVAL;
  if (swarm == 0) return CNV_ERANGE;
  unsigned long long s = (unsigned long long)swarm;
  int n;
  switch (kind) {
    case CNV_SW_SUBJ_HANDSHAKE:
      n = snprintf(out, cap, "cnv.%llu.hs", s);
      break;
    case CNV_SW_SUBJ_QUEUE:
      n = snprintf(out, cap, "cnv.%llu", s);
      break;
    case CNV_SW_SUBJ_CLAIMS:
      n = snprintf(out, cap, "cnv.%llu.claim.>", s);
      break;
    case CNV_SW_SUBJ_DONE_ALL:
      n = snprintf(out, cap, "cnv.%llu.s.*.d.*", s);
      break;
    case CNV_SW_SUBJ_STREAM:
      n = snprintf(out, cap, "CNV_%llu_ONCE", s);
      break;
    case CNV_SW_SUBJ_BUCKET:
      n = snprintf(out, cap, "cnv_%llu", s);
      break;
    case CNV_SW_SUBJ_CRDT:
      n = snprintf(out, cap, "cnv.%llu.crdt", s);
      break;
    default:
      return CNV_ERANGE;
  }
  return finish(n, cap, written);
}

cnv_status cnv_sw_subject_session(cnv_sw_session_subject kind, uint64_t swarm, const uint8_t sid[CNV_SW_SID_BYTES],
                                  uint64_t reqid, char *out, size_t cap, size_t *written) {
  if (!sid || !out) return CNV_EINVAL;
  if (swarm == 0) return CNV_ERANGE;
  char hex[2 * CNV_SW_SID_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, sid, CNV_SW_SID_BYTES);
  char req[24];
  if (reqid == CNV_SW_ANY_REQUEST) {
    memcpy(req, "*", 2);
  } else {
    snprintf(req, sizeof req, "%llu", (unsigned long long)reqid);
  }
  unsigned long long s = (unsigned long long)swarm;
  int n;
  switch (kind) {
    case CNV_SW_SESS_REPLY:
      n = snprintf(out, cap, "cnv.%llu.s.%s.r.%s", s, hex, req);
      break;
    case CNV_SW_SESS_DONE:
      n = snprintf(out, cap, "cnv.%llu.s.%s.d.%s", s, hex, req);
      break;
    case CNV_SW_SESS_CLAIM:
      n = snprintf(out, cap, "cnv.%llu.claim.%s.%s", s, hex, req);
      break;
    case CNV_SW_SESS_ALL:
      n = snprintf(out, cap, "cnv.%llu.s.%s.>", s, hex);
      break;
    default:
      return CNV_ERANGE;
  }
  return finish(n, cap, written);
}

cnv_status cnv_sw_claim_id(const uint8_t key_s2c[CNV_SW_SYM_BYTES], const uint8_t sid[CNV_SW_SID_BYTES], uint64_t reqid,
                           uint64_t takeover_seq, char *out, size_t cap, size_t *written) {
  if (!key_s2c || !sid || !out) return CNV_EINVAL;
  cnv_status ready = cnv__sw_ready();
  if (ready != CNV_OK) return ready;
  static const char domain[] = "cnv-swarm/1 claim-id";
  char hex[2 * CNV_SW_SID_BYTES + 1], base[CNV_SW_CLAIM_ID_MAX];
  sodium_bin2hex(hex, sizeof hex, sid, CNV_SW_SID_BYTES);
  int n = takeover_seq ? snprintf(base, sizeof base, "%s.%llu.t%llu", hex, (unsigned long long)reqid,
                                  (unsigned long long)takeover_seq)
                       : snprintf(base, sizeof base, "%s.%llu", hex, (unsigned long long)reqid);
  if (n < 0 || (size_t)n >= sizeof base) return CNV_ERANGE;
  uint8_t mac[16];
  crypto_generichash_state st;
  if (crypto_generichash_init(&st, key_s2c, CNV_SW_SYM_BYTES, sizeof mac) != 0 ||
      crypto_generichash_update(&st, (const uint8_t *)domain, sizeof domain) != 0 ||
      crypto_generichash_update(&st, (const uint8_t *)base, (size_t)n) != 0 ||
      crypto_generichash_final(&st, mac, sizeof mac) != 0) {
    sodium_memzero(&st, sizeof st);
    return CNV_ENOTSUP; /* libsodium refused a valid length: not a libsodium that works */
  }
  sodium_memzero(&st, sizeof st);
  char mac_hex[2 * sizeof mac + 1];
  sodium_bin2hex(mac_hex, sizeof mac_hex, mac, sizeof mac);
  return finish(snprintf(out, cap, "%s.%s", base, mac_hex), cap, written);
}

cnv_status cnv_sw_record_key(cnv_sw_record_kind kind, const uint8_t id[32], char *out, size_t cap, size_t *written) {
  if (!id || !out) return CNV_EINVAL;
  static const char *const prefix[CNV_SW_REC_KIND_MAX + 1] = {NULL, "trust", "revoke", "grant", "join", "node"};
  if ((unsigned)kind < 1 || (unsigned)kind > CNV_SW_REC_KIND_MAX) return CNV_ERANGE;
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, id, 32);
  return finish(snprintf(out, cap, "%s.%s", prefix[kind], hex), cap, written);
}

cnv_status cnv_sw_hash(const void *in, size_t len, uint8_t out[CNV_SW_HASH_BYTES]) {
  if ((!in && len > 0) || !out) return CNV_EINVAL;
  cnv_status ready = cnv__sw_ready();
  if (ready != CNV_OK) return ready;
  /* crypto_generichash fails only for out-of-range output or key sizes, fixed here. */
  if (crypto_generichash(out, CNV_SW_HASH_BYTES, in, len, NULL, 0) != 0) return CNV_EINVAL;
  return CNV_OK;
}

/* Node status body, little-endian: phase u8, breaker u8, reserved u16 (0), capabilities u32,
 * in_flight u32, interval_ms u32, completed u64, started_ms u64 (32 bytes). */
cnv_status cnv_sw_node_status_encode(const cnv_sw_node_status *s, void *out, size_t cap) {
  if (!s || !out) return CNV_EINVAL;
  if (cap < CNV_SW_NODE_STATUS_BYTES) return CNV_ERANGE;
  uint8_t *p = out;
  p[0] = s->phase;
  p[1] = s->breaker;
  p[2] = p[3] = 0;
  sw_put32(p + 4, s->capabilities);
  sw_put32(p + 8, s->in_flight);
  sw_put32(p + 12, s->interval_ms);
  sw_put64(p + 16, s->completed);
  sw_put64(p + 24, s->started_ms);
  return CNV_OK;
}

cnv_status cnv_sw_node_status_decode(const void *in, size_t len, cnv_sw_node_status *out) {
  if (!in || !out) return CNV_EINVAL;
  const uint8_t *p = in;
  if (len != CNV_SW_NODE_STATUS_BYTES || p[2] != 0 || p[3] != 0 || p[1] > 1) return CNV_ESW_MALFORMED;
  out->phase = p[0];
  out->breaker = p[1];
  out->capabilities = sw_get32(p + 4);
  out->in_flight = sw_get32(p + 8);
  out->interval_ms = sw_get32(p + 12);
  out->completed = sw_get64(p + 16);
  out->started_ms = sw_get64(p + 24);
  return CNV_OK;
}
