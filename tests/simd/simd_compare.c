/* Differential checks: every kernel of a path against its scalar twin (see simd_compare.h). */
#include "simd_compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cnv_test_util.h"

#define SENTINEL 0x5EA7BEEFC0FFEE11ull
#define MAXN 4096u

static const size_t lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31,
                                 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000};
#define NLEN (sizeof lengths / sizeof lengths[0])

static _Alignas(64) uint64_t ids_buf[MAXN + 16];
static _Alignas(64) uint64_t out_a[MAXN + 16];
static _Alignas(64) uint64_t out_b[MAXN + 16];
static _Alignas(64) uint64_t scratch[CNV_SIMD_VARIETY_SCRATCH_MAX / 8];

static void check(simd_cmp_report *r, int ok, const char *name) {
  if (ok) {
    r->passed++;
    return;
  }
  if (r->failed++ == 0) r->first_failure = name;
}

static void fill_random(uint64_t *p, size_t n, uint64_t *rng) {
  for (size_t i = 0; i < n; i++) p[i] = cnv_test_rand(rng);
}

/* Input shapes: 0 random, 1 all equal, 2 small alphabet, 3 all zero. */
static void fill_shape(uint64_t *p, size_t n, int shape, uint64_t *rng) {
  uint64_t one = cnv_test_rand(rng);
  for (size_t i = 0; i < n; i++) {
    uint64_t x = cnv_test_rand(rng);
    p[i] = shape == 0 ? x : shape == 1 ? one
                        : shape == 2   ? x % 7u
                                       : 0;
  }
}

static void hash_case(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, size_t n, size_t off,
                      uint64_t seed, simd_cmp_report *r) {
  out_a[off + n] = out_b[off + n] = SENTINEL;
  ref->hash64(ids_buf + off, n, seed, out_a + off);
  k->hash64(ids_buf + off, n, seed, out_b + off);
  check(r, memcmp(out_a + off, out_b + off, n * sizeof(uint64_t)) == 0, "hash64 equal");
  check(r, out_b[off + n] == SENTINEL, "hash64 writes past n");
}

void simd_cmp_hash(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r) {
  uint64_t rng = 1;
  for (size_t li = 0; li < NLEN; li++) {
    for (size_t off = 0; off < 4; off++) {
      for (int shape = 0; shape < 4; shape++) {
        fill_shape(ids_buf + off, lengths[li], shape, &rng);
        hash_case(ref, k, lengths[li], off, shape == 3 ? 0 : cnv_test_rand(&rng), r);
      }
    }
  }
  fill_random(ids_buf, 100, &rng);
  memcpy(out_a, ids_buf, 100 * sizeof(uint64_t));
  ref->hash64(out_a, 100, 7, out_a);
  k->hash64(ids_buf, 100, 7, ids_buf);
  check(r, memcmp(out_a, ids_buf, 100 * sizeof(uint64_t)) == 0, "hash64 in place");
}

/* A strictly ascending random set of n ids, drawn from pool when pool_n > 0. */
static void make_set(uint64_t *set, size_t n, uint64_t *rng) {
  size_t have = 0;
  while (have < n) {
    uint64_t x = cnv_test_rand(rng) | 1u;
    size_t i = have;
    int dup = 0;
    for (size_t j = 0; j < have; j++) dup |= set[j] == x;
    if (dup) continue;
    while (i > 0 && set[i - 1] > x) {
      set[i] = set[i - 1];
      i--;
    }
    set[i] = x;
    have++;
  }
}

static void capcheck_case(const cnv_simd_kernels *ref, const cnv_simd_kernels *k,
                          const cnv_simd_idset *allow, const cnv_simd_idset *deny, size_t n,
                          size_t off, simd_cmp_report *r) {
  size_t words = (n + 63) / 64;
  out_a[words] = out_b[words] = SENTINEL;
  ref->capcheck(ids_buf + off, n, allow, deny, out_a);
  k->capcheck(ids_buf + off, n, allow, deny, out_b);
  check(r, memcmp(out_a, out_b, words * sizeof(uint64_t)) == 0, "capcheck equal");
  check(r, out_b[words] == SENTINEL, "capcheck writes past mask");
  int deny_wins = 1;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < deny->count; j++)
      if (ids_buf[off + i] == deny->ids[j] && (out_a[i / 64] >> (i % 64) & 1)) deny_wins = 0;
  check(r, deny_wins, "capcheck deny wins");
}

