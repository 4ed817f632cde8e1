/* cnv ledger and cnv receipt, run as a child process on logs the test makes:
 * - lib.ledger, written through the library (small segments, three checkpoints,
 *   APP and COMPLETE records, payloads inline and on the heap): verify exits 0 (and 1 under
 *   another key); a byte flipped anywhere in the frames of a closed segment makes verify exit
 *   1 and name the record holding it; show prints every record and its kind (text and JSON);
 *   prove's output is checked by an independent RFC 9162 checker (tests/support/rfc9162_check
 *   for the roots and paths, the verification algorithms of RFC 9162 2.1.3.2 and 2.1.4.2
 *   written here, the checkpoint's signature checked with libsodium); a receipt written by
 *   `ledger receipt` verifies with `receipt verify`, and a tampered copy, another key or
 *   another kind of record does not; replay exits 1 and lists a decision the log's policy
 *   does not give;
 * - with the runtime (CNV_CLI_TEST_SWARM): run.ledger written by `cnv swarm run --ledger`:
 *   verify exits 0, show lists the runtime's kinds, replay exits 0, whatif lists changes, a
 *   receipt verifies, a torn tail is cut (and said) when a run opens the log again, another
 *   key is refused; `cnv serve --ledger` logs a call's admission and completion;
 * - usage errors exit 2. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "cli_run.h"
#include "cnv/ledger.h"
#include "support/rfc9162_check.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})

#define LIB "lib.ledger"
#define APPENDED 300u /* records appended to lib.ledger (besides GENESIS and checkpoints) */

static uint8_t node_pk[crypto_sign_PUBLICKEYBYTES], node_sk[crypto_sign_SECRETKEYBYTES];

static void hex(const uint8_t *in, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", in[i]);
}

static bool unhex(const char *text, uint8_t *out, size_t n) {
  if (strlen(text) != 2 * n) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned v = 0;
    if (sscanf(text + 2 * i, "%2x", &v) != 1) return false;
    out[i] = (uint8_t)v;
  }
  return true;
}

static void write_hex_file(const char *path, const uint8_t *bytes, size_t n) {
  char text[2 * crypto_sign_SECRETKEYBYTES + 2];
  hex(bytes, n, text);
  strcat(text, "\n");
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_int_equal(fputs(text, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(chmod(path, 0600), 0);
}

/* lib.ledger: GENESIS, then APPENDED records (every 7th a COMPLETE one, every 5th with a
 * payload larger than the inline size), checkpoints after the 61st and the 171st and at
 * close, segments of ~4 KiB. */
static void make_lib_log(void) {
  crypto_sign_keypair(node_pk, node_sk);
  write_hex_file("node.pub", node_pk, sizeof node_pk);
  write_hex_file("node.key", node_sk, sizeof node_sk);
  uint8_t other_pk[crypto_sign_PUBLICKEYBYTES], other_sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(other_pk, other_sk);
  write_hex_file("other.pub", other_pk, sizeof other_pk);
  cnv_ledger_config cfg;
  cnv_ledger_config_default(&cfg);
  cfg.dir = LIB;
  cfg.secret_key = node_sk;
  cfg.segment_bytes = 4096;
  cfg.checkpoint_every = 100000; /* checkpoints where this test asks for them */
  cfg.checkpoint_interval_ms = 3600000;
  cnv_ledger *l = NULL;
  assert_int_equal(cnv_ledger_open(&cfg, &l, NULL), CNV_OK);
  static uint8_t payload[200];
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7 + 1);
  for (uint32_t i = 0; i < APPENDED; i++) {
    cnv_ledger_entry e;
    memset(&e, 0, sizeof e);
    e.kind = i % 7 == 3 ? CNV_LREC_COMPLETE : CNV_LREC_APP;
    e.agent = i % 11;
    e.ticket = 1000u + i;
    e.capability = UINT64_C(0xfedcba9876543210) + i;
    e.time_ms = UINT64_C(1796548800000) + i;
    e.start_ms = e.time_ms - 1;
    e.epoch = 1;
    memset(e.key, 0x40 + (int)(i % 11), sizeof e.key);
    memset(e.digest, 0x11, sizeof e.digest);
    memset(e.result, (int)(i & 0xff), sizeof e.result);
    if (e.kind == CNV_LREC_APP) {
      e.payload = payload;
      e.payload_len = i % 5 == 0 ? 150u : i % 9;
    }
    assert_int_equal(cnv_ledger_append(l, &e, NULL), CNV_OK);
    if (i == 60 || i == 170) assert_int_equal(cnv_ledger_checkpoint(l, NULL), CNV_OK);
  }
  cnv_ledger_close(l); /* a final checkpoint covers everything */
}

static int setup(void **state) {
  (void)state;
  if (sodium_init() < 0) return -1;
  cli_tmpdir();
  make_lib_log();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  cli_tmpdir_remove();
  return 0;
}

/* ---- reading the log in the test (the library's reader) ---- */

typedef struct log_view {
  cnv_ledger_reader *r;
  uint64_t size;
  const uint8_t (*leaves)[CNV_LEDGER_HASH_BYTES];
} log_view;

static void view_open(log_view *v, const char *dir) {
  assert_int_equal(cnv_ledger_reader_open(dir, &v->r, NULL), CNV_OK);
  v->size = cnv_ledger_reader_size(v->r);
  v->leaves = cnv_ledger_reader_leaves(v->r);
}

/* A record body's leaf (docs/ledger.md, "Hashes"): the independent checker's RFC 9162 leaf
 * hash of the body's first 88 bytes || BLAKE2b-256(the rest of the body). */
static void body_leaf(const uint8_t *body, size_t len, uint8_t out[RFC9162_HASH]) {
  uint8_t in[88 + 32];
  memcpy(in, body, 88);
  assert_int_equal(crypto_generichash(in + 88, 32, body + 88, len - 88, NULL, 0), 0);
  rfc9162_leaf(in, sizeof in, out);
}

/* Each leaf hash recomputed from its record's body by the independent checker. */
static void check_leaves(log_view *v) {
  static uint8_t body[CNV_LEDGER_BODY_FIXED + CNV_LEDGER_MAX_PAYLOAD];
  uint8_t prev[CNV_LEDGER_HASH_BYTES] = {0};
  for (uint64_t i = 0; i < v->size; i++) {
    cnv_ledger_entry e;
    size_t len = 0;
    uint8_t leaf[RFC9162_HASH];
    assert_int_equal(cnv_ledger_reader_get(v->r, i, &e, NULL), CNV_OK);
    assert_int_equal(cnv_ledger_entry_encode(&e, i, prev, body, sizeof body, &len), CNV_OK);
    body_leaf(body, len, leaf);
    assert_memory_equal(leaf, v->leaves[i], RFC9162_HASH);
    memcpy(prev, leaf, sizeof prev);
  }
}

/* The index of the first record of `kind` at or after `from`, CNV_LEDGER_NONE when none. */
static uint64_t find_kind(log_view *v, int kind, uint64_t from) {
  for (uint64_t i = from; i < v->size; i++) {
    cnv_ledger_entry e;
    assert_int_equal(cnv_ledger_reader_get(v->r, i, &e, NULL), CNV_OK);
    if (e.kind == kind) return i;
  }
  return CNV_LEDGER_NONE;
}

/* ---- verify ---- */

static void verify_intact(void **state) {
  (void)state;
  RUN("ledger", "verify", LIB, "--pub", "node.pub");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "ok: intact"));
  assert_non_null(strstr(r.out, "checkpoints"));
  RUN("ledger", "verify", "--pub=node.pub", LIB); /* DIR after the flags */
  assert_int_equal(r.status, 0);
  RUN("ledger", "verify", LIB);
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "GENESIS"));
  RUN("ledger", "verify", LIB, "--pub", "other.pub");
  CLI_EXPECT(&r, 1, "CNV_ELEDGER_");
  RUN("ledger", "verify", "nowhere");
  assert_int_equal(r.status, 1);
  RUN("ledger", "verify", LIB, "--pub", "missing.pub");
  assert_int_equal(r.status, 1);
}

