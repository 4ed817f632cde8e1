/* Shared driver of the session fuzz targets (fuzz_session_server, fuzz_session_client): a
 * victim session of one role fed hostile bytes, with an honest peer of the other role where a
 * mode needs one. libsodium's randomness is made deterministic (seeded per input) so that a
 * crash replays.
 *
 * Input: byte 0 is the mode (bits 0-1) and the limits (bits 2-7); the rest depends on the mode:
 *   0  raw bytes into a fresh victim (a client has its HELLO pulled first);
 *   1  valid prefix: the honest first flight (server: a real HELLO; client: a real
 *      HELLO_REPLY to its HELLO), then raw bytes;
 *   2  full handshake, then a script of 3-byte operations (peer seals a message, victim seals
 *      one, the clock moves, a pending byte is flipped, the pending bytes are fed in pieces);
 *   3  full handshake, then raw bytes.
 * Properties (abort on violation): consumed never exceeds what was fed; an error is sticky
 * (the next feed returns it); pull always fits CNV_SESSION_PULL_MAX; a seal stays within
 * CNV_SESSION_SEAL_BOUND; in mode 2, a victim that received only unmodified frames never
 * fails (CNV_ESESSION_CLOSED after both SHUTDOWNs aside), and neither does the peer. */
#ifndef CNV_FUZZ_SESSION_FUZZ_H
#define CNV_FUZZ_SESSION_FUZZ_H

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/session.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- deterministic randomness ---- */
static uint64_t fz_rng_counter;

static void fz_buf(void *buf, size_t n) {
  uint8_t seed[randombytes_SEEDBYTES] = {0};
  memcpy(seed, &fz_rng_counter, sizeof fz_rng_counter);
  fz_rng_counter++;
  randombytes_buf_deterministic(buf, n, seed);
}
static uint32_t fz_random(void) {
  uint32_t v;
  fz_buf(&v, sizeof v);
  return v;
}
static const char *fz_name(void) { return "cnv-fuzz-deterministic"; }
static randombytes_implementation fz_rng = {fz_name, fz_random, NULL, NULL, fz_buf, NULL};

static void fz_init(void) {
  static int done;
  if (!done) {
    if (randombytes_set_implementation(&fz_rng) != 0 || sodium_init() < 0) abort();
    done = 1;
  }
  fz_rng_counter = 0;
}

/* ---- the two ends ---- */
typedef struct fz {
  cnv_session *victim, *peer;
  int victim_role;
  uint64_t now;
  uint8_t server_pk[32], server_sk[64], agent_sk[64];
  cnv_session_config cfg[2]; /* [0] client, [1] server */
  bool mutated;
} fz;

static void fz_check(bool ok) {
  if (!ok) abort();
}

static void fz_make(fz *f, int victim_role, uint8_t limits) {
  memset(f, 0, sizeof *f);
  f->victim_role = victim_role;
  uint8_t seed[32] = {1}, agent_pk[32];
  fz_check(crypto_sign_seed_keypair(f->server_pk, f->server_sk, seed) == 0);
  seed[0] = 2;
  fz_check(crypto_sign_seed_keypair(agent_pk, f->agent_sk, seed) == 0);
  static const uint8_t token[] = "fuzz token";
  for (int i = 0; i < 2; i++) {
    cnv_session_config *c = &f->cfg[i];
    cnv_session_config_default(c, i == 0 ? CNV_SESSION_CLIENT : CNV_SESSION_SERVER);
    c->caps.max_concurrent_calls = 1u + (limits & 3u);
    c->caps.max_message_size = (limits & 4u) ? 64u : 4096u;
    c->rekey_frames = 1u + ((limits >> 3) & 3u);
    c->rekey_ns = 1000u;
    if (limits & 0x20u) c->aeads = CNV_SESSION_AEAD_XCHACHA20POLY1305;
  }
  f->cfg[0].secret_key = f->agent_sk;
  f->cfg[0].server_pk = f->server_pk;
  f->cfg[0].token = token;
  f->cfg[0].token_len = sizeof token - 1;
  f->cfg[1].secret_key = f->server_sk;
  int v = victim_role == CNV_SESSION_CLIENT ? 0 : 1;
  fz_check(cnv_session_create(&f->cfg[v], 0, &f->victim) == CNV_OK);
  fz_check(cnv_session_create(&f->cfg[1 - v], 0, &f->peer) == CNV_OK);
}