/* Ids drawn 40% from allow, 20% from deny, the rest random; shape 1 = all one allowed id. */
static void fill_cap_ids(uint64_t *p, size_t n, const uint64_t *a, size_t an, const uint64_t *d,
                         size_t dn, int shape, uint64_t *rng) {
  for (size_t i = 0; i < n; i++) {
    uint64_t x = cnv_test_rand(rng), pick = x % 10;
    if (shape == 1)
      p[i] = an ? a[0] : 42;
    else if (pick < 4 && an)
      p[i] = a[(x >> 8) % an];
    else if (pick < 6 && dn)
      p[i] = d[(x >> 8) % dn];
    else
      p[i] = x;
  }
}

/* Ids that share their low 16 bits with set entries (or with each other) but differ above:
 * a fingerprint-based path must still answer exactly. */
static void capcheck_fingerprints(const cnv_simd_kernels *ref, const cnv_simd_kernels *k,
                                  simd_cmp_report *r) {
  static uint64_t same[20], spread[24];
  uint64_t rng = 6;
  for (unsigned i = 0; i < 20; i++) same[i] = ((uint64_t)(i + 1) << 16) | 7u;
  for (unsigned i = 0; i < 24; i++) spread[i] = ((uint64_t)(i + 1) << 40) | (i * 37u + 1);
  cnv_simd_idset none = {NULL, 0}, a = {same, 20}, b = {spread, 24};
  for (size_t li = 0; li < NLEN; li++) {
    for (size_t i = 0; i < lengths[li]; i++) {
      uint64_t x = cnv_test_rand(&rng), base = (x & 1) ? same[x % 20] : spread[x % 24];
      ids_buf[i] = (x & 2) ? base : base ^ ((uint64_t)1 << (17 + x % 40));
    }
    capcheck_case(ref, k, &a, &none, lengths[li], 0, r);
    capcheck_case(ref, k, &b, &none, lengths[li], 0, r);
    capcheck_case(ref, k, &b, &a, lengths[li], 0, r);
  }
}

void simd_cmp_capcheck(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r) {
  capcheck_fingerprints(ref, k, r);
  static const size_t sizes[] = {0, 1, 3, 32, 33, 200};
  static uint64_t a[200], d[200];
  uint64_t rng = 2;
  for (size_t ai = 0; ai < 6; ai++) {
    for (size_t di = 0; di < 6; di++) {
      make_set(a, sizes[ai], &rng);
      make_set(d, sizes[di], &rng);
      if (sizes[di] && sizes[ai]) d[0] = a[0]; /* an allowed id that is also denied */
      for (size_t j = 1; j < sizes[di]; j++)
        if (d[j] <= d[j - 1]) d[j] = d[j - 1] + 1;
      cnv_simd_idset allow = {a, sizes[ai]}, deny = {d, sizes[di]};
      for (size_t li = 0; li < NLEN; li++) {
        size_t off = li % 4;
        fill_cap_ids(ids_buf + off, lengths[li], a, sizes[ai], d, sizes[di], (int)(li % 5 == 0),
                     &rng);
        capcheck_case(ref, k, &allow, &deny, lengths[li], off, r);
      }
    }
  }
}

static void effects_case(const cnv_simd_kernels *ref, const cnv_simd_kernels *k,
                         const cnv_effects *e, size_t n, cnv_effects ceiling,
                         simd_cmp_report *r) {
  size_t words = (n + 63) / 64;
  check(r, ref->effects_join(e, n) == k->effects_join(e, n), "effects_join equal");
  out_a[words] = out_b[words] = SENTINEL;
  ref->effects_subset(e, n, ceiling, out_a);
  k->effects_subset(e, n, ceiling, out_b);
  check(r, memcmp(out_a, out_b, words * sizeof(uint64_t)) == 0, "effects_subset equal");
  check(r, out_b[words] == SENTINEL, "effects_subset writes past mask");
}