/* Segment file names of dir, sorted (they sort by first index: 16 hex digits). */
static size_t segments(const char *dir, char names[][64], size_t cap) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strncmp(de->d_name, "seg-", 4) != 0 || strlen(de->d_name) >= 64) continue;
    assert_true(n < cap);
    strcpy(names[n++], de->d_name);
  }
  closedir(d);
  qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
  return n;
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static uint64_t le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void flip(const char *path, long off) {
  FILE *f = fopen(path, "r+b");
  assert_non_null(f);
  assert_int_equal(fseek(f, off, SEEK_SET), 0);
  int c = fgetc(f);
  assert_true(c != EOF);
  assert_int_equal(fseek(f, off, SEEK_SET), 0);
  assert_int_equal(fputc(c ^ 0x20, f), c ^ 0x20);
  assert_int_equal(fclose(f), 0);
}

/* A byte flipped in a frame (length, body or stored leaf hash) of a closed segment: verify
 * exits 1 and names the record whose frame holds it. Each flip is undone after its check. */
static void verify_names_tampered_record(void **state) {
  (void)state;
  char names[256][64];
  size_t n = segments(LIB, names, 256);
  assert_true(n >= 3); /* small segments: several closed ones */
  uint32_t seed = 12345;
  size_t checked = 0;
  for (size_t s = 0; s + 1 < n && s < 4; s++) {
    char path[128];
    snprintf(path, sizeof path, LIB "/%.63s", names[s]);
    static uint8_t buf[1 << 16];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len > 64 && len < sizeof buf);
    /* frame boundaries: u32 body length | body (prev[32], index u64, ...) | leaf[32] */
    uint64_t starts[512], index[512];
    size_t frames = 0;
    for (size_t off = 64; off < len; frames++) {
      assert_true(frames < 512);
      starts[frames] = off;
      index[frames] = le64(buf + off + 4 + 32);
      off += 4 + le32(buf + off) + 32;
      assert_true(off <= len);
    }
    for (int k = 0; k < 6; k++) {
      seed = seed * 1103515245u + 12345u;
      size_t fr = (seed >> 8) % frames;
      uint64_t end = fr + 1 < frames ? starts[fr + 1] : len;
      uint64_t span = end - starts[fr];
      /* the first flip of a segment hits its first frame's length, the second its stored
       * leaf hash, the rest anywhere in the frame */
      uint64_t at = k == 0 ? starts[0] : k == 1 ? end - 1
                                                : starts[fr] + (seed >> 16) % span;
      if (k == 0) fr = 0;
      flip(path, (long)at);
      RUN("ledger", "verify", LIB, "--pub", "node.pub");
      char want[64];
      snprintf(want, sizeof want, "record %llu:", (unsigned long long)index[fr]);
      if (r.status != 1 || !strstr(r.err, want))
        fail_msg("%s byte %llu (record %llu): exit %d, stderr %s", names[s], (unsigned long long)at,
                 (unsigned long long)index[fr], r.status, r.err);
      assert_null(strstr(r.out, "ok: intact"));
      flip(path, (long)at);
      checked++;
    }
  }
  assert_true(checked >= 12);
  RUN("ledger", "verify", LIB, "--pub", "node.pub");
  assert_int_equal(r.status, 0);
}

