/* Receiving (docs/session.md "Receiving"): frame boundaries in any split, header checks as
 * soon as each header byte arrives, then the state machine: which message is allowed in which
 * state and direction, the credit, SHUTDOWN, ERROR, HEARTBEAT and REKEY. */
#include "session_internal.h"

/* Largest payload length (L in the header) accepted in the current state. */
static size_t rx_limit(const cnv_session *s) {
  if (!s->keys) return CNV__SESSION_PLAIN_MAX;
  if (s->state == CNV__S_WAIT_AUTH)
    return CNV__SESSION_AUTH_FIXED + CNV_SESSION_MAX_TOKEN + CNV_SESSION_TAG_BYTES;
  return (size_t)s->neg.max_message_size + CNV_SESSION_TAG_BYTES;
}

/* Checks the header bytes that have arrived (have of 16), so garbage fails on its first byte. */
static cnv_status header_check(const cnv_session *s, const uint8_t *h, size_t have) {
  if (have >= 1 && h[0] != CNV_FRAME_MAGIC) return CNV_EFRAME_MAGIC;
  if (have >= 2) {
    if ((h[1] >> 4) != CNV_FRAME_WIRE_VERSION) return CNV_EFRAME_VERSION;
    unsigned type = h[1] & 0x0Fu;
    if (type < CNV_MSG_INVOCATION || type > CNV_MSG_REPLICATION) return CNV_EFRAME_TYPE;
  }
  if (have >= 4) {
    unsigned flags = (unsigned)h[2] | (unsigned)h[3] << 8;
    if (flags != 0 && flags != CNV_FRAME_FLAG_SEALED) return CNV_EFRAME_FLAGS;
  }
  if (have >= 8 && cnv__sess_le32(h + 4) > rx_limit(s)) return CNV_EFRAME_OVERSIZE;
  return CNV_OK;
}

static cnv_status peer_error(cnv_session *s, const uint8_t *p, size_t len, cnv_status malformed) {
  if (len != 4) return malformed;
  int32_t code = (int32_t)cnv__sess_le32(p);
  if (code >= 0) return malformed;
  s->peer_status = code;
  return CNV_ESESSION_PEER_ERROR;
}

static cnv_status on_plain(cnv_session *s, const uint8_t *f, size_t total) {
  unsigned type = f[1] & 0x0Fu;
  size_t len = total - CNV_FRAME_HEADER_SIZE;
  /* Once a side holds keys its peer seals every ERROR, so a plain one is forged, except at a
   * server waiting for AUTH: a client that refused the server's proof has no keys yet. */
  if (type == CNV_MSG_ERROR && s->keys && s->state != CNV__S_WAIT_AUTH) return CNV_ESESSION_OPEN;
  if (type == CNV_MSG_ERROR) return peer_error(s, f + CNV_FRAME_HEADER_SIZE, len, CNV_ESESSION_HANDSHAKE);
  if (cnv__sess_le64(f + 8) != 0) return CNV_ESESSION_HANDSHAKE;
  if (s->state == CNV__S_WAIT_HELLO && type == CNV_MSG_HELLO) return cnv__session_on_hello(s, f, total);
  if (s->state == CNV__C_WAIT_REPLY && type == CNV_MSG_HELLO_REPLY) return cnv__session_on_reply(s, f, total);
  return CNV_ESESSION_HANDSHAKE;
}

/* An opened message in the OPEN state. */
static cnv_status on_message(cnv_session *s, unsigned type, cnv_session_event *ev) {
  bool client = s->role == CNV_SESSION_CLIENT;
  switch (type) {
    case CNV_MSG_HEARTBEAT:
      return CNV_OK;
    case CNV_MSG_SHUTDOWN:
      s->got_shutdown = true;
      break;
    case CNV_MSG_INVOCATION:
      if (client || s->got_shutdown) return CNV_ESESSION_UNEXPECTED;
      if (s->in_flight >= s->neg.max_concurrent_calls) return CNV_ESESSION_CREDIT;
      s->in_flight++;
      break;
    case CNV_MSG_CANCEL:
      if (client) return CNV_ESESSION_UNEXPECTED;
      break;
    case CNV_MSG_REPLICATION: /* opaque, either side, no credit */
      break;
    case CNV_MSG_RESPONSE:
      if (!client || s->in_flight == 0) return CNV_ESESSION_UNEXPECTED;
      s->in_flight--;
      break;
    default:
      return CNV_ESESSION_UNEXPECTED;
  }
  ev->kind = CNV_SESSION_EV_MESSAGE;
  ev->type = (uint8_t)type;
  return CNV_OK;
}