void simd_cmp_effects(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r) {
  static _Alignas(64) cnv_effects e[MAXN + 16];
  uint64_t rng = 3;
  for (size_t li = 0; li < NLEN; li++) {
    for (size_t off = 0; off < 4; off++) {
      for (int shape = 0; shape < 3; shape++) {
        cnv_effects bias = (cnv_effects)cnv_test_rand(&rng), one = (cnv_effects)cnv_test_rand(&rng);
        for (size_t i = 0; i < lengths[li]; i++) {
          cnv_effects x = (cnv_effects)(cnv_test_rand(&rng) & cnv_test_rand(&rng) & bias);
          e[off + i] = shape == 0 ? x : shape == 1 ? one
                                                   : (cnv_effects)(1u << (i % 16));
        }
        cnv_effects ceil = shape == 2 ? 0xFFFF : (cnv_effects)(cnv_test_rand(&rng) | bias);
        effects_case(ref, k, e + off, lengths[li], ceil, r);
        effects_case(ref, k, e + off, lengths[li], 0, r);
      }
    }
  }
}

static void zero_case(void (*zero)(void *, size_t), unsigned char *buf, size_t off, size_t n,
                      simd_cmp_report *r) {
  memset(buf, 0xA5, 8192 + 128);
  zero(buf + off, n);
  int ok = 1;
  for (size_t i = 0; i < 8192 + 128; i++) ok &= buf[i] == ((i >= off && i < off + n) ? 0 : 0xA5);
  check(r, ok, "zero exact range");
}

void simd_cmp_zero(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r) {
  static _Alignas(64) unsigned char buf[8192 + 128];
  static const size_t zl[] = {0, 1, 7, 31, 32, 33, 63, 64, 65,
                              95, 96, 97, 100, 4095, 4096, 4097, 8000};
  for (size_t li = 0; li < sizeof zl / sizeof zl[0]; li++) {
    for (size_t off = 0; off < 66; off += (off < 34 ? 1 : 31)) {
      zero_case(ref->zero, buf, off, zl[li], r);
      zero_case(k->zero, buf, off, zl[li], r);
    }
  }
  size_t big = ((size_t)16 << 20) + 3; /* the size where the vector paths hand over to memset */
  unsigned char *p = malloc(big + 16);
  if (p == NULL) return;
  memset(p, 0xA5, big + 16);
  k->zero(p + 5, big);
  int ok = p[4] == 0xA5 && p[big + 5] == 0xA5;
  for (size_t i = 5; i < big + 5; i++) ok &= p[i] == 0;
  check(r, ok, "zero 16 MiB + 3");
  free(p);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Sort-and-count reference of the variety count. */
static void variety_reference(const uint64_t *ids, size_t n, uint32_t *distinct, uint64_t *clogc) {
  static uint64_t sorted[MAXN];
  memcpy(sorted, ids, n * sizeof(uint64_t));
  qsort(sorted, n, sizeof(uint64_t), cmp_u64);
  *distinct = 0;
  *clogc = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && sorted[j] == sorted[i]) j++;
    double c = (double)(j - i);
    *clogc += (uint64_t)llround(c * log2(c) * (double)(1ull << CNV_SIMD_CLOGC_SHIFT));
    (*distinct)++;
    i = j;
  }
}

void simd_cmp_variety(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r) {
  static const size_t vl[] = {1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100, 256, 1000, 4096};
  uint64_t rng = 4;
  for (size_t li = 0; li < sizeof vl / sizeof vl[0]; li++) {
    for (int shape = 0; shape < 4; shape++) {
      size_t n = vl[li], off = li % 3;
      uint32_t da, db, dr;
      uint64_t ca, cb, cr;
      fill_shape(ids_buf + off, n, shape, &rng);
      ref->variety_count(ids_buf + off, n, scratch, &da, &ca);
      memset(scratch, 0xCD, sizeof scratch);
      k->variety_count(ids_buf + off, n, scratch, &db, &cb);
      variety_reference(ids_buf + off, n, &dr, &cr);
      check(r, da == db && ca == cb, "variety equal to scalar");
      check(r, db == dr && cb == cr, "variety equal to sort-and-count");
    }
  }
}