/* ---- show ---- */

/* The whole of path (NUL-terminated) in a new buffer. */
static char *slurp_all(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  long n = ftell(f);
  rewind(f);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static size_t count_lines(const char *text) {
  size_t n = 0;
  for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++) n++;
  return n;
}

static void show_lists_records(void **state) {
  (void)state;
  log_view v;
  view_open(&v, LIB);
  cli_run_to(&r, "show.txt", (const char *const[]){"ledger", "show", LIB, NULL});
  assert_int_equal(r.status, 0);
  char *text = slurp_all("show.txt");
  assert_int_equal(count_lines(text), v.size);
  assert_non_null(strstr(text, "       0  genesis"));
  /* checkpoints come when due (the writer's batches decide where): the first one's line */
  uint64_t cp = find_kind(&v, CNV_LREC_CHECKPOINT, 1);
  assert_true(cp != CNV_LEDGER_NONE);
  char want[64];
  snprintf(want, sizeof want, "  checkpoint  tree_size %llu ", (unsigned long long)cp);
  assert_non_null(strstr(text, want));
  assert_non_null(strstr(text, "  complete    ticket 1003 "));
  assert_non_null(strstr(text, "  app "));
  /* each line's leaf prefix is the record's leaf hash */
  char leaf[65];
  hex(v.leaves[v.size - 1], 8, leaf);
  assert_non_null(strstr(text, leaf));
  free(text);
  RUN("ledger", "show", LIB, "--from", "5", "--count", "3");
  assert_int_equal(r.status, 0);
  assert_int_equal(count_lines(r.out), 3);
  assert_true(strncmp(r.out, "       5  ", 10) == 0);
  assert_non_null(strstr(r.out, "\n       7  "));
  RUN("ledger", "show", LIB, "--count", "2", "--json");
  assert_int_equal(r.status, 0);
  assert_int_equal(count_lines(r.out), 2);
  static const char first[] = "{\"index\":0,\"kind\":\"genesis\",\"leaf\":\"";
  assert_true(strncmp(r.out, first, sizeof first - 1) == 0);
  char key[65];
  hex(node_pk, sizeof node_pk, key);
  assert_non_null(strstr(r.out, key)); /* GENESIS names the ledger's key */
  char from[24];
  snprintf(from, sizeof from, "%llu", (unsigned long long)cp);
  RUN("ledger", "show", LIB, "--from", from, "--count", "1", "--json");
  assert_non_null(strstr(r.out, "\"kind\":\"checkpoint\""));
  snprintf(want, sizeof want, "\"checkpoint\":{\"tree_size\":%llu,", (unsigned long long)cp);
  assert_non_null(strstr(r.out, want));
  RUN("ledger", "show", LIB, "--from", "99999");
  assert_int_equal(r.status, 1);
  cnv_ledger_reader_close(v.r);
}

/* ---- prove, checked independently ---- */

typedef struct proof_text {
  bool consistency;
  uint64_t index, size, size1, size2;
  uint8_t leaf[32], root[32], root1[32], root2[32];
  bool signed1, signed2; /* checkpoint (or checkpoint1), checkpoint2 lines other than none */
  uint64_t time1, time2;
  uint8_t key1[32], key2[32], sig1[64], sig2[64];
  uint8_t path[RFC9162_MAX_PROOF][RFC9162_HASH];
  size_t n;
} proof_text;

static void parse_checkpoint(const char *rest, bool *have, uint64_t *time, uint8_t key[32], uint8_t sig[64]) {
  char k[80], s[140];
  unsigned long long t = 0;
  if (strcmp(rest, "none") == 0) {
    *have = false;
    return;
  }
  assert_int_equal(sscanf(rest, "%llu %79s %139s", &t, k, s), 3);
  assert_true(unhex(k, key, 32) && unhex(s, sig, 64));
  *time = t;
  *have = true;
}

/* Parses prove's documented output (docs/cli.md); fails the test on anything else. */
static void parse_proof(const char *out, proof_text *p) {
  memset(p, 0, sizeof *p);
  char buf[16384];
  assert_true(strlen(out) < sizeof buf);
  strcpy(buf, out);
  char *save = NULL;
  char *line = strtok_r(buf, "\n", &save);
  assert_non_null(line);
  if (strcmp(line, "cnv-ledger-proof-v1 consistency") == 0)
    p->consistency = true;
  else
    assert_string_equal(line, "cnv-ledger-proof-v1 inclusion");
  size_t expect = SIZE_MAX;
  while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
    char word[16] = "";
    int at = 0;
    unsigned long long v = 0;
    if (expect != SIZE_MAX) {
      assert_true(p->n < expect && unhex(line, p->path[p->n], 32));
      p->n++;
      continue;
    }
    assert_int_equal(sscanf(line, "%15s %n", word, &at), 1);
    const char *rest = line + at;
    if (strcmp(word, "proof") == 0) {
      assert_int_equal(sscanf(rest, "%llu", &v), 1);
      assert_true(v <= RFC9162_MAX_PROOF);
      expect = (size_t)v;
    } else if (strcmp(word, "index") == 0) {
      p->index = strtoull(rest, NULL, 10);
    } else if (strcmp(word, "size") == 0) {
      p->size = strtoull(rest, NULL, 10);
    } else if (strcmp(word, "size1") == 0) {
      p->size1 = strtoull(rest, NULL, 10);
    } else if (strcmp(word, "size2") == 0) {
      p->size2 = strtoull(rest, NULL, 10);
    } else if (strcmp(word, "leaf") == 0) {
      assert_true(unhex(rest, p->leaf, 32));
    } else if (strcmp(word, "root") == 0) {
      assert_true(unhex(rest, p->root, 32));
    } else if (strcmp(word, "root1") == 0) {
      assert_true(unhex(rest, p->root1, 32));
    } else if (strcmp(word, "root2") == 0) {
      assert_true(unhex(rest, p->root2, 32));
    } else if (strcmp(word, "checkpoint") == 0 || strcmp(word, "checkpoint1") == 0) {
      parse_checkpoint(rest, &p->signed1, &p->time1, p->key1, p->sig1);
    } else if (strcmp(word, "checkpoint2") == 0) {
      parse_checkpoint(rest, &p->signed2, &p->time2, p->key2, p->sig2);
    } else {
      fail_msg("unexpected line: %s", line);
    }
  }
  assert_int_equal(p->n, expect);
}

