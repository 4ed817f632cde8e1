/* The fixed scene of the swarmwire fuzz targets (fuzz_swarm_message, fuzz_swarm_handshake,
 * fuzz_swarm_record): swarm 7, an agent (Ed25519 seed 0x01...), a node (seed 0x02...), the
 * swarm key (0x03...), a session's keys (0x04..., 0x05...) and session id (0x06...), the
 * capability subject "cnv.7.cap.demo.echo" and a HELLO hash (0x5a...). The seed corpora hold
 * messages made with these keys, so fuzzed bytes reach the cryptographic checks and the
 * re-encoding properties. */
#ifndef CNV_FUZZ_SWARM_FUZZ_H
#define CNV_FUZZ_SWARM_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/swarmwire.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SF_SWARM UINT64_C(7)

static struct {
  int ready;
  uint8_t agent_pk[32], agent_sk[64], node_pk[32], node_sk[64];
  uint8_t swarm_key[32], c2s[32], s2c[32], sid[16], hello_hash[32], revoked[32];
  char subject[CNV_SW_SUBJECT_MAX];
} SF;

static inline void sf_init(void) {
  if (SF.ready) return;
  uint8_t seed[32];
  if (sodium_init() < 0) abort();
  memset(seed, 1, sizeof seed);
  crypto_sign_seed_keypair(SF.agent_pk, SF.agent_sk, seed);
  memset(seed, 2, sizeof seed);
  crypto_sign_seed_keypair(SF.node_pk, SF.node_sk, seed);
  memset(SF.swarm_key, 3, 32);
  memset(SF.c2s, 4, 32);
  memset(SF.s2c, 5, 32);
  memset(SF.sid, 6, 16);
  memset(SF.hello_hash, 0x5a, 32);
  memset(SF.revoked, 0xc3, 32);
  if (cnv_sw_subject_cap(SF_SWARM, "demo.echo", 9, SF.subject, sizeof SF.subject, NULL) != CNV_OK) abort();
  SF.ready = 1;
}

/* The reply subject of request reqid in the scene's session. */
static inline void sf_reply(uint64_t reqid, char out[CNV_SW_SUBJECT_MAX]) {
  if (cnv_sw_subject_session(CNV_SW_SESS_REPLY, SF_SWARM, SF.sid, reqid, out, CNV_SW_SUBJECT_MAX, NULL) != CNV_OK) {
    abort();
  }
}

/* [p, p + n) lies inside [base, base + len). */
static inline int sf_inside(const void *p, size_t n, const void *base, size_t len) {
  const uint8_t *a = p, *b = base;
  return a >= b && n <= len && (size_t)(a - b) <= len - n;
}

#endif