static cnv_status on_sealed(cnv_session *s, uint8_t *f, size_t total, cnv_session_event *ev) {
  unsigned type = f[1] & 0x0Fu;
  uint64_t id = cnv__sess_le64(f + 8);
  uint8_t *p = NULL;
  size_t len = 0;
  cnv_status st = cnv__session_open(s, f, total, &p, &len);
  if (st != CNV_OK) return st;
  if (type == CNV_MSG_REKEY) {
    /* AUTH is an honest client's first sealed frame: a REKEY before it is never legitimate */
    if (s->state == CNV__S_WAIT_AUTH) return CNV_ESESSION_HANDSHAKE;
    if (len != 0 || id != 0) return CNV_ESESSION_MALFORMED;
    s->stats.rekeys_received++;
    return cnv__session_next_key(&s->rx, s->now_ns);
  }
  if (type == CNV_MSG_ERROR) return peer_error(s, p, len, CNV_ESESSION_MALFORMED);
  if (type == CNV_MSG_CANCEL && len != 0) return CNV_ESESSION_MALFORMED; /* names its request by id only */
  switch (s->state) {
    case CNV__S_WAIT_AUTH:
      if (type != CNV_MSG_AUTH || id != 0) return CNV_ESESSION_HANDSHAKE;
      st = cnv__session_on_auth(s, p, len);
      if (st != CNV_OK) return st;
      ev->kind = CNV_SESSION_EV_AUTH;
      ev->data = p + CNV__SESSION_AUTH_FIXED;
      ev->len = len - CNV__SESSION_AUTH_FIXED;
      ev->peer_key = s->peer_key;
      return CNV_OK;
    case CNV__C_WAIT_READY:
      if (type != CNV_MSG_READY || id != 0 || len != 0) return CNV_ESESSION_HANDSHAKE;
      s->state = CNV__OPEN;
      s->ready = true;
      ev->kind = CNV_SESSION_EV_READY;
      ev->peer_key = s->peer_key;
      return CNV_OK;
    case CNV__OPEN:
      st = on_message(s, type, ev);
      if (st != CNV_OK || ev->kind == 0) return st;
      ev->id = id;
      ev->data = p;
      ev->len = len;
      ev->peer_key = s->peer_key;
      cnv__session_check_closed(s);
      return CNV_OK;
    default: /* server waiting for accept: the client may send nothing before READY */
      return CNV_ESESSION_UNEXPECTED;
  }
}

/* One whole frame (header checked). */
static cnv_status on_frame(cnv_session *s, uint8_t *f, size_t total, cnv_session_event *ev) {
  unsigned flags = (unsigned)f[2] | (unsigned)f[3] << 8;
  if (flags == CNV_FRAME_FLAG_SEALED) {
    if (!s->keys) return CNV_ESESSION_HANDSHAKE;
    return on_sealed(s, f, total, ev);
  }
  /* After READY an unsealed frame is not authentic. Before, plain frames are handshake
   * messages (refused in the wrong state) or an ERROR ending the handshake (unauthenticated:
   * it can only end a handshake, which whoever can inject bytes can end anyway). */
  if (s->state == CNV__OPEN) return CNV_ESESSION_OPEN;
  return on_plain(s, f, total);
}

/* Takes bytes from data at *pos up to the next whole frame: in place when it lies whole in
 * data, else gathered in rx_buf across calls. CNV_OK: *frame / *total is one frame with a
 * checked header. CNV_EAGAIN: data ran out first. Otherwise a header error. */
static cnv_status next_frame(cnv_session *s, uint8_t *data, size_t len, size_t *pos, uint8_t **frame,
                             size_t *total) {
  size_t p = *pos;
  cnv_status st;
  if (s->rx_have == 0 && len - p >= CNV_FRAME_HEADER_SIZE) {
    st = header_check(s, data + p, CNV_FRAME_HEADER_SIZE);
    if (st != CNV_OK) return st;
    size_t t = CNV_FRAME_HEADER_SIZE + cnv__sess_le32(data + p + 4);
    if (len - p >= t) {
      *frame = data + p;
      *total = t;
      *pos = p + t;
      return CNV_OK;
    }
  }
  if (s->rx_have < CNV_FRAME_HEADER_SIZE) {
    size_t n = CNV_FRAME_HEADER_SIZE - s->rx_have;
    if (n > len - p) n = len - p;
    memcpy(s->rx_buf + s->rx_have, data + p, n);
    s->rx_have += n;
    *pos = p += n;
    st = header_check(s, s->rx_buf, s->rx_have);
    if (st != CNV_OK) return st;
    if (s->rx_have < CNV_FRAME_HEADER_SIZE) return CNV_EAGAIN;
  }
  size_t t = CNV_FRAME_HEADER_SIZE + cnv__sess_le32(s->rx_buf + 4), n = t - s->rx_have;
  if (n > len - p) n = len - p;
  memcpy(s->rx_buf + s->rx_have, data + p, n);
  s->rx_have += n;
  *pos = p + n;
  if (s->rx_have < t) return CNV_EAGAIN;
  s->rx_have = 0;
  *frame = s->rx_buf;
  *total = t;
  return CNV_OK;
}

cnv_status cnv_session_feed(cnv_session *s, uint8_t *data, size_t len, uint64_t now_ns, size_t *consumed,
                            cnv_session_event *ev) {
  if (!s || (!data && len) || !consumed || !ev) return CNV_EINVAL;
  *consumed = 0;
  memset(ev, 0, sizeof *ev);
  if (s->error != CNV_OK) return s->error;
  if (now_ns > s->now_ns) s->now_ns = now_ns;
  size_t pos = 0;
  cnv_status st = CNV_EAGAIN;
  while (pos < len && ev->kind == 0) {
    uint8_t *frame = NULL;
    size_t total = 0;
    st = next_frame(s, data, len, &pos, &frame, &total);
    if (st == CNV_OK) st = on_frame(s, frame, total, ev);
    if (st != CNV_OK && st != CNV_EAGAIN) break;
  }
  *consumed = pos;
  if (st != CNV_OK && st != CNV_EAGAIN) return cnv__session_fail_with(s, st);
  /* An event even when this SHUTDOWN or RESPONSE closed the session (CNV_ESESSION_CLOSED
   * comes with the next call). */
  return ev->kind != 0 ? CNV_OK : CNV_EAGAIN;
}