static bool lsb(uint64_t x) { return (x & 1u) != 0; }

/* RFC 9162 2.1.3.2: the inclusion proof of leaf `index` reaches `root` of the tree of size. */
static bool rfc_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[32],
                                 const uint8_t (*path)[RFC9162_HASH], size_t n, const uint8_t root[32]) {
  if (index >= size) return false;
  uint64_t fn = index, sn = size - 1;
  uint8_t h[32];
  memcpy(h, leaf, 32);
  for (size_t i = 0; i < n; i++) {
    if (sn == 0) return false;
    if (lsb(fn) || fn == sn) {
      rfc9162_node(path[i], h, h);
      while (!lsb(fn) && fn != 0) fn >>= 1, sn >>= 1;
    } else {
      rfc9162_node(h, path[i], h);
    }
    fn >>= 1, sn >>= 1;
  }
  return sn == 0 && memcmp(h, root, 32) == 0;
}

/* RFC 9162 2.1.4.2: the tree of size2 with root2 extends the tree of size1 with root1. */
static bool rfc_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[32], const uint8_t root2[32],
                                   const uint8_t (*proof)[RFC9162_HASH], size_t n) {
  if (size1 == 0 || size1 > size2) return false;
  if (size1 == size2) return n == 0 && memcmp(root1, root2, 32) == 0;
  if (n == 0) return false;
  uint8_t path[RFC9162_MAX_PROOF + 1][RFC9162_HASH];
  size_t m = 0;
  if ((size1 & (size1 - 1)) == 0) memcpy(path[m++], root1, 32);
  for (size_t i = 0; i < n; i++) memcpy(path[m++], proof[i], 32);
  uint64_t fn = size1 - 1, sn = size2 - 1;
  while (lsb(fn)) fn >>= 1, sn >>= 1;
  uint8_t fr[32], sr[32];
  memcpy(fr, path[0], 32);
  memcpy(sr, path[0], 32);
  for (size_t i = 1; i < m; i++) {
    if (sn == 0) return false;
    if (lsb(fn) || fn == sn) {
      rfc9162_node(path[i], fr, fr);
      rfc9162_node(path[i], sr, sr);
      while (!lsb(fn) && fn != 0) fn >>= 1, sn >>= 1;
    } else {
      rfc9162_node(sr, path[i], sr);
    }
    fn >>= 1, sn >>= 1;
  }
  return sn == 0 && memcmp(fr, root1, 32) == 0 && memcmp(sr, root2, 32) == 0;
}

/* The checkpoint's signature over its message (ledger.h), checked with libsodium directly. */
static bool checkpoint_signed(uint64_t size, const uint8_t root[32], uint64_t time, const uint8_t key[32],
                              const uint8_t sig[64]) {
  static const char domain[] = "cnv-ledger-checkpoint-v1";
  uint8_t msg[sizeof domain - 1 + 32 + 8 + 32 + 8];
  size_t o = 0;
  memcpy(msg, domain, sizeof domain - 1), o += sizeof domain - 1;
  memcpy(msg + o, key, 32), o += 32;
  for (int i = 0; i < 8; i++) msg[o++] = (uint8_t)(size >> (8 * i));
  memcpy(msg + o, root, 32), o += 32;
  for (int i = 0; i < 8; i++) msg[o++] = (uint8_t)(time >> (8 * i));
  return crypto_sign_verify_detached(sig, msg, o, key) == 0;
}

/* prove --index I [--size N] checked against the independent checker; returns the size. */
static uint64_t check_inclusion(log_view *v, uint64_t index, const char *size) {
  char idx[24];
  snprintf(idx, sizeof idx, "%llu", (unsigned long long)index);
  if (size)
    RUN("ledger", "prove", LIB, "--index", idx, "--size", size);
  else
    RUN("ledger", "prove", LIB, "--index", idx);
  if (r.status != 0) fail_msg("prove --index %s: %s", idx, r.err);
  proof_text p;
  parse_proof(r.out, &p);
  assert_false(p.consistency);
  assert_int_equal(p.index, index);
  assert_true(p.size > index && p.size <= v->size);
  assert_memory_equal(p.leaf, v->leaves[index], 32);
  uint8_t root[32], path[RFC9162_MAX_PROOF][RFC9162_HASH];
  size_t n = 0;
  rfc9162_mth(v->leaves, p.size, root);
  rfc9162_path(index, v->leaves, p.size, path, &n);
  assert_memory_equal(p.root, root, 32);
  assert_int_equal(p.n, n);
  if (n) assert_memory_equal(p.path, path, n * RFC9162_HASH);
  assert_true(rfc_verify_inclusion(index, p.size, p.leaf, (const uint8_t(*)[32])p.path, p.n, p.root));
  /* the checker can fail: another leaf, another size, a changed path hash */
  assert_false(rfc_verify_inclusion(index, p.size, v->leaves[index ? index - 1 : 1], (const uint8_t(*)[32])p.path, p.n,
                                    p.root));
  if ((index ^ 1u) < p.size)
    assert_false(rfc_verify_inclusion(index ^ 1u, p.size, p.leaf, (const uint8_t(*)[32])p.path, p.n, p.root));
  if (p.n) {
    p.path[p.n / 2][7] ^= 1;
    assert_false(rfc_verify_inclusion(index, p.size, p.leaf, (const uint8_t(*)[32])p.path, p.n, p.root));
  }
  if (p.signed1) {
    assert_memory_equal(p.key1, node_pk, 32);
    assert_true(checkpoint_signed(p.size, p.root, p.time1, p.key1, p.sig1));
    p.root[0] ^= 1;
    assert_false(checkpoint_signed(p.size, p.root, p.time1, p.key1, p.sig1));
  }
  return p.signed1 ? p.size : 0;
}