static void hll_case(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, unsigned p, size_t n,
                     int prefill, simd_cmp_report *r, uint64_t *rng) {
  static _Alignas(64) uint8_t ra[(1u << 16) + 8], rb[(1u << 16) + 8];
  size_t m = (size_t)1 << p, off = n % 3;
  for (size_t i = 0; i < m; i++)
    ra[off + i] = prefill ? (uint8_t)(cnv_test_rand(rng) % (66 - p)) : 0;
  memcpy(rb + off, ra + off, m);
  fill_random(ids_buf, n, rng);
  uint64_t seed = cnv_test_rand(rng);
  ref->hll_update(ra + off, p, ids_buf, n, seed);
  k->hll_update(rb + off, p, ids_buf, n, seed);
  check(r, memcmp(ra + off, rb + off, m) == 0, "hll_update equal");
  cnv_simd_hll_sums sa, sb;
  ref->hll_sums(ra + off, p, &sa);
  k->hll_sums(rb + off, p, &sb);
  check(r, memcmp(&sa, &sb, sizeof sa) == 0, "hll_sums equal");
}

void simd_cmp_hll(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r) {
  static const unsigned ps[] = {4, 5, 12, 14, 16};
  uint64_t rng = 5;
  for (size_t pi = 0; pi < 5; pi++) {
    for (size_t li = 0; li < NLEN; li += 2) {
      hll_case(ref, k, ps[pi], lengths[li], 0, r, &rng);
      hll_case(ref, k, ps[pi], lengths[li], 1, r, &rng);
    }
    hll_case(ref, k, ps[pi], MAXN, 0, r, &rng);
  }
}

void simd_cmp_known_answers(const cnv_simd_kernels *k, simd_cmp_report *r) {
  static const uint64_t in[] = {0, 1, 2, 0xFFFFFFFFFFFFFFFFull, 0x0123456789ABCDEFull};
  static const uint64_t want0[] = {0xA0CD4D7D70A692C9ull, 0x252F50C6D8A6EDB0ull,
                                   0xEA0D4F2F7ECE6EF3ull, 0x0D7393F2E7BEA14Full,
                                   0xC2A467529E29A853ull};
  /* seed == the key: the plain rrmxmx of each id, so rrmxmx(0) == 0 */
  static const uint64_t want1[] = {0x0000000000000000ull, 0x23085D6F7A569905ull,
                                   0xE5C2D731E8120D3Cull, 0x8BC57FDDF83265BDull,
                                   0xC337A528D7E42497ull};
  uint64_t out[5];
  k->hash64(in, 5, 0, out);
  check(r, memcmp(out, want0, sizeof out) == 0, "hash64 known answers, seed 0");
  k->hash64(in, 5, 0x9E3779B97F4A7C15ull, out);
  check(r, memcmp(out, want1, sizeof out) == 0, "hash64 known answers, golden seed");
  static const uint64_t v[] = {5, 5, 5, 9, 9, 1};
  uint32_t d;
  uint64_t c;
  k->variety_count(v, 6, scratch, &d, &c);
  /* counts 3, 2, 1: 3*log2(3) + 2 = 6.754887502163468 bits, scaled by 2^40 */
  check(r, d == 3 && c == (uint64_t)llround((3.0 * log2(3.0) + 2.0) * 1099511627776.0),
        "variety known answer");
  static const struct {
    const char *path;
    bool valid;
  } paths[] = {{"user.create", true}, {"a", true}, {"a.b-c.d_e.f9", true}, {"a.b.c.d.e.f.g.h", true}, {"", false}, {".a", false}, {"a.", false}, {"a..b", false}, {"A", false}, {"a.b.c.d.e.f.g.h.i", false}, {"a/b", false}, {"user.create ", false}};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
    check(r, k->path_accept(paths[i].path, strlen(paths[i].path)) == paths[i].valid,
          "path_accept known answers");
}

/* One path_accept input, placed so that it ends right before a PROT_NONE page (a read past
 * the end faults) and at offsets 1..3 from an aligned start. */
