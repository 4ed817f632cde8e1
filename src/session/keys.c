/* Key schedule (docs/session.md "Keys"): X25519 between the two ephemeral keys, a master key
 * BLAKE2b-keyed by the shared secret over the transcript, one crypto_kdf subkey per direction,
 * and the one-way rotation of a direction's key. */
#include <sodium.h>

#include "session_internal.h"

#define KEYS_LABEL "cnv-session/1 keys"
#define KDF_CONTEXT "cnvsess1" /* crypto_kdf context: exactly 8 bytes */
#define REKEY_CONTEXT "cnvrekey"
#define SUBKEY_C2S 1u
#define SUBKEY_S2C 2u
#define SUBKEY_NEXT 3u

/* Computes the direction's AES-256-GCM state from its key (when it uses AES-256-GCM): the
 * previous state is wiped first. beforenm returns 0 always. */
static void dir_expand(cnv__session_dir *d) {
  sodium_memzero(&d->aes, sizeof d->aes);
  if (d->use_aes) (void)crypto_aead_aes256gcm_beforenm(&d->aes, d->key);
}

cnv_status cnv__session_derive(cnv_session *s, const uint8_t peer_eph[CNV__SESSION_KEY]) {
  uint8_t shared[crypto_scalarmult_BYTES], master[crypto_kdf_KEYBYTES];
  int bad = crypto_scalarmult(shared, s->eph_sk, peer_eph);
  sodium_memzero(s->eph_sk, sizeof s->eph_sk);
  if (bad != 0) {
    sodium_memzero(shared, sizeof shared);
    return CNV_ESESSION_HANDSHAKE;
  }
  crypto_generichash_state h;
  crypto_generichash_init(&h, shared, sizeof shared, sizeof master);
  crypto_generichash_update(&h, (const uint8_t *)KEYS_LABEL, sizeof KEYS_LABEL - 1);
  crypto_generichash_update(&h, s->transcript, sizeof s->transcript);
  crypto_generichash_final(&h, master, sizeof master);
  sodium_memzero(&h, sizeof h);
  sodium_memzero(shared, sizeof shared);
  bool client = s->role == CNV_SESSION_CLIENT;
  /* crypto_kdf fails only for a subkey length outside 16..64 bytes; 32 is inside. */
  bad = crypto_kdf_derive_from_key(s->tx.key, sizeof s->tx.key, client ? SUBKEY_C2S : SUBKEY_S2C, KDF_CONTEXT,
                                   master) |
        crypto_kdf_derive_from_key(s->rx.key, sizeof s->rx.key, client ? SUBKEY_S2C : SUBKEY_C2S, KDF_CONTEXT,
                                   master);
  sodium_memzero(master, sizeof master);
  if (bad != 0) return CNV_ESESSION_HANDSHAKE;
  s->tx.use_aes = s->rx.use_aes = s->aead == CNV_SESSION_AEAD_AES256GCM;
  dir_expand(&s->tx);
  dir_expand(&s->rx);
  s->tx.counter = s->rx.counter = 0;
  s->tx.bytes = s->rx.bytes = 0;
  s->tx.since_ns = s->rx.since_ns = s->now_ns;
  s->keys = true;
  return CNV_OK;
}

cnv_status cnv__session_next_key(cnv__session_dir *d, uint64_t now_ns) {
  uint8_t next[CNV__SESSION_KEY];
  int bad = crypto_kdf_derive_from_key(next, sizeof next, SUBKEY_NEXT, REKEY_CONTEXT, d->key);
  memcpy(d->key, next, sizeof next);
  sodium_memzero(next, sizeof next);
  dir_expand(d);
  d->counter = 0;
  d->bytes = 0;
  d->since_ns = now_ns;
  return bad != 0 ? CNV_ESESSION_HANDSHAKE : CNV_OK; /* fails only for a length outside 16..64 */
}