static void prove_inclusion(void **state) {
  (void)state;
  log_view v;
  view_open(&v, LIB);
  check_leaves(&v);
  /* without --size: the last checkpoint, the log's last record (close writes it) */
  uint64_t last = v.size - 1, cp = find_kind(&v, CNV_LREC_CHECKPOINT, 1);
  assert_true(cp < last);
  uint64_t picks[] = {0, 1, 2, cp - 1, cp, cp + 1, 100, 170, last - 2, last - 1};
  for (size_t i = 0; i < sizeof picks / sizeof picks[0]; i++) assert_int_equal(check_inclusion(&v, picks[i], NULL), last);
  /* with --size: a checkpoint's (signed) or any other (not) */
  char cps[24];
  snprintf(cps, sizeof cps, "%llu", (unsigned long long)cp);
  assert_int_equal(check_inclusion(&v, 3, cps), cp);
  assert_int_equal(check_inclusion(&v, cp - 1, cps), cp);
  assert_int_equal(check_inclusion(&v, 5, "77"), 0);
  assert_int_equal(check_inclusion(&v, 0, "1"), 0);
  char full[24];
  snprintf(full, sizeof full, "%llu", (unsigned long long)v.size);
  assert_int_equal(check_inclusion(&v, v.size - 1, full), 0);
  cnv_ledger_reader_close(v.r);
}

static void check_consistency(log_view *v, uint64_t size1, uint64_t size2, bool signed1, bool signed2) {
  char a[24], b[24];
  snprintf(a, sizeof a, "%llu", (unsigned long long)size1);
  snprintf(b, sizeof b, "%llu", (unsigned long long)size2);
  RUN("ledger", "prove", LIB, "--consistency", a, b);
  if (r.status != 0) fail_msg("prove --consistency %s %s: %s", a, b, r.err);
  proof_text p;
  parse_proof(r.out, &p);
  assert_true(p.consistency);
  assert_int_equal(p.size1, size1);
  assert_int_equal(p.size2, size2);
  uint8_t root1[32], root2[32], proof[RFC9162_MAX_PROOF][RFC9162_HASH];
  size_t n = 0;
  rfc9162_mth(v->leaves, size1, root1);
  rfc9162_mth(v->leaves, size2, root2);
  rfc9162_proof(size1, v->leaves, size2, proof, &n);
  assert_memory_equal(p.root1, root1, 32);
  assert_memory_equal(p.root2, root2, 32);
  assert_int_equal(p.n, n);
  if (n) assert_memory_equal(p.path, proof, n * RFC9162_HASH);
  assert_true(rfc_verify_consistency(size1, size2, p.root1, p.root2, (const uint8_t(*)[32])p.path, p.n));
  if (size1 < size2) {
    p.root1[3] ^= 4;
    assert_false(rfc_verify_consistency(size1, size2, p.root1, p.root2, (const uint8_t(*)[32])p.path, p.n));
    p.root1[3] ^= 4;
  }
  assert_int_equal(p.signed1, signed1);
  assert_int_equal(p.signed2, signed2);
  if (signed1) assert_true(checkpoint_signed(size1, p.root1, p.time1, p.key1, p.sig1));
  if (signed2) assert_true(checkpoint_signed(size2, p.root2, p.time2, p.key2, p.sig2));
}

static void prove_consistency(void **state) {
  (void)state;
  log_view v;
  view_open(&v, LIB);
  uint64_t last = v.size - 1, cp = find_kind(&v, CNV_LREC_CHECKPOINT, 1);
  assert_true(cp < last && cp != 64 && cp != 129 && cp != 77 && cp != 3);
  check_consistency(&v, cp, last, true, true); /* two checkpoints */
  check_consistency(&v, cp, cp, true, true);
  check_consistency(&v, 1, last, false, true);
  check_consistency(&v, 3, 77, false, false);
  check_consistency(&v, 64, 129, false, false);
  cnv_ledger_reader_close(v.r);
}

static void prove_errors(void **state) {
  (void)state;
  RUN("ledger", "prove", LIB);
  CLI_EXPECT(&r, 2, "--index or --consistency is required");
  RUN("ledger", "prove", LIB, "--consistency", "5");
  CLI_EXPECT(&r, 2, "--consistency takes two tree sizes");
  RUN("ledger", "prove", LIB, "--consistency", "9", "3");
  CLI_EXPECT(&r, 2, "past N2");
  RUN("ledger", "prove", LIB, "--consistency", "0", "3");
  assert_int_equal(r.status, 2);
  RUN("ledger", "prove", LIB, "--index", "1", "--consistency", "1", "2");
  CLI_EXPECT(&r, 2, "exclude each other");
  RUN("ledger", "prove", LIB, "--index", "1", "--size", "1");
  assert_int_equal(r.status, 1);
  RUN("ledger", "prove", LIB, "--index", "999999");
  assert_int_equal(r.status, 1);
  RUN("ledger", "prove", LIB, "--consistency", "1", "999999");
  assert_int_equal(r.status, 1);
}

