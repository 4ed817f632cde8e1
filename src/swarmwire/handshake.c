/* HELLO and WELCOME: the one handshake an agent makes with any node of a swarm
 * (docs/swarm-wire.md "Handshake"). */
#include <string.h>

#include "sw_internal.h"

enum { KIND_HELLO = 1,
       KIND_WELCOME = 2 };

#define HELLO_HEAD 76u   /* version, kind, agent key, ephemeral key, time, token length */
#define WELCOME_HEAD 82u /* version, kind, status, node key, ephemeral key, expiry, two lengths */

static const char hello_label[] = "cnv-swarm/1 hello";
static const char welcome_label[] = "cnv-swarm/1 welcome";

cnv_status cnv_sw_hello_write(uint64_t swarm, const uint8_t agent_sk[CNV_SW_SECRET_BYTES], const cnv_sw_hello *hello,
                              void *out, size_t cap, size_t *written) {
  if (!agent_sk || !hello || !out || !hello->token) return CNV_EINVAL;
  cnv_status ready = cnv__sw_ready();
  if (ready != CNV_OK) return ready;
  if (!sw_sk_matches(agent_sk, hello->agent_pk)) return CNV_EINVAL;
  if (!SW_TOKEN_LEN_OK(hello->token_len)) return CNV_ERANGE;
  size_t body = HELLO_HEAD + hello->token_len;
  if (cap < body + CNV_SW_SIG_BYTES) return CNV_ERANGE;
  uint8_t *p = out;
  p[0] = CNV_SW_VERSION;
  p[1] = KIND_HELLO;
  memcpy(p + 2, hello->agent_pk, CNV_SW_KEY_BYTES);
  memcpy(p + 34, hello->eph_pk, CNV_SW_EPH_BYTES);
  sw_put64(p + 66, hello->ts_ms);
  sw_put16(p + 74, (uint16_t)hello->token_len);
  memmove(p + HELLO_HEAD, hello->token, hello->token_len);
  cnv__sw_sign(hello_label, swarm, p, body, NULL, 0, agent_sk, p + body);
  if (written) *written = body + CNV_SW_SIG_BYTES;
  return CNV_OK;
}

cnv_status cnv_sw_hello_read(uint64_t swarm, const void *in, size_t len, cnv_sw_hello *out) {
  if (!in || !out) return CNV_EINVAL;
  cnv_status ready = cnv__sw_ready();
  if (ready != CNV_OK) return ready;
  sw_reader r = sw_reader_of(in, len);
  uint8_t version = sw_take8(&r), kind = sw_take8(&r);
  const uint8_t *agent_pk = sw_take(&r, CNV_SW_KEY_BYTES);
  const uint8_t *eph_pk = sw_take(&r, CNV_SW_EPH_BYTES);
  uint64_t ts = sw_take64(&r);
  size_t token_len = sw_take16(&r);
  const uint8_t *token = sw_take(&r, token_len);
  size_t body = r.off;
  const uint8_t *sig = sw_take(&r, CNV_SW_SIG_BYTES);
  if (!sw_done(&r) || version != CNV_SW_VERSION || kind != KIND_HELLO || !SW_TOKEN_LEN_OK(token_len)) {
    return CNV_ESW_MALFORMED;
  }
  if (!cnv__sw_verify(hello_label, swarm, in, body, NULL, 0, agent_pk, sig)) return CNV_ESW_PROOF;
  memcpy(out->agent_pk, agent_pk, CNV_SW_KEY_BYTES);
  memcpy(out->eph_pk, eph_pk, CNV_SW_EPH_BYTES);
  out->ts_ms = ts;
  out->token = token;
  out->token_len = token_len;
  return CNV_OK;
}

static bool all_zero(const uint8_t *p, size_t n) { return sodium_is_zero(p, n) == 1; }

/* A WELCOME's fields agree: status 0 with a ticket, a refusal without one (and with no
 * ephemeral key and no expiry), a node token. */
static bool welcome_consistent(int32_t status, const uint8_t *eph_pk, uint64_t expires_ms, size_t token_len,
                               size_t ticket_len) {
  if (status > 0 || !SW_TOKEN_LEN_OK(token_len) || ticket_len > CNV_SW_MAX_TICKET) return false;
  if (status == 0) return ticket_len >= SW_TICKET_MIN;
  return ticket_len == 0 && expires_ms == 0 && all_zero(eph_pk, CNV_SW_EPH_BYTES);
}