static void fz_free(fz *f) {
  cnv_session_destroy(f->victim);
  cnv_session_destroy(f->peer);
}

/* Feeds n bytes (a copy: feed opens frames in place) in pieces of `step`; a server that
 * reports AUTH accepts. Returns the session's status afterwards. */
static cnv_status fz_feed(fz *f, cnv_session *to, const uint8_t *data, size_t n, size_t step) {
  static uint8_t copy[1u << 16];
  cnv_status st = cnv_session_error(to);
  while (n > 0 && st == CNV_OK) {
    size_t piece = step && step < n ? step : n;
    if (piece > sizeof copy) piece = sizeof copy;
    memcpy(copy, data, piece);
    size_t off = 0;
    while (off < piece) {
      cnv_session_event ev;
      size_t used = 0;
      st = cnv_session_feed(to, copy + off, piece - off, f->now, &used, &ev);
      fz_check(used <= piece - off);
      off += used;
      if (st == CNV_OK) {
        if (ev.kind == CNV_SESSION_EV_AUTH) fz_check(cnv_session_accept(to) == CNV_OK);
        if (ev.kind == CNV_SESSION_EV_MESSAGE) fz_check(ev.len <= 65536u);
        st = cnv_session_error(to);
        continue;
      }
      if (st == CNV_EAGAIN) {
        fz_check(off == piece);
        st = CNV_OK;
        break;
      }
      /* sticky */
      uint8_t b = 0;
      cnv_session_event ev2;
      fz_check(cnv_session_feed(to, &b, 1, f->now, &used, &ev2) == st);
      fz_check(cnv_session_error(to) == st);
      break;
    }
    data += piece;
    n -= piece;
  }
  return st;
}

/* Moves what `from` queued into `to`. */
static cnv_status fz_carry(fz *f, cnv_session *from, cnv_session *to) {
  static uint8_t buf[CNV_SESSION_PULL_MAX];
  size_t w = 0;
  fz_check(cnv_session_pull(from, buf, sizeof buf, &w) == CNV_OK);
  return fz_feed(f, to, buf, w, 0);
}

static cnv_session *fz_client(fz *f) { return f->victim_role == CNV_SESSION_CLIENT ? f->victim : f->peer; }
static cnv_session *fz_server(fz *f) { return f->victim_role == CNV_SESSION_CLIENT ? f->peer : f->victim; }

/* The honest first flight: HELLO into the server and, for a client victim, HELLO_REPLY. */
static bool fz_prefix(fz *f) {
  if (fz_carry(f, fz_client(f), fz_server(f)) != CNV_OK) return false;
  if (f->victim_role == CNV_SESSION_CLIENT) return fz_carry(f, fz_server(f), fz_client(f)) == CNV_OK;
  return true;
}

static bool fz_handshake(fz *f) {
  return fz_carry(f, fz_client(f), fz_server(f)) == CNV_OK && fz_carry(f, fz_server(f), fz_client(f)) == CNV_OK &&
         fz_carry(f, fz_client(f), fz_server(f)) == CNV_OK && fz_carry(f, fz_server(f), fz_client(f)) == CNV_OK &&
         cnv_session_ready(f->victim) && cnv_session_ready(f->peer);
}

static bool fz_healthy(cnv_status st) { return st == CNV_OK || st == CNV_ESESSION_CLOSED; }

/* Seals a message of the kind `pick` selects for `from`'s role. Refusals (no credit, wrong
 * state, closed) are fine: nothing is written then. */