/* ---- receipts ---- */

static void tampered_copy(const char *from, const char *to, long at) {
  FILE *f = fopen(from, "rb");
  assert_non_null(f);
  static uint8_t buf[CNV_RECEIPT_MAX_BYTES];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  assert_true((size_t)at < n);
  buf[at] ^= 0x01;
  unlink(to);
  f = fopen(to, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(buf, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static long file_size(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return (long)st.st_size;
}

/* A receipt of COMPLETE record `index` of dir written to out and verified with pub. */
static void receipt_round_trip(const char *dir, uint64_t index, const char *out, const char *pub) {
  char idx[24];
  snprintf(idx, sizeof idx, "%llu", (unsigned long long)index);
  RUN("ledger", "receipt", dir, "--index", idx, "--out", out);
  if (r.status != 0) fail_msg("ledger receipt --index %s: %s", idx, r.err);
  assert_non_null(strstr(r.out, "receipt of record"));
  RUN("receipt", "verify", out, "--pub", pub);
  if (r.status != 0) fail_msg("receipt verify: %s%s", r.out, r.err);
  assert_true(strncmp(r.out, "state verified\n", 15) == 0);
  char want[48];
  snprintf(want, sizeof want, "\nrecord %s (complete)\n", idx);
  assert_non_null(strstr(r.out, want));
}

static void receipts(void **state) {
  (void)state;
  log_view v;
  view_open(&v, LIB);
  uint64_t c = find_kind(&v, CNV_LREC_COMPLETE, 0);
  assert_true(c != CNV_LEDGER_NONE);
  receipt_round_trip(LIB, c, "r.bin", "node.pub");
  RUN("receipt", "verify", "r.bin", "--pub", "node.pub");
  assert_non_null(strstr(r.out, "\nticket 1003\n"));
  assert_non_null(strstr(r.out, "\ncapability fedcba9876543213\n"));
  /* never replaced */
  char idx[24];
  snprintf(idx, sizeof idx, "%llu", (unsigned long long)c);
  RUN("ledger", "receipt", LIB, "--index", idx, "--out", "r.bin");
  CLI_EXPECT(&r, 1, "exists");
  /* another key */
  RUN("receipt", "verify", "r.bin", "--pub", "other.pub");
  CLI_EXPECT(&r, 1, "stopped at unchecked");
  assert_true(strncmp(r.out, "state unchecked\n", 16) == 0);
  /* a byte changed anywhere: never verified */
  long size = file_size("r.bin");
  long at[] = {0, 8, 20, 60, 150, 230, 260, 300, 400, 480, size - 40, size - 1};
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
    tampered_copy("r.bin", "t.bin", at[i]);
    RUN("receipt", "verify", "t.bin", "--pub", "node.pub");
    if (r.status != 1) fail_msg("byte %ld changed: exit %d: %s", at[i], r.status, r.out);
    assert_null(strstr(r.out, "state verified"));
  }
  /* another kind of record, no such record */
  uint64_t app = find_kind(&v, CNV_LREC_APP, 0);
  snprintf(idx, sizeof idx, "%llu", (unsigned long long)app);
  RUN("ledger", "receipt", LIB, "--index", idx, "--out", "app.bin");
  CLI_EXPECT(&r, 1, "receipts are of complete records");
  assert_false(cli_exists("app.bin"));
  RUN("ledger", "receipt", LIB, "--index", "999999", "--out", "none.bin");
  assert_int_equal(r.status, 1);
  assert_false(cli_exists("none.bin"));
  RUN("receipt", "verify", "node.pub", "--pub", "node.pub");
  CLI_EXPECT(&r, 1, "not a receipt");
  CLI_NO_TEMPORARIES();
  cnv_ledger_reader_close(v.r);
}

/* ---- replay: a decision the policy in the log does not give ---- */

/* mismatch.ledger: CONFIG, then an ADMIT record that accepted a capability never registered
 * (replay denies it: unknown capability). Also a log without CONFIG (lib.ledger: APP and
 * COMPLETE records only, no decision) replays nothing. */
static void replay_mismatch(void **state) {
  (void)state;
  cnv_ledger_config cfg;
  cnv_ledger_config_default(&cfg);
  cfg.dir = "mismatch.ledger";
  cfg.secret_key = node_sk;
  cnv_ledger *l = NULL;
  assert_int_equal(cnv_ledger_open(&cfg, &l, NULL), CNV_OK);
  static const uint8_t settings[16] = {30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 16, 0, 0};
  cnv_ledger_entry e;
  memset(&e, 0, sizeof e);
  e.kind = CNV_LREC_CONFIG;
  e.ticket = 1;
  e.epoch = 1;
  e.payload = settings;
  e.payload_len = sizeof settings;
  assert_int_equal(cnv_ledger_append(l, &e, NULL), CNV_OK);
  memset(&e, 0, sizeof e);
  e.kind = CNV_LREC_ADMIT;
  e.agent = 4;
  e.capability = UINT64_C(0x1234567890abcdef);
  e.ticket = 77;
  e.epoch = 1;
  e.token_time = 1796548800;
  e.time_ms = UINT64_C(1796548800000);
  assert_int_equal(cnv_ledger_append(l, &e, NULL), CNV_OK);
  cnv_ledger_close(l);
  RUN("ledger", "replay", "mismatch.ledger");
  CLI_EXPECT(&r, 1, "1 decisions not reproduced");
  assert_non_null(strstr(r.out,
                         "mismatch: record 2  ticket 77  agent 4  capability 1234567890abcdef  token_time "
                         "1796548800  recorded accepted  replayed CNV_ERT_DENY_"));
  assert_non_null(strstr(r.out, "replayed 1 decisions of 4 records: 0 reproduced, 1 not "));
  RUN("ledger", "whatif", "mismatch.ledger", "--phase", "emergency");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "changed: record 2 "));
  RUN("ledger", "verify", "mismatch.ledger", "--pub", "node.pub");
  assert_int_equal(r.status, 0);
}

