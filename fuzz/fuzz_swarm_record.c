/* Fuzz the swarm's records with the fixed scene of swarm_fuzz.h. Byte 0 picks what the rest
 * is: 1..5 a record read from that kind's key (trust and grant: the agent's key; revoke: the
 * hash 0xc3...; join and node: the node's key), 6 a key name up to its first NUL byte, then a
 * record read from that key, anything else a node status body. Properties (abort on
 * violation): a record read has its key's kind, slices inside the input, and writes back to
 * the same bytes when the scene signed it; a record that reads in swarm 7 does not in swarm 8;
 * a status body that decodes encodes back to the same 32 bytes. */
#include "swarm_fuzz.h"

static uint8_t again[CNV_SW_MAX_TOKEN + CNV_SW_MAX_BODY + 256];

static void record_case(const char *key, uint8_t want_kind, const uint8_t *p, size_t n) {
  cnv_sw_record rec, r8;
  if (cnv_sw_record_read(SF_SWARM, key, p, n, &rec) != CNV_OK) return;
  if ((want_kind && rec.kind != want_kind) || rec.body_len > CNV_SW_MAX_BODY) abort();
  if ((rec.token_len && !sf_inside(rec.token, rec.token_len, p, n)) || (rec.body_len && !sf_inside(rec.body, rec.body_len, p, n))) {
    abort();
  }
  if (cnv_sw_record_read(SF_SWARM + 1, key, p, n, &r8) != CNV_ESW_PROOF) abort();
  const uint8_t *sk = memcmp(rec.signer_pk, SF.node_pk, 32) == 0    ? SF.node_sk
                      : memcmp(rec.signer_pk, SF.agent_pk, 32) == 0 ? SF.agent_sk
                                                                    : NULL;
  if (!sk) return;
  size_t w = 0;
  if (cnv_sw_record_write(SF_SWARM, key, sk, &rec, again, sizeof again, &w) != CNV_OK || w != n ||
      memcmp(again, p, n) != 0) {
    abort();
  }
}

static void status_case(const uint8_t *p, size_t n) {
  cnv_sw_node_status s;
  if (cnv_sw_node_status_decode(p, n, &s) != CNV_OK) return;
  uint8_t b[CNV_SW_NODE_STATUS_BYTES];
  if (n != sizeof b || cnv_sw_node_status_encode(&s, b, sizeof b) != CNV_OK || memcmp(b, p, n) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > sizeof again) return 0;
  sf_init();
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  uint8_t kind = data[0];
  if (kind >= 1 && kind <= CNV_SW_REC_KIND_MAX) {
    const uint8_t *id = kind == CNV_SW_REC_REVOKE                              ? SF.revoked
                        : kind == CNV_SW_REC_TRUST || kind == CNV_SW_REC_GRANT ? SF.agent_pk
                                                                               : SF.node_pk;
    char key[CNV_SW_KV_KEY_MAX];
    if (cnv_sw_record_key((cnv_sw_record_kind)kind, id, key, sizeof key, NULL) != CNV_OK) abort();
    record_case(key, kind, p, n);
  } else if (kind == CNV_SW_REC_KIND_MAX + 1) {
    char key[CNV_SW_KV_KEY_MAX + 8];
    const uint8_t *nul = memchr(p, 0, n < sizeof key ? n : sizeof key);
    if (!nul) return 0;
    memcpy(key, p, (size_t)(nul - p) + 1);
    size_t used = (size_t)(nul - p) + 1;
    record_case(key, 0, p + used, n - used);
  } else {
    status_case(p, n);
  }
  return 0;
}
