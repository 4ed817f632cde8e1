/* The module's shared cryptography: libsodium's start, the labelled signatures, the
 * handshake's ephemeral keys and session key schedule, and grants of the swarm key. */
#include <pthread.h>
#include <string.h>

#include "core/atomic.h"
#include "sw_internal.h"

static _Atomic int sw_started;

cnv_status cnv__sw_ready(void) {
  /* Acquire pairs with the release below: a thread that sees 1 sees libsodium started.
   * sodium_init is itself safe to call from many threads at once, so a race only calls it
   * twice. */
  if (cnv__load_acquire(&sw_started)) return CNV_OK;
  if (sodium_init() < 0) return CNV_ENOTSUP;
  cnv__store_release(&sw_started, 1);
  return CNV_OK;
}

/* ---- nonces ----
 * A thread's nonces are drawn from libsodium's generator SW_NONCE_BATCH at a time: one call
 * (on Linux one getrandom system call) per batch rather than per sealed message. Each drawn
 * nonce is handed out once, from the end of the batch down; a nonce is public (it travels in
 * the clear), so the batch needs no wiping. A forked child would hand out its parent's
 * undrawn nonces a second time: the child handler empties the batch of the forking thread, the
 * only thread of the child (the other threads' batches have no thread left to use them). When
 * the handler cannot be registered, every nonce is drawn on its own. */
#define SW_NONCE_BATCH 16u

typedef struct sw_nonce_batch {
  uint8_t bytes[SW_NONCE_BATCH * CNV_SW_NONCE_BYTES];
  unsigned left; /* nonces not handed out yet: bytes[0 .. left * CNV_SW_NONCE_BYTES) */
} sw_nonce_batch;

static _Thread_local sw_nonce_batch sw_nonces;
static pthread_once_t sw_fork_once = PTHREAD_ONCE_INIT;
static bool sw_fork_safe; /* written once under sw_fork_once, read after it */

static void sw_nonces_forget(void) { sw_nonces.left = 0; }

static void sw_fork_register(void) { sw_fork_safe = pthread_atfork(NULL, NULL, sw_nonces_forget) == 0; }

void cnv__sw_nonce(uint8_t nonce[CNV_SW_NONCE_BYTES]) {
  if (sw_nonces.left == 0) {
    /* pthread_once orders sw_fork_safe's write before this read */
    if (pthread_once(&sw_fork_once, sw_fork_register) != 0 || !sw_fork_safe) {
      randombytes_buf(nonce, CNV_SW_NONCE_BYTES);
      return;
    }
    randombytes_buf(sw_nonces.bytes, sizeof sw_nonces.bytes);
    sw_nonces.left = SW_NONCE_BATCH;
  }
  sw_nonces.left--;
  memcpy(nonce, sw_nonces.bytes + (size_t)sw_nonces.left * CNV_SW_NONCE_BYTES, CNV_SW_NONCE_BYTES);
}

static void sw_prehash(crypto_sign_state *st, const char *label, uint64_t swarm, const void *a, size_t a_len,
                       const void *b, size_t b_len) {
  uint8_t s[8];
  sw_put64(s, swarm);
  crypto_sign_init(st);
  crypto_sign_update(st, (const uint8_t *)label, strlen(label));
  crypto_sign_update(st, s, sizeof s);
  if (a_len) crypto_sign_update(st, a, a_len);
  if (b_len) crypto_sign_update(st, b, b_len);
}

void cnv__sw_sign(const char *label, uint64_t swarm, const void *a, size_t a_len, const void *b, size_t b_len,
                  const uint8_t sk[CNV_SW_SECRET_BYTES], uint8_t sig[CNV_SW_SIG_BYTES]) {
  crypto_sign_state st;
  sw_prehash(&st, label, swarm, a, a_len, b, b_len);
  crypto_sign_final_create(&st, sig, NULL, sk);
  sodium_memzero(&st, sizeof st);
}

bool cnv__sw_verify(const char *label, uint64_t swarm, const void *a, size_t a_len, const void *b, size_t b_len,
                    const uint8_t pk[CNV_SW_KEY_BYTES], const uint8_t sig[CNV_SW_SIG_BYTES]) {
  crypto_sign_state st;
  sw_prehash(&st, label, swarm, a, a_len, b, b_len);
  return crypto_sign_final_verify(&st, sig, pk) == 0;
}