/* ---- usage ---- */

static void usage_errors(void **state) {
  (void)state;
  RUN("ledger", "verify");
  CLI_EXPECT(&r, 2, "DIR is required");
  RUN("ledger", "verify", LIB, "extra");
  CLI_EXPECT(&r, 2, "unexpected argument: extra");
  RUN("ledger", "verify", LIB, "--pub", "d/");
  assert_int_equal(r.status, 2);
  RUN("ledger", "show", LIB, "--count", "0");
  assert_int_equal(r.status, 2);
  RUN("ledger", "show", LIB, "--json=yes");
  assert_int_equal(r.status, 2);
  RUN("ledger", "receipt", LIB, "--out", "x.bin");
  CLI_EXPECT(&r, 2, "--index is required");
  RUN("ledger", "receipt", LIB, "--index", "1");
  CLI_EXPECT(&r, 2, "--out is required");
  RUN("receipt", "verify", "r.bin");
  CLI_EXPECT(&r, 2, "--pub is required");
  RUN("ledger", "whatif", LIB);
  CLI_EXPECT(&r, 2, "no change given");
  RUN("ledger", "whatif", LIB, "--revoke", "abc");
  CLI_EXPECT(&r, 2, "not a link hash");
  RUN("ledger", "whatif", LIB, "--phase", "sideways");
  CLI_EXPECT(&r, 2, "not a phase");
  RUN("ledger", "whatif", LIB, "--untrust", "missing.pub");
  assert_int_equal(r.status, 1);
  RUN("ledger", "replay");
  assert_int_equal(r.status, 2);
  RUN("ledger", "--help");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "whatif"));
  RUN("ledger", "prove", "--help");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "--consistency N1 N2"));
  RUN("receipt", "verify", "--help");
  assert_int_equal(r.status, 0);
  RUN("ledger", "frobnicate");
  assert_int_equal(r.status, 2);
#ifdef CNV_CLI_TEST_SWARM
  RUN("swarm", "run", "--count", "1000", "--ledger-key", "node.key");
  CLI_EXPECT(&r, 2, "--ledger-key needs --ledger");
  RUN("swarm", "run", "--count", "1000", "--ledger", LIB, "--ledger-key", "d/");
  assert_int_equal(r.status, 2);
#endif
}

#ifdef CNV_CLI_TEST_SWARM
/* ---- a runtime's log: cnv swarm run --ledger ---- */

#define RUNLOG "run.ledger"

static void swarm_run_log(void **state) {
  (void)state;
  RUN("token", "keygen", "--out", "run");
  assert_int_equal(r.status, 0);
  RUN("swarm", "run", "--count", "2000", "--agents", "10", "--seed", "3", "--quiet", "--ledger", RUNLOG,
      "--ledger-key", "run.key");
  if (r.status != 0) fail_msg("swarm run --ledger: %s", r.err);
  RUN("ledger", "verify", RUNLOG, "--pub", "run.pub");
  if (r.status != 0) fail_msg("verify: %s%s", r.out, r.err);
  cli_run_to(&r, "run-show.txt", (const char *const[]){"ledger", "show", RUNLOG, NULL});
  assert_int_equal(r.status, 0);
  char *text = slurp_all("run-show.txt");
  static const char *const kinds[] = {"  genesis ", "  config ", "  trust ", "  revoke ", "  agent ",
                                      "  register ", "  phase ", "  admit ", "  complete ", "  checkpoint "};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (!strstr(text, kinds[i])) fail_msg("no%srecord in the run's log", kinds[i]);
  }
  assert_non_null(strstr(text, "  accepted  "));
  assert_non_null(strstr(text, "  denied:revoked  "));
  free(text);
  /* replay reproduces every decision */
  RUN("ledger", "replay", RUNLOG);
  if (r.status != 0) fail_msg("replay: %s%s", r.out, r.err);
  assert_non_null(strstr(r.out, " reproduced, 0 not "));
  assert_null(strstr(r.out, "mismatch:"));
  /* what-if: forcing Emergency changes the accepted decisions */
  RUN("ledger", "whatif", RUNLOG, "--phase", "emergency");
  if (r.status != 0) fail_msg("whatif: %s%s", r.out, r.err);
  assert_non_null(strstr(r.out, "changed: record "));
  assert_null(strstr(r.out, " 0 would change"));
  /* a completion's receipt */
  log_view v;
  view_open(&v, RUNLOG);
  uint64_t c = find_kind(&v, CNV_LREC_COMPLETE, v.size / 2);
  assert_true(c != CNV_LEDGER_NONE);
  cnv_ledger_reader_close(v.r);
  receipt_round_trip(RUNLOG, c, "run-r.bin", "run.pub");
}

/* A torn tail (bytes of a record cut short, as a crash mid-write leaves): verify exits 1;
 * the next run that opens the log cuts it and says so; the log verifies again. Another key's
 * run is refused. */