static size_t fz_seal(fz *f, cnv_session *from, uint8_t pick, uint8_t id, uint8_t len, uint8_t *out, size_t cap) {
  static const uint8_t client_types[] = {CNV_MSG_INVOCATION, CNV_MSG_CANCEL, CNV_MSG_HEARTBEAT, CNV_MSG_SHUTDOWN};
  static const uint8_t server_types[] = {CNV_MSG_RESPONSE, CNV_MSG_RESPONSE, CNV_MSG_HEARTBEAT, CNV_MSG_SHUTDOWN};
  bool client = from == fz_client(f);
  uint8_t type = (client ? client_types : server_types)[pick & 3u];
  static uint8_t payload[255];
  memset(payload, id, len);
  size_t w = 0;
  if (type == CNV_MSG_CANCEL) len = 0; /* a CANCEL names its request by id only */
  cnv_status st = cnv_session_seal(from, type, id, payload, len, f->now, out, cap, &w);
  if (st != CNV_OK) {
    fz_check(st == CNV_EFULL || st == CNV_ESTATE || st == CNV_ERANGE || st == CNV_ESESSION_GOING_AWAY ||
             st == cnv_session_error(from));
    return 0;
  }
  fz_check(w <= CNV_SESSION_SEAL_BOUND(len) && w <= cap);
  return w;
}

static void fz_script(fz *f, const uint8_t *p, size_t n) {
  static uint8_t pending[1u << 16];
  size_t have = 0;
  uint8_t out[CNV_SESSION_SEAL_BOUND(255)];
  for (size_t i = 0; i + 3 <= n; i += 3) {
    uint8_t op = p[i], a = p[i + 1], b = p[i + 2];
    switch (op & 7u) {
      case 0:
      case 1:
      case 2: /* the peer seals a message for the victim */
        if (have + sizeof out <= sizeof pending) have += fz_seal(f, f->peer, (uint8_t)(op >> 3), a, b, pending + have, sizeof out);
        break;
      case 3: { /* the victim seals one; the honest peer takes it at once */
        size_t w = fz_seal(f, f->victim, (uint8_t)(op >> 3), a, b, out, sizeof out);
        fz_check(fz_healthy(fz_feed(f, f->peer, out, w, 0)) || f->mutated);
        break;
      }
      case 4:
        f->now += (uint64_t)a << (b & 31u);
        break;
      case 5: /* flip one pending byte */
        if (have) {
          pending[((size_t)a << 8 | b) % have] ^= (uint8_t)(op | 1u);
          f->mutated = true;
        }
        break;
      default: /* deliver the pending bytes in pieces; the victim's own frames go to the peer */
        if (!fz_healthy(fz_feed(f, f->victim, pending, have, 1u + b))) fz_check(f->mutated);
        have = 0;
        cnv_status st = fz_carry(f, f->victim, f->peer);
        fz_check(fz_healthy(st) || f->mutated || st == CNV_ESESSION_PEER_ERROR);
        break;
    }
  }
  if (!fz_healthy(fz_feed(f, f->victim, pending, have, 0))) fz_check(f->mutated);
}

static int fz_run(int victim_role, const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  fz_init();
  fz f;
  fz_make(&f, victim_role, (uint8_t)(data[0] >> 2));
  const uint8_t *rest = data + 1;
  size_t n = size - 1;
  if (victim_role == CNV_SESSION_CLIENT && (data[0] & 3u) == 0) {
    uint8_t hello[CNV_SESSION_PULL_MAX];
    size_t w = 0;
    fz_check(cnv_session_pull(f.victim, hello, sizeof hello, &w) == CNV_OK && w > 0);
  }
  switch (data[0] & 3u) {
    case 0:
      (void)fz_feed(&f, f.victim, rest, n, 0);
      break;
    case 1:
      fz_check(fz_prefix(&f));
      (void)fz_feed(&f, f.victim, rest, n, 0);
      break;
    case 2:
      fz_check(fz_handshake(&f));
      fz_script(&f, rest, n);
      break;
    default:
      fz_check(fz_handshake(&f));
      (void)fz_feed(&f, f.victim, rest, n, 1u + (data[0] >> 2));
      break;
  }
  uint8_t tail[CNV_SESSION_PULL_MAX];
  size_t w = 0;
  fz_check(cnv_session_pull(f.victim, tail, sizeof tail, &w) == CNV_OK);
  fz_free(&f);
  return 0;
}

#endif