static void path_case(const cnv_simd_kernels *ref, const cnv_simd_kernels *k,
                      unsigned char *page, size_t page_size, const unsigned char *src, size_t len,
                      simd_cmp_report *r) {
  char *end = (char *)page + page_size - len;
  memcpy(end, src, len);
  bool want = ref->path_accept(end, len);
  check(r, k->path_accept(end, len) == want, "path_accept at the end of a page");
  for (size_t off = 1; off < 4; off++) {
    memcpy(page + off, src, len);
    check(r, k->path_accept((const char *)page + off, len) == want, "path_accept unaligned");
  }
}

void simd_cmp_path(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r) {
  size_t page_size = (size_t)sysconf(_SC_PAGESIZE);
  unsigned char *page = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED || mprotect(page + page_size, page_size, PROT_NONE) != 0) {
    check(r, 0, "path_accept guard page");
    return;
  }
  static const char alphabet[] = "abyz09_-..\x80\xff/:`{@AZ \x01,^";
  unsigned char p[300];
  uint64_t rng = 11;
  /* Random inputs, mostly valid paths, up to 300 bytes. */
  for (unsigned it = 0; it < 20000; it++) {
    size_t len = cnv_test_rand(&rng) % (it % 8 == 0 ? 301 : 40);
    bool mostly_valid = cnv_test_rand(&rng) % 4 != 0;
    for (size_t i = 0; i < len; i++) {
      uint64_t x = cnv_test_rand(&rng);
      p[i] = (unsigned char)(mostly_valid && x % 60 ? "abz09_-"[x % 7]
                                                    : alphabet[x % (sizeof alphabet - 1)]);
      if (mostly_valid && x % 5 == 0) p[i] = '.';
    }
    path_case(ref, k, page, page_size, p, len, r);
  }
  /* Every length up to 40 with every byte value at every position, and dot pairs; segment
   * counts around the limit; lengths around 255. */
  for (size_t len = 0; len <= 40; len++) {
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)"abz09_-"[i % 7];
    path_case(ref, k, page, page_size, p, len, r);
    for (size_t pos = 0; pos < len; pos++) {
      unsigned char keep = p[pos];
      for (unsigned c = 0; c < 256; c++) {
        p[pos] = (unsigned char)c;
        path_case(ref, k, page, page_size, p, len, r);
      }
      p[pos] = '.';
      if (pos + 1 < len) {
        p[pos + 1] = '.';
        path_case(ref, k, page, page_size, p, len, r);
        p[pos + 1] = (unsigned char)"abz09_-"[(pos + 1) % 7];
      }
      p[pos] = keep;
    }
  }
  for (size_t seg_len = 1; seg_len <= 4; seg_len++) {
    for (size_t segs = 1; segs <= 10; segs++) {
      size_t n = 0;
      for (size_t s = 0; s < segs; s++) {
        if (s) p[n++] = '.';
        for (size_t j = 0; j < seg_len; j++) p[n++] = 'q';
      }
      path_case(ref, k, page, page_size, p, n, r);
      check(r, k->path_accept((const char *)p, n) == (segs <= CNV_SIMD_PATH_MAX_SEGMENTS),
            "path_accept segment limit");
    }
  }
  memset(p, 'k', sizeof p);
  for (size_t len = 250; len <= 260; len++) {
    path_case(ref, k, page, page_size, p, len, r);
    check(r, k->path_accept((const char *)p, len) == (len <= CNV_SIMD_PATH_MAX_LEN),
          "path_accept length limit");
  }
  munmap(page, 2 * page_size);
}

