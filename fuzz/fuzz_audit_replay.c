/* Fuzz cnv_audit_replay and cnv_audit_whatif over a ledger directory. The input is read as a
 * list of records (so that they chain and hash right and reach the policy rebuild rather
 * than stopping at the segment check): per record 8 bytes (kind, detail lo/hi, a status
 * selector, agent, capability, flags, payload length) and that many payload bytes. They are
 * written as one segment in a temporary directory. Properties (abort on violation): the
 * status is one replay documents; the counts add up; a second replay gives the same status
 * and counts (determinism); a what-if without changes decides as replay does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cnv/audit.h>
#include <cnv/runtime.h>

#include "ledger/lstore.h"

#define MAX_RECORDS 64u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const cnv_status statuses[] = {CNV_OK,
                                      CNV_EFULL,
                                      CNV_ERT_DENY_PHASE,
                                      CNV_ERT_DENY_MALFORMED,
                                      CNV_ERT_DENY_UNKNOWN_AGENT,
                                      CNV_ERT_DENY_UNKNOWN_CAPABILITY,
                                      CNV_ERT_DENY_EXPIRED,
                                      CNV_ERT_DENY_REVOKED,
                                      CNV_ERT_DENY_UNTRUSTED,
                                      CNV_ERT_DENY_TOO_LONG,
                                      CNV_ERT_DENY_RATE,
                                      CNV_ERT_DENY_SHED,
                                      CNV_ERT_DENY_ARGUMENTS};

static char dir[256];
static char path[320];
static uint8_t seg[CNV__LSEG_HEADER + MAX_RECORDS * (CNV__LFRAME_OVERHEAD + CNV__LBODY_MAX)];

static size_t build(const uint8_t *data, size_t size) {
  uint8_t prev[CNV_LEDGER_HASH_BYTES] = {0};
  cnv__lseg_header(seg, 0, prev);
  size_t off = CNV__LSEG_HEADER, at = 0;
  static const char *const paths[] = {"demo.echo", "demo.sum", "fs.read"};
  for (uint64_t idx = 0; idx < MAX_RECORDS && size - at >= 8; idx++) {
    const uint8_t *h = data + at;
    at += 8;
    cnv_ledger_entry e;
    memset(&e, 0, sizeof e);
    e.kind = (uint16_t)(1 + h[0] % 11);
    e.detail = (uint16_t)(h[1] | h[2] << 8);
    size_t ns = sizeof statuses / sizeof statuses[0];
    e.status = h[3] < ns ? statuses[h[3]] : -(int32_t)h[3];
    e.agent = h[4] % 4;
    e.capability = h[5] % 4;
    e.flags = h[6];
    e.token_time = 1700000000u;
    e.time_ms = 1700000000000u;
    uint32_t plen = h[7];
    const uint8_t *pay = data + at;
    if (plen == 0xFF && e.kind == CNV_LREC_REGISTER) {
      /* a well-formed path now and then, so that decisions reach the later checks */
      pay = (const uint8_t *)paths[h[5] % 3];
      plen = (uint32_t)strlen(paths[h[5] % 3]);
    } else {
      if (plen > size - at) plen = (uint32_t)(size - at);
      at += plen;
    }
    e.payload = plen ? pay : NULL;
    e.payload_len = plen;
    size_t len = 0;
    uint8_t *body = seg + off + 4;
    if (cnv_ledger_entry_encode(&e, idx, prev, body, CNV__LBODY_MAX, &len) != CNV_OK) abort();
    cnv__lput32(seg + off, (uint32_t)len);
    if (cnv_ledger_leaf_hash(body, len, prev) != CNV_OK) abort();
    memcpy(body + len, prev, CNV_LEDGER_HASH_BYTES);
    off += CNV__LFRAME_OVERHEAD + len;
  }
  return off;
}

static void check_status(cnv_status st) {
  switch (st) {
    case CNV_OK:
    case CNV_EAUDIT_MISMATCH:
    case CNV_EAUDIT_NO_CONFIG:
    case CNV_ELEDGER_CORRUPT:
    case CNV_ENOMEM:
      return;
    default:
      fprintf(stderr, "replay: unexpected status %d (%s)\n", (int)st, cnv_status_name(st));
      abort();
  }
}

static void check_sum(const cnv_audit_summary *s) {
  if (s->same + s->differ != s->decisions || s->accepted + s->denied != s->decisions || s->decisions > s->records) {
    abort();
  }
}

/* The temporary directory goes when the fuzzer exits. */
static void cleanup(void) {
  (void)unlink(path);
  (void)rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir[0]) {
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/cnv-fuzz-replay-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir)) abort();
    snprintf(path, sizeof path, "%s/seg-0000000000000000.log", dir);
    if (atexit(cleanup) != 0) abort();
  }
  size_t len = build(data, size);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(seg, 1, len, f) != len || fclose(f) != 0) abort();
  cnv_audit_summary a, b, w;
  cnv_status st = cnv_audit_replay(dir, NULL, NULL, &a);
  check_status(st);
  check_sum(&a);
  cnv_status st2 = cnv_audit_replay(dir, NULL, NULL, &b);
  if (st2 != st || memcmp(&a, &b, sizeof a) != 0) abort();
  cnv_status sw = cnv_audit_whatif(dir, NULL, 0, NULL, NULL, &w);
  check_status(sw);
  if (sw == CNV_EAUDIT_MISMATCH) abort(); /* what-if lists changes; it does not fail for them */
  if ((st == CNV_OK || st == CNV_EAUDIT_MISMATCH) != (sw == CNV_OK)) abort();
  if (sw == CNV_OK && memcmp(&a, &w, sizeof a) != 0) abort();
  return 0;
}
