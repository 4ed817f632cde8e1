/* Session configuration, creation (one allocation sized from the limits), destruction (wiped
 * first) and the read-only queries. */
#include <sodium.h>
#include <stdlib.h>

#include "session_internal.h"

void cnv_session_config_default(cnv_session_config *cfg, int role) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->role = role;
  cfg->caps.versions[0] = (cnv_proto_version){1, 0, 0};
  cfg->caps.n_versions = 1;
  cfg->caps.compression[0] = CNV_COMPRESS_NONE;
  cfg->caps.n_compression = 1;
  cfg->caps.checksum = 0;
  cfg->caps.features = CNV_FEAT_IMPLEMENTED;
  cfg->caps.max_message_size = 65536u;
  cfg->caps.max_concurrent_calls = 64u;
  cfg->rekey_frames = UINT64_C(1) << 20;
  cfg->rekey_ns = UINT64_C(600) * 1000000000u;
  cfg->aeads = CNV_SESSION_AEAD_XCHACHA20POLY1305 | CNV_SESSION_AEAD_AES256GCM;
}

static cnv_status config_check(const cnv_session_config *cfg) {
  bool client = cfg->role == CNV_SESSION_CLIENT;
  if (!client && cfg->role != CNV_SESSION_SERVER) return CNV_EINVAL;
  if (!cfg->secret_key) return CNV_EINVAL;
  if (client && (!cfg->server_pk || !cfg->token)) return CNV_EINVAL;
  if (!client && (cfg->server_pk || cfg->token || cfg->token_len)) return CNV_EINVAL;
  if (client && (cfg->token_len < 1 || cfg->token_len > CNV_SESSION_MAX_TOKEN)) return CNV_ERANGE;
  if (cfg->rekey_frames < 1 || cfg->rekey_frames > (UINT64_C(1) << 62) || cfg->rekey_ns < 1) return CNV_ERANGE;
  if (!(cfg->aeads & CNV_SESSION_AEAD_XCHACHA20POLY1305) ||
      (cfg->aeads & ~(CNV_SESSION_AEAD_XCHACHA20POLY1305 | CNV_SESSION_AEAD_AES256GCM)))
    return CNV_EINVAL;
  cnv_status st = cnv_capabilities_check(&cfg->caps);
  if (st != CNV_OK) return st;
  /* A sealed frame is never compressed and never carries the trailer (the tag does its job). */
  if (cfg->caps.n_compression != 1 || cfg->caps.compression[0] != CNV_COMPRESS_NONE || cfg->caps.checksum)
    return CNV_EINVAL;
  return CNV_OK;
}

/* Largest frame (header included) this side may ever have to gather. */
static size_t rx_capacity(const cnv_session_config *cfg) {
  size_t m = CNV__SESSION_PLAIN_MAX;
  size_t msg = (size_t)cfg->caps.max_message_size + CNV_SESSION_TAG_BYTES;
  if (msg > m) m = msg;
  size_t auth = CNV__SESSION_AUTH_FIXED + CNV_SESSION_MAX_TOKEN + CNV_SESSION_TAG_BYTES;
  if (cfg->role == CNV_SESSION_SERVER && auth > m) m = auth;
  return CNV_FRAME_HEADER_SIZE + m;
}

cnv_status cnv_session_create(const cnv_session_config *cfg, uint64_t now_ns, cnv_session **out) {
  if (!cfg || !out) return CNV_EINVAL;
  *out = NULL;
  cnv_status st = config_check(cfg);
  if (st != CNV_OK) return st;
  if (sodium_init() < 0) return CNV_ENOTSUP;
  size_t head = (sizeof(cnv_session) + 15u) & ~(size_t)15u;
  size_t rx_cap = rx_capacity(cfg);
  size_t out_cap = CNV__SESSION_OUTBOX_BASE + cfg->token_len;
  size_t total = head + cfg->token_len + rx_cap + out_cap;
  /* calloc aligns for max_align_t, enough for the AES-256-GCM states (16 bytes) in the head. */
  _Static_assert(_Alignof(max_align_t) >= _Alignof(cnv_session), "calloc's alignment holds cnv_session");
  uint8_t *block = calloc(1, total);
  if (!block) return CNV_ENOMEM;
  cnv_session *s = (cnv_session *)(void *)block;
  s->block_size = total;
  s->role = cfg->role;
  s->caps = cfg->caps;
  s->rekey_frames = cfg->rekey_frames;
  s->rekey_ns = cfg->rekey_ns;
  s->now_ns = now_ns;
  s->aead_offer = (uint8_t)cfg->aeads;
  if (!crypto_aead_aes256gcm_is_available()) s->aead_offer &= (uint8_t)~CNV_SESSION_AEAD_AES256GCM;
  memcpy(s->secret, cfg->secret_key, CNV_SESSION_SECRET_BYTES);
  s->token = block + head;
  s->token_len = cfg->token_len;
  if (cfg->token_len) memcpy(s->token, cfg->token, cfg->token_len);
  s->rx_buf = s->token + cfg->token_len;
  s->rx_cap = rx_cap;
  s->out_buf = s->rx_buf + rx_cap;
  s->out_cap = out_cap;
  if (cfg->role == CNV_SESSION_CLIENT) {
    memcpy(s->server_pk, cfg->server_pk, CNV_SESSION_KEY_BYTES);
    s->state = CNV__C_WAIT_REPLY;
    st = cnv__session_client_hello(s);
    if (st != CNV_OK) {
      cnv_session_destroy(s);
      return st;
    }
  } else {
    crypto_sign_ed25519_sk_to_pk(s->server_pk, s->secret);
    s->state = CNV__S_WAIT_HELLO;
  }
  *out = s;
  return CNV_OK;
}

void cnv__session_wipe(cnv_session *s) { sodium_memzero(s, s->block_size); }

void cnv_session_destroy(cnv_session *s) {
  if (!s) return;
  cnv__session_wipe(s);
  free(s);
}

cnv_status cnv_session_error(const cnv_session *s) { return s ? s->error : CNV_EINVAL; }

cnv_status cnv_session_peer_status(const cnv_session *s) { return s ? s->peer_status : CNV_EINVAL; }

bool cnv_session_ready(const cnv_session *s) { return s && s->ready; }

int cnv_session_aead(const cnv_session *s) { return s ? s->aead : 0; }

cnv_status cnv_session_negotiated(const cnv_session *s, cnv_negotiated *out) {
  if (!s || !out) return CNV_EINVAL;
  if (!s->keys) return CNV_ESTATE;
  *out = s->neg;
  return CNV_OK;
}

cnv_status cnv_session_stats_get(const cnv_session *s, cnv_session_stats *out) {
  if (!s || !out) return CNV_EINVAL;
  *out = s->stats;
  out->in_flight = s->in_flight;
  return CNV_OK;
}