/* One bits_or case: the same dst and src through both kernels, then compared. */
static void bits_or_case(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, size_t words, size_t doff,
                         size_t soff, int shape, uint64_t *rng, simd_cmp_report *r) {
  static _Alignas(64) uint64_t src[320], da[320], db[320];
  fill_random(src, words + 16, rng);
  fill_random(da, words + 16, rng);
  for (size_t i = 0; i < words; i++) {
    uint64_t x = cnv_test_rand(rng), y = cnv_test_rand(rng);
    /* shape 0 random, 1 sparse (few new bits), 2 src a subset of dst, 3 src all zero */
    uint64_t sv = shape == 0 ? x : shape == 1 ? (x & y & cnv_test_rand(rng) & cnv_test_rand(rng))
                                              : x & y;
    if (shape == 3) sv = 0;
    src[soff + i] = sv;
    da[doff + i] = shape == 2 ? (sv | y) : shape == 1 ? ~(x & y) & cnv_test_rand(rng)
                                                      : y;
    if (shape == 1 && i % 3) da[doff + i] |= sv; /* most words gain nothing */
  }
  static uint64_t orig[320];
  for (size_t i = 0; i < words + 16; i++) db[i] = orig[i] = da[i];
  uint64_t *pa = da + doff, *pb = db + doff;
  pa[words] = pb[words] = SENTINEL;
  orig[doff + words] = SENTINEL;
  bool ca = ref->bits_or(pa, src + soff, words);
  bool cb = k->bits_or(pb, src + soff, words);
  check(r, memcmp(da, db, sizeof(uint64_t) * (words + 16)) == 0, "bits_or dst equal");
  check(r, ca == cb, "bits_or changed equal");
  check(r, pb[words] == SENTINEL, "bits_or writes past words");
  /* and both against the definition */
  bool want = false, exact = true;
  for (size_t i = 0; i < words + 16; i++) {
    bool in = i >= doff && i < doff + words;
    uint64_t s = in ? src[soff + i - doff] : 0;
    want |= (s & ~orig[i]) != 0;
    exact &= db[i] == (orig[i] | s);
  }
  check(r, exact, "bits_or dst is the union");
  check(r, cb == want, "bits_or changed is a new bit");
  if (shape >= 2) check(r, !cb, "bits_or unchanged when src is in dst");
}

void simd_cmp_bits_or(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r) {
  uint64_t rng = 12;
  for (size_t words = 0; words <= 40; words++)
    for (size_t off = 0; off < 8; off++)
      for (int shape = 0; shape < 4; shape++) bits_or_case(ref, k, words, off, 7 - off, shape, &rng, r);
  for (unsigned it = 0; it < 2000; it++) {
    size_t words = cnv_test_rand(&rng) % 301, doff = cnv_test_rand(&rng) % 8, soff = cnv_test_rand(&rng) % 8;
    bits_or_case(ref, k, words, doff, soff, (int)(it % 4), &rng, r);
  }
  /* one new bit at every position of a 37-word row: every lane and the tail see it */
  static uint64_t d[37], s[37];
  for (size_t bit = 0; bit < 37 * 64; bit++) {
    memset(d, 0xFF, sizeof d);
    memset(s, 0, sizeof s);
    d[bit / 64] &= ~(1ull << (bit % 64));
    s[bit / 64] = 1ull << (bit % 64);
    bool want = ref->bits_or(d, s, 37);
    d[bit / 64] &= ~(1ull << (bit % 64));
    check(r, want && k->bits_or(d, s, 37), "bits_or sees every new bit");
    check(r, d[bit / 64] == ~0ull, "bits_or sets every bit");
    check(r, !k->bits_or(d, s, 37), "bits_or unchanged the second time");
  }
  /* dst == src: unchanged, not changed */
  for (size_t words = 0; words < 70; words += 3) {
    uint64_t x[70], y[70];
    fill_random(x, words, &rng);
    memcpy(y, x, words * sizeof(uint64_t));
    check(r, !k->bits_or(x, x, words), "bits_or dst == src unchanged flag");
    check(r, memcmp(x, y, words * sizeof(uint64_t)) == 0, "bits_or dst == src contents");
  }
}

void simd_cmp_all(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r) {
  simd_cmp_hash(ref, k, r);
  simd_cmp_capcheck(ref, k, r);
  simd_cmp_effects(ref, k, r);
  simd_cmp_zero(ref, k, r);
  simd_cmp_variety(ref, k, r);
  simd_cmp_hll(ref, k, r);
  simd_cmp_path(ref, k, r);
  simd_cmp_bits_or(ref, k, r);
  simd_cmp_known_answers(k, r);
}