cnv_status cnv_sw_eph_keypair(uint8_t pk[CNV_SW_EPH_BYTES], uint8_t sk[CNV_SW_EPH_BYTES]) {
  if (!pk || !sk) return CNV_EINVAL;
  cnv_status st = cnv__sw_ready();
  if (st != CNV_OK) return st;
  randombytes_buf(sk, CNV_SW_EPH_BYTES);
  /* scalarmult_base fails only for a secret that clamps to zero: 2^-252, draw again. */
  while (crypto_scalarmult_base(pk, sk) != 0) randombytes_buf(sk, CNV_SW_EPH_BYTES);
  return CNV_OK;
}

cnv_status cnv_sw_session_keys(const uint8_t own_eph_sk[CNV_SW_EPH_BYTES], const uint8_t peer_eph_pk[CNV_SW_EPH_BYTES],
                               const uint8_t hello_hash[CNV_SW_HASH_BYTES], const uint8_t node_pk[CNV_SW_KEY_BYTES],
                               const uint8_t node_eph_pk[CNV_SW_EPH_BYTES], uint8_t c2s[CNV_SW_SYM_BYTES],
                               uint8_t s2c[CNV_SW_SYM_BYTES]) {
  if (!own_eph_sk || !peer_eph_pk || !hello_hash || !node_pk || !node_eph_pk || !c2s || !s2c) return CNV_EINVAL;
  cnv_status st = cnv__sw_ready();
  if (st != CNV_OK) return st;
  uint8_t shared[crypto_scalarmult_BYTES];
  if (crypto_scalarmult(shared, own_eph_sk, peer_eph_pk) != 0) {
    sodium_memzero(shared, sizeof shared);
    return CNV_ESW_HANDSHAKE;
  }
  static const char label[] = "cnv-swarm/1 keys";
  uint8_t master[crypto_kdf_KEYBYTES];
  crypto_generichash_state h;
  crypto_generichash_init(&h, shared, sizeof shared, sizeof master);
  crypto_generichash_update(&h, (const uint8_t *)label, sizeof label - 1);
  crypto_generichash_update(&h, hello_hash, CNV_SW_HASH_BYTES);
  crypto_generichash_update(&h, node_pk, CNV_SW_KEY_BYTES);
  crypto_generichash_update(&h, node_eph_pk, CNV_SW_EPH_BYTES);
  crypto_generichash_final(&h, master, sizeof master);
  crypto_kdf_derive_from_key(c2s, CNV_SW_SYM_BYTES, 1, "cnvswrm1", master);
  crypto_kdf_derive_from_key(s2c, CNV_SW_SYM_BYTES, 2, "cnvswrm1", master);
  sodium_memzero(&h, sizeof h);
  sodium_memzero(shared, sizeof shared);
  sodium_memzero(master, sizeof master);
  return CNV_OK;
}

cnv_status cnv_sw_grant_seal(const uint8_t swarm_key[CNV_SW_SYM_BYTES], const uint8_t node_pk[CNV_SW_KEY_BYTES],
                             uint8_t out[CNV_SW_GRANT_BYTES]) {
  _Static_assert(CNV_SW_GRANT_BYTES == CNV_SW_SYM_BYTES + crypto_box_SEALBYTES, "grant size");
  if (!swarm_key || !node_pk || !out) return CNV_EINVAL;
  cnv_status st = cnv__sw_ready();
  if (st != CNV_OK) return st;
  uint8_t x_pk[crypto_box_PUBLICKEYBYTES];
  if (crypto_sign_ed25519_pk_to_curve25519(x_pk, node_pk) != 0) return CNV_ESW_PROOF;
  if (crypto_box_seal(out, swarm_key, CNV_SW_SYM_BYTES, x_pk) != 0) return CNV_ESW_PROOF;
  return CNV_OK;
}

cnv_status cnv_sw_grant_open(const uint8_t node_sk[CNV_SW_SECRET_BYTES], const uint8_t sealed[CNV_SW_GRANT_BYTES],
                             uint8_t swarm_key[CNV_SW_SYM_BYTES]) {
  if (!node_sk || !sealed || !swarm_key) return CNV_EINVAL;
  cnv_status st = cnv__sw_ready();
  if (st != CNV_OK) return st;
  uint8_t x_sk[crypto_box_SECRETKEYBYTES], x_pk[crypto_box_PUBLICKEYBYTES];
  cnv_status out = CNV_ESW_OPEN;
  if (crypto_sign_ed25519_sk_to_curve25519(x_sk, node_sk) == 0 && crypto_scalarmult_base(x_pk, x_sk) == 0 &&
      crypto_box_seal_open(swarm_key, sealed, CNV_SW_GRANT_BYTES, x_pk, x_sk) == 0) {
    out = CNV_OK;
  }
  sodium_memzero(x_sk, sizeof x_sk);
  return out;
}
