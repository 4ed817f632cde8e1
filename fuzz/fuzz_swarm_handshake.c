/* Fuzz the swarm handshake with the fixed scene of swarm_fuzz.h. Byte 0 picks what the rest
 * is: 0 a HELLO of swarm 7, 1 a WELCOME of swarm 7 for the scene's HELLO hash, 2 a peer's
 * ephemeral key (32 bytes) for the session key schedule. Properties (abort on violation):
 * slices lie inside the input; a HELLO or WELCOME signed by the scene's agent or node writes
 * back to the same bytes (Ed25519 is deterministic); what reads for swarm 7 does not for
 * swarm 8; the key schedule either gives two different keys or refuses a low-order point. */
#include "swarm_fuzz.h"

static uint8_t again[CNV_SW_MAX_TOKEN + CNV_SW_MAX_TICKET + 256];

static void hello_case(const uint8_t *p, size_t n) {
  cnv_sw_hello h, h8;
  if (cnv_sw_hello_read(SF_SWARM, p, n, &h) != CNV_OK) return;
  if (!sf_inside(h.token, h.token_len, p, n) || h.token_len == 0) abort();
  if (cnv_sw_hello_read(SF_SWARM + 1, p, n, &h8) != CNV_ESW_PROOF) abort();
  if (memcmp(h.agent_pk, SF.agent_pk, 32) != 0) return;
  size_t w = 0;
  if (cnv_sw_hello_write(SF_SWARM, SF.agent_sk, &h, again, sizeof again, &w) != CNV_OK || w != n ||
      memcmp(again, p, n) != 0) {
    abort();
  }
}

static void welcome_case(const uint8_t *p, size_t n) {
  cnv_sw_welcome wl, w8;
  if (cnv_sw_welcome_read(SF_SWARM, SF.hello_hash, p, n, &wl) != CNV_OK) return;
  if (!sf_inside(wl.node_token, wl.node_token_len, p, n) || wl.status > 0) abort();
  if (wl.status == 0 ? !sf_inside(wl.ticket, wl.ticket_len, p, n) : (wl.ticket != NULL || wl.ticket_len != 0)) {
    abort();
  }
  if (cnv_sw_welcome_read(SF_SWARM + 1, SF.hello_hash, p, n, &w8) != CNV_ESW_PROOF) abort();
  if (memcmp(wl.node_pk, SF.node_pk, 32) != 0) return;
  size_t w = 0;
  if (cnv_sw_welcome_write(SF_SWARM, SF.node_sk, SF.hello_hash, &wl, again, sizeof again, &w) != CNV_OK || w != n ||
      memcmp(again, p, n) != 0) {
    abort();
  }
}

static void keys_case(const uint8_t *p, size_t n) {
  if (n != CNV_SW_EPH_BYTES) return;
  uint8_t own[32], c2s[32], s2c[32];
  memset(own, 0x11, sizeof own);
  cnv_status st = cnv_sw_session_keys(own, p, SF.hello_hash, SF.node_pk, p, c2s, s2c);
  if (st == CNV_ESW_HANDSHAKE) return;
  if (st != CNV_OK || memcmp(c2s, s2c, 32) == 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > sizeof again) return 0;
  sf_init();
  switch (data[0] % 3) {
    case 0:
      hello_case(data + 1, size - 1);
      break;
    case 1:
      welcome_case(data + 1, size - 1);
      break;
    default:
      keys_case(data + 1, size - 1);
      break;
  }
  return 0;
}