static void swarm_run_recovers(void **state) {
  (void)state;
  char names[256][64];
  size_t n = segments(RUNLOG, names, 256);
  assert_true(n >= 1);
  char path[128];
  snprintf(path, sizeof path, RUNLOG "/%.63s", names[n - 1]);
  /* the start of the record that would come next: body length, prev (the last leaf), index */
  log_view v;
  view_open(&v, RUNLOG);
  uint8_t torn[4 + 32 + 8 + 3] = {CNV_LEDGER_BODY_FIXED + 10, 0, 0, 0};
  memcpy(torn + 4, v.leaves[v.size - 1], 32);
  for (int i = 0; i < 8; i++) torn[36 + i] = (uint8_t)(v.size >> (8 * i));
  cnv_ledger_reader_close(v.r);
  FILE *f = fopen(path, "ab");
  assert_non_null(f);
  assert_int_equal(fwrite(torn, 1, sizeof torn, f), sizeof torn);
  assert_int_equal(fclose(f), 0);
  RUN("ledger", "verify", RUNLOG, "--pub", "run.pub");
  CLI_EXPECT(&r, 1, "torn");
  RUN("swarm", "run", "--count", "1000", "--agents", "10", "--quiet", "--ledger", RUNLOG, "--ledger-key", "run.key");
  if (r.status != 0) fail_msg("swarm run --ledger: %s", r.err);
  char want[64];
  snprintf(want, sizeof want, "recovered: cut a torn tail of %zu bytes", sizeof torn);
  CLI_EXPECT(&r, 0, want);
  RUN("ledger", "verify", RUNLOG, "--pub", "run.pub");
  assert_int_equal(r.status, 0);
  RUN("ledger", "replay", RUNLOG);
  assert_int_equal(r.status, 0);
  RUN("swarm", "run", "--count", "1000", "--agents", "10", "--quiet", "--ledger", RUNLOG, "--ledger-key", "node.key");
  CLI_EXPECT(&r, 1, "--ledger " RUNLOG ": ");
  /* without --ledger-key: a key made for the run, named on stderr */
  RUN("swarm", "run", "--count", "1000", "--agents", "10", "--quiet", "--ledger", "fresh.ledger");
  CLI_EXPECT(&r, 0, "signing with a key made for this run: public key ");
  RUN("ledger", "verify", "fresh.ledger");
  assert_int_equal(r.status, 0);
}

/* Waits until path holds text (the child writes it once ready); false if it exited first. */
static bool wait_for(pid_t pid, const char *path, const char *text) {
  char buf[512];
  for (;;) {
    cli_slurp(path, buf, sizeof buf);
    if (strstr(buf, text)) return true;
    if (kill(pid, 0) != 0 || waitpid(pid, NULL, WNOHANG) == pid) return false;
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
  }
}

/* cnv serve --ledger: a call's admission and completion are in the log, which verifies,
 * replays and gives a receipt under the server's key once the server stopped (SIGTERM). The
 * log is refused to a server with another key. */
static void serve_ledger(void **state) {
  (void)state;
  assert_true(cli_make_demo_agent(&r));
  RUN("token", "keygen", "--out", "srv");
  assert_int_equal(r.status, 0);
  const char *const serve[] = {"serve", "--listen", "unix:srv.sock", "--key", "srv.key", "--trust", "root.pub",
                               "--ledger", "serve.ledger", NULL};
  pid_t pid = cli_start("serve.out", serve);
  if (!wait_for(pid, "serve.out", "listening ")) {
    cli_wait(&r, pid, "serve.out");
    fail_msg("serve --ledger: exit %d: %s", r.status, r.err);
  }
  for (int i = 0; i < 3; i++) {
    RUN("call", "--connect", "unix:srv.sock", "--server", "srv.pub", "--key", "agent.key", "--token", "agent.tok",
        "demo.echo", "--text", "hi");
    assert_int_equal(r.status, 0);
  }
  assert_int_equal(kill(pid, SIGTERM), 0);
  cli_wait(&r, pid, "serve.out");
  assert_int_equal(r.status, 0);
  RUN("ledger", "verify", "serve.ledger", "--pub", "srv.pub");
  if (r.status != 0) fail_msg("verify: %s%s", r.out, r.err);
  RUN("ledger", "show", "serve.ledger");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "  admit       accepted  "));
  assert_non_null(strstr(r.out, "  complete  "));
  RUN("ledger", "replay", "serve.ledger");
  assert_int_equal(r.status, 0);
  log_view v;
  view_open(&v, "serve.ledger");
  uint64_t c = find_kind(&v, CNV_LREC_COMPLETE, 0);
  cnv_ledger_reader_close(v.r);
  assert_true(c != CNV_LEDGER_NONE);
  receipt_round_trip("serve.ledger", c, "srv-r.bin", "srv.pub");
  RUN("serve", "--listen", "unix:srv2.sock", "--key", "agent.key", "--trust", "root.pub", "--ledger", "serve.ledger");
  CLI_EXPECT(&r, 1, "--ledger serve.ledger: ");
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(verify_intact),
      cmocka_unit_test(verify_names_tampered_record),
      cmocka_unit_test(show_lists_records),
      cmocka_unit_test(prove_inclusion),
      cmocka_unit_test(prove_consistency),
      cmocka_unit_test(prove_errors),
      cmocka_unit_test(receipts),
      cmocka_unit_test(replay_mismatch),
      cmocka_unit_test(usage_errors),
#ifdef CNV_CLI_TEST_SWARM
      cmocka_unit_test(swarm_run_log),
      cmocka_unit_test(swarm_run_recovers),
      cmocka_unit_test(serve_ledger),
#endif
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
