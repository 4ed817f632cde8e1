/* The swarmwire tests' common scene: an agent and a node with Ed25519 keys, a swarm key, a
 * sealed ticket, and subjects of swarm 7. */
#ifndef CNV_TEST_SWARMWIRE_FIXTURE_H
#define CNV_TEST_SWARMWIRE_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/swarmwire.h>

#define FX_SWARM UINT64_C(7)

typedef struct fixture {
  uint8_t agent_pk[32], agent_sk[64];
  uint8_t node_pk[32], node_sk[64];
  uint8_t swarm_key[32];
  uint8_t c2s[32], s2c[32];
  uint8_t sid[16];
  uint8_t token[40];
  uint8_t ticket[CNV_SW_MAX_TICKET];
  size_t ticket_len;
  char subject[CNV_SW_SUBJECT_MAX], reply[CNV_SW_SUBJECT_MAX];
} fixture;

/* Fills f; returns 0 on success. Deterministic keys (seeded) so failures reproduce. */
static inline int fixture_init(fixture *f) {
  if (sodium_init() < 0) return -1;
  uint8_t seed[32];
  memset(seed, 1, sizeof seed);
  crypto_sign_seed_keypair(f->agent_pk, f->agent_sk, seed);
  memset(seed, 2, sizeof seed);
  crypto_sign_seed_keypair(f->node_pk, f->node_sk, seed);
  memset(f->swarm_key, 3, sizeof f->swarm_key);
  memset(f->c2s, 4, sizeof f->c2s);
  memset(f->s2c, 5, sizeof f->s2c);
  memset(f->sid, 6, sizeof f->sid);
  for (size_t i = 0; i < sizeof f->token; i++) f->token[i] = (uint8_t)(0x40 + i);
  cnv_sw_ticket t = {.issued_ms = 1000, .expires_ms = 2000, .token = f->token, .token_len = sizeof f->token};
  memcpy(t.sid, f->sid, 16);
  memcpy(t.agent_pk, f->agent_pk, 32);
  memcpy(t.node_pk, f->node_pk, 32);
  memcpy(t.key_c2s, f->c2s, 32);
  memcpy(t.key_s2c, f->s2c, 32);
  if (cnv_sw_ticket_seal(f->swarm_key, 1, FX_SWARM, &t, f->ticket, sizeof f->ticket, &f->ticket_len) != CNV_OK) {
    return -1;
  }
  if (cnv_sw_subject_cap(FX_SWARM, "demo.echo", 9, f->subject, sizeof f->subject, NULL) != CNV_OK) return -1;
  if (cnv_sw_subject_session(CNV_SW_SESS_REPLY, FX_SWARM, f->sid, 42, f->reply, sizeof f->reply, NULL) != CNV_OK) {
    return -1;
  }
  return 0;
}

/* A heap copy of exactly n bytes (at least one allocated), so that AddressSanitizer sees a
 * decoder reading past the length it was given. The caller frees it. */
static inline uint8_t *fixture_exact(const uint8_t *p, size_t n) {
  uint8_t *c = malloc(n ? n : 1);
  if (c && n) memcpy(c, p, n);
  return c;
}

#endif