cnv_status cnv_sw_welcome_write(uint64_t swarm, const uint8_t node_sk[CNV_SW_SECRET_BYTES],
                                const uint8_t hello_hash[CNV_SW_HASH_BYTES], const cnv_sw_welcome *welcome, void *out,
                                size_t cap, size_t *written) {
  if (!node_sk || !hello_hash || !welcome || !out || !welcome->node_token) return CNV_EINVAL;
  cnv_status ready = cnv__sw_ready();
  if (ready != CNV_OK) return ready;
  if (!sw_sk_matches(node_sk, welcome->node_pk)) return CNV_EINVAL;
  if (welcome->ticket_len && !welcome->ticket) return CNV_EINVAL;
  if (!SW_TOKEN_LEN_OK(welcome->node_token_len) || welcome->ticket_len > CNV_SW_MAX_TICKET ||
      (welcome->ticket_len > 0 && welcome->ticket_len < SW_TICKET_MIN)) {
    return CNV_ERANGE;
  }
  if (!welcome_consistent(welcome->status, welcome->eph_pk, welcome->expires_ms, welcome->node_token_len,
                          welcome->ticket_len)) {
    return CNV_EINVAL;
  }
  size_t body = WELCOME_HEAD + welcome->node_token_len + welcome->ticket_len;
  if (cap < body + CNV_SW_SIG_BYTES) return CNV_ERANGE;
  uint8_t *p = out;
  p[0] = CNV_SW_VERSION;
  p[1] = KIND_WELCOME;
  sw_put32(p + 2, (uint32_t)welcome->status);
  memcpy(p + 6, welcome->node_pk, CNV_SW_KEY_BYTES);
  memcpy(p + 38, welcome->eph_pk, CNV_SW_EPH_BYTES);
  sw_put64(p + 70, welcome->expires_ms);
  sw_put16(p + 78, (uint16_t)welcome->node_token_len);
  sw_put16(p + 80, (uint16_t)welcome->ticket_len);
  memmove(p + WELCOME_HEAD, welcome->node_token, welcome->node_token_len);
  if (welcome->ticket_len) {
    memmove(p + WELCOME_HEAD + welcome->node_token_len, welcome->ticket, welcome->ticket_len);
  }
  cnv__sw_sign(welcome_label, swarm, hello_hash, CNV_SW_HASH_BYTES, p, body, node_sk, p + body);
  if (written) *written = body + CNV_SW_SIG_BYTES;
  return CNV_OK;
}

cnv_status cnv_sw_welcome_read(uint64_t swarm, const uint8_t hello_hash[CNV_SW_HASH_BYTES], const void *in, size_t len,
                               cnv_sw_welcome *out) {
  if (!hello_hash || !in || !out) return CNV_EINVAL;
  cnv_status ready = cnv__sw_ready();
  if (ready != CNV_OK) return ready;
  sw_reader r = sw_reader_of(in, len);
  uint8_t version = sw_take8(&r), kind = sw_take8(&r);
  int32_t status = (int32_t)sw_take32(&r);
  const uint8_t *node_pk = sw_take(&r, CNV_SW_KEY_BYTES);
  const uint8_t *eph_pk = sw_take(&r, CNV_SW_EPH_BYTES);
  uint64_t expires = sw_take64(&r);
  size_t token_len = sw_take16(&r), ticket_len = sw_take16(&r);
  const uint8_t *token = sw_take(&r, token_len);
  const uint8_t *ticket = sw_take(&r, ticket_len);
  size_t body = r.off;
  const uint8_t *sig = sw_take(&r, CNV_SW_SIG_BYTES);
  if (!sw_done(&r) || version != CNV_SW_VERSION || kind != KIND_WELCOME ||
      !welcome_consistent(status, eph_pk, expires, token_len, ticket_len)) {
    return CNV_ESW_MALFORMED;
  }
  if (!cnv__sw_verify(welcome_label, swarm, hello_hash, CNV_SW_HASH_BYTES, in, body, node_pk, sig)) return CNV_ESW_PROOF;
  out->status = status;
  memcpy(out->node_pk, node_pk, CNV_SW_KEY_BYTES);
  memcpy(out->eph_pk, eph_pk, CNV_SW_EPH_BYTES);
  out->expires_ms = expires;
  out->node_token = token;
  out->node_token_len = token_len;
  out->ticket = ticket_len ? ticket : NULL;
  out->ticket_len = ticket_len;
  return CNV_OK;
}
