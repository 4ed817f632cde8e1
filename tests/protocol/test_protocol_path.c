/* Capability path validation and ids on whatever simd path is active (the CMake file runs this
 * again with CNV_SIMD pinned): the verdict matches the rule written out plainly, on random and
 * edge inputs at every alignment, nothing past the end of the path is read (inputs end right
 * before a PROT_NONE page), and an id is XXH3-64 of the path bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <cnv/protocol.h>
#include <xxhash.h>

#include "cnv_test_util.h"

/* Two pages: the second is PROT_NONE, so any byte read past an input placed at the end of
 * the first faults. */
typedef struct guarded {
  unsigned char *base;
  size_t page;
} guarded;

static guarded guarded_new(void) {
  guarded g;
  g.page = (size_t)sysconf(_SC_PAGESIZE);
  void *m = mmap(NULL, 2 * g.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(m != MAP_FAILED);
  g.base = m;
  assert_int_equal(mprotect(g.base + g.page, g.page, PROT_NONE), 0);
  return g;
}

/* The rule written out plainly (docs/protocol.md): the verdict every accept path must give. */
static bool reference_valid(const unsigned char *p, size_t len) {
  if (len == 0 || len > CNV_PATH_MAX_LEN || p[0] == '.' || p[len - 1] == '.') return false;
  unsigned segments = 1;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = p[i];
    bool seg = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (c == '.') {
      if (p[i - 1] == '.') return false;
      segments++;
    } else if (!seg) {
      return false;
    }
  }
  return segments <= CNV_PATH_MAX_SEGMENTS;
}

/* Checks one input at the page end and at offsets 1..3 from an aligned start: the verdict
 * matches the reference, an id is XXH3-64 of the bytes, an error names a byte of the path. */
static void check_one(const guarded *g, const unsigned char *src, size_t len) {
  const char *end = (const char *)g->base + g->page - len;
  memcpy((void *)end, src, len);
  bool want = reference_valid(src, len);
  for (int k = 0; k < 4; k++) {
    const char *p = k == 0 ? end : (const char *)g->base + k;
    if (k) memcpy((void *)p, src, len);
    size_t off = 12345;
    cnv_status st = cnv_capability_path_check(p, len, &off);
    assert_int_equal(st == CNV_OK, want);
    if (!want) assert_true(len == 0 ? off == 0 : off < len);
    uint64_t id = 0;
    assert_int_equal(cnv_capability_id(p, len, &id), st);
    if (want) assert_true(id == XXH3_64bits(p, len));
  }
}

static void test_twin_random(void **state) {
  (void)state;
  static const char alphabet[] = "abyz09_-..\x80\xff/:`{@AZ \x01,^";
  guarded g = guarded_new();
  unsigned char p[300];
  uint64_t rng = 7;
  uint64_t iters = cnv_test_iters(200000);
  for (uint64_t it = 0; it < iters; it++) {
    size_t len = cnv_test_rand(&rng) % (it % 8 == 0 ? 301 : 40);
    bool mostly_valid = cnv_test_rand(&rng) % 4 != 0;
    for (size_t i = 0; i < len; i++) {
      uint64_t r = cnv_test_rand(&rng);
      p[i] = (unsigned char)(mostly_valid && r % 60 ? "abz09_-"[r % 7]
                                                    : alphabet[r % (sizeof alphabet - 1)]);
      if (mostly_valid && r % 5 == 0) p[i] = '.';
    }
    check_one(&g, p, len);
  }
  munmap(g.base, 2 * g.page);
}

/* Every length 0..300; at each length every byte position holding every byte value that is
 * not a segment byte, a dot at each position, and dot pairs. */
static void test_twin_edges(void **state) {
  (void)state;
  guarded g = guarded_new();
  unsigned char p[300];
  for (size_t len = 0; len <= 300; len++) {
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)"abz09_-"[i % 7];
    check_one(&g, p, len);
    for (size_t pos = 0; pos < len && len <= 40; pos++) {
      unsigned char keep = p[pos];
      for (unsigned c = 0; c < 256; c++) {
        p[pos] = (unsigned char)c;
        check_one(&g, p, len);
      }
      p[pos] = '.';
      if (pos + 1 < len) {
        p[pos + 1] = '.';
        check_one(&g, p, len);
        p[pos + 1] = (unsigned char)"abz09_-"[(pos + 1) % 7];
      }
      p[pos] = keep;
    }
  }
  munmap(g.base, 2 * g.page);
}

/* Segment counts 1..10 and the length limits around the one-step width. */
static void test_twin_segments(void **state) {
  (void)state;
  guarded g = guarded_new();
  unsigned char p[300];
  for (size_t seg_len = 1; seg_len <= 4; seg_len++) {
    for (size_t segs = 1; segs <= 10; segs++) {
      size_t n = 0;
      for (size_t s = 0; s < segs; s++) {
        if (s) p[n++] = '.';
        for (size_t k = 0; k < seg_len; k++) p[n++] = 'q';
      }
      check_one(&g, p, n);
      uint64_t id;
      assert_int_equal(cnv_capability_id((const char *)p, n, &id),
                       segs <= 8 ? CNV_OK : CNV_EPARSE_PATH_DEPTH);
    }
  }
  memset(p, 'k', sizeof p);
  uint64_t id;
  assert_int_equal(cnv_capability_id((const char *)p, 255, &id), CNV_OK);
  assert_int_equal(cnv_capability_id((const char *)p, 256, &id), CNV_EPARSE_PATH_LONG);
  assert_int_equal(cnv_capability_id((const char *)p, 0, &id), CNV_EPARSE_EMPTY_PATH);
  munmap(g.base, 2 * g.page);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_twin_random),
      cmocka_unit_test(test_twin_edges),
      cmocka_unit_test(test_twin_segments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
