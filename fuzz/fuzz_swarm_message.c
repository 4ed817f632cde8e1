/* Fuzz the swarm's sealed messages with the fixed scene of swarm_fuzz.h. Byte 0 picks what
 * the rest is: 0 a REQUEST (parsed, its ticket's epoch read and the ticket opened under the
 * swarm key, the request opened with the session's c2s key on "cnv.7.cap.demo.echo" and the
 * reply subject of its own request id), 1 a RESPONSE or REFUSAL (parsed, opened with s2c),
 * 2 a sealed ticket (opened). A REQUEST may carry no ticket (then NULL, its head 29 bytes).
 * Properties (abort on violation): every slice lies inside the input; what opens has the
 * plaintext length the framing implies and seals again into a message that opens to the same
 * plaintext; a refusal re-encodes to the same bytes; an opened ticket seals again into one
 * that opens to the same fields. */
#include "swarm_fuzz.h"

static uint8_t plain[1u << 17], again[(1u << 17) + 256], plain2[1u << 17];

static void ticket_case(const uint8_t *p, size_t n) {
  cnv_sw_ticket t, t2;
  if (cnv_sw_ticket_open(SF.swarm_key, SF_SWARM, p, n, plain, sizeof plain, &t) != CNV_OK) return;
  if (!sf_inside(t.token, t.token_len, plain, n)) abort();
  uint32_t epoch;
  if (cnv_sw_ticket_epoch(p, n, &epoch) != CNV_OK) abort();
  size_t w = 0;
  if (cnv_sw_ticket_seal(SF.swarm_key, epoch, SF_SWARM, &t, again, sizeof again, &w) != CNV_OK || w != n) abort();
  if (cnv_sw_ticket_open(SF.swarm_key, SF_SWARM, again, w, plain2, sizeof plain2, &t2) != CNV_OK) abort();
  if (memcmp(t.sid, t2.sid, 16) || memcmp(t.agent_pk, t2.agent_pk, 32) || memcmp(t.node_pk, t2.node_pk, 32) ||
      t.issued_ms != t2.issued_ms || t.expires_ms != t2.expires_ms || memcmp(t.key_c2s, t2.key_c2s, 32) ||
      memcmp(t.key_s2c, t2.key_s2c, 32) || t.token_len != t2.token_len || memcmp(t.token, t2.token, t.token_len)) {
    abort();
  }
}

static void request_case(const uint8_t *p, size_t n) {
  cnv_sw_request r, r2;
  if (cnv_sw_request_parse(p, n, &r) != CNV_OK) return;
  if (r.head != p || r.head_len + r.sealed_len != n || r.sealed != p + r.head_len || r.seq == 0) abort();
  if (r.ticket_len == 0 ? r.ticket != NULL || r.head_len != 29 : !sf_inside(r.ticket, r.ticket_len, r.head, r.head_len))
    abort();
  if (r.ticket_len) ticket_case(r.ticket, r.ticket_len); /* none: the node's session has the keys */
  char reply[CNV_SW_SUBJECT_MAX];
  sf_reply(r.reqid, reply);
  size_t len = 0;
  if (cnv_sw_request_open(SF.c2s, &r, SF.subject, reply, plain, sizeof plain, &len) != CNV_OK) return;
  if (len + CNV_SW_NONCE_BYTES + CNV_SW_TAG_BYTES != r.sealed_len) abort();
  size_t w = 0, len2 = 0;
  if (cnv_sw_request_seal(SF.c2s, r.ticket, r.ticket_len, r.seq, r.reqid, r.ts_ms, r.attempt, SF.subject, reply, plain,
                          len, again, sizeof again, &w) != CNV_OK ||
      w != n) {
    abort();
  }
  if (cnv_sw_request_parse(again, w, &r2) != CNV_OK ||
      cnv_sw_request_open(SF.c2s, &r2, SF.subject, reply, plain2, sizeof plain2, &len2) != CNV_OK || len2 != len ||
      memcmp(plain, plain2, len) != 0 || memcmp(again, p, r.head_len) != 0) {
    abort();
  }
}

static void response_case(const uint8_t *p, size_t n) {
  cnv_sw_response r, r2;
  if (cnv_sw_response_parse(p, n, &r) != CNV_OK) return;
  size_t w = 0, len = 0, len2 = 0;
  if (r.refusal) {
    if (r.status >= 0 || cnv_sw_refusal_write(r.reqid, r.status, again, sizeof again, &w) != CNV_OK || w != n ||
        memcmp(again, p, n) != 0) {
      abort();
    }
    return;
  }
  if (r.head != p || r.head_len + r.sealed_len != n || r.sealed != p + r.head_len) abort();
  if (cnv_sw_response_open(SF.s2c, &r, plain, sizeof plain, &len) != CNV_OK) return;
  if (len + CNV_SW_NONCE_BYTES + CNV_SW_TAG_BYTES != r.sealed_len) abort();
  if (cnv_sw_response_seal(SF.s2c, r.reqid, plain, len, again, sizeof again, &w) != CNV_OK || w != n) abort();
  if (cnv_sw_response_parse(again, w, &r2) != CNV_OK ||
      cnv_sw_response_open(SF.s2c, &r2, plain2, sizeof plain2, &len2) != CNV_OK || len2 != len ||
      memcmp(plain, plain2, len) != 0 || r2.reqid != r.reqid) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > sizeof plain) return 0;
  sf_init();
  switch (data[0] % 3) {
    case 0:
      request_case(data + 1, size - 1);
      break;
    case 1:
      response_case(data + 1, size - 1);
      break;
    default:
      ticket_case(data + 1, size - 1);
      break;
  }
  return 0;
}
