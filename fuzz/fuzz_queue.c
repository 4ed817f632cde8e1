/* Fuzz target for the MPMC queue and the SPSC ring: the input is an operation script run on
 * one thread and checked step by step against a plain ring-array model; abort() on any
 * divergence (status, count, record bytes, stats).
 *   byte 0: capacity (any value 0..255; not a power of two gives CNV_ECAPACITY, and so
 *           does 1 for the MPMC queue)
 *   byte 1: record size: bit 7 set -> raw value of bits 0..6 (may be invalid), else
 *           8 * (1 + (b & 7)) bytes
 *   then one byte per op: bits 0..2 pick the op, bits 3..7 + 1 the batch count (1..32):
 *     0 push, 1 pop, 2 push batch, 3 pop batch on the MPMC queue; 4..7 the same on SPSC. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/hotpath.h>

#define MAXREC 128u
#define MAXBATCH 32u
#define MAXCAP 256u

typedef struct model {
  uint64_t v[MAXCAP];
  uint32_t head, len, cap;
} model;

static uint64_t next_value;

#define CHECK(c)       \
  do {                 \
    if (!(c)) abort(); \
  } while (0)

/* Record i of a batch carries value v in every 8-byte word, xor its word index. */
static void rec_fill(unsigned char *r, uint32_t rs, uint64_t v) {
  for (uint32_t w = 0; w < rs / 8; w++) {
    uint64_t x = v ^ w;
    memcpy(r + 8 * w, &x, 8);
  }
}

static void rec_check(const unsigned char *r, uint32_t rs, uint64_t v) {
  for (uint32_t w = 0; w < rs / 8; w++) {
    uint64_t x;
    memcpy(&x, r + 8 * w, 8);
    CHECK(x == (v ^ w));
  }
}

static size_t model_push(model *m, size_t n) {
  size_t k = 0;
  for (; k < n && m->len < m->cap; k++) m->v[(m->head + m->len++) % m->cap] = next_value + k;
  return k;
}

static void model_pop_check(model *m, const unsigned char *out, size_t k, uint32_t rs) {
  for (size_t i = 0; i < k; i++) {
    CHECK(m->len > 0);
    rec_check(out + i * rs, rs, m->v[m->head]);
    m->head = (m->head + 1) % m->cap;
    m->len--;
  }
}

typedef struct rig {
  cnv_queue *q;
  cnv_spsc *r;
  model mq, mr;
  uint32_t rs;
  cnv_queue_stats expect;
  unsigned char buf[MAXBATCH * MAXREC];
} rig;

static void do_push(rig *g, int spsc, size_t n, int batch) {
  model *m = spsc ? &g->mr : &g->mq;
  for (size_t i = 0; i < n; i++) rec_fill(g->buf + i * g->rs, g->rs, next_value + i);
  size_t got = 0;
  cnv_status st;
  if (!batch) {
    st = spsc ? cnv_spsc_try_push(g->r, g->buf) : cnv_queue_try_push_mpmc(g->q, g->buf);
    got = st == CNV_OK;
  } else {
    st = spsc ? cnv_spsc_try_push_batch(g->r, g->buf, n, &got)
              : cnv_queue_try_push_batch_mpmc(g->q, g->buf, n, &got);
  }
  size_t want = model_push(m, n);
  CHECK(got == want && st == (want == n ? CNV_OK : CNV_EFULL));
  if (!spsc) {
    g->expect.pushed += got;
    g->expect.rejected_full += n - got;
  }
  next_value += n;
}

static void do_pop(rig *g, int spsc, size_t n, int batch) {
  model *m = spsc ? &g->mr : &g->mq;
  size_t got = 0;
  cnv_status st;
  memset(g->buf, 0xEE, n * g->rs);
  if (!batch) {
    st = spsc ? cnv_spsc_try_pop(g->r, g->buf) : cnv_queue_try_pop_mpmc(g->q, g->buf);
    got = st == CNV_OK;
  } else {
    st = spsc ? cnv_spsc_try_pop_batch(g->r, g->buf, n, &got)
              : cnv_queue_try_pop_batch_mpmc(g->q, g->buf, n, &got);
  }
  size_t want = n < m->len ? n : m->len;
  CHECK(got == want && st == (want ? CNV_OK : CNV_EEMPTY));
  model_pop_check(m, g->buf, got, g->rs);
  for (size_t i = got * g->rs; i < n * g->rs; i++) CHECK(g->buf[i] == 0xEE); /* nothing more written */
  if (!spsc) g->expect.popped += got;
}

/* Creates both queues, or checks that bad parameters are refused by both alike. */
static int rig_open(rig *g, uint32_t cap, uint32_t rs) {
  int cap_ok = cap != 0 && (cap & (cap - 1)) == 0;
  int rs_ok = rs != 0 && rs % 8 == 0 && rs <= MAXREC;
  cnv_status sq = cnv_queue_create(cap, rs, &g->q), sr = cnv_spsc_create(cap, rs, &g->r);
  cnv_status expect = !cap_ok ? CNV_ECAPACITY : !rs_ok ? CNV_ERECORD_SIZE
                                                       : CNV_OK;
  /* The MPMC queue needs two slots; the SPSC ring works with one. */
  CHECK(sr == expect && sq == (cap == 1 && rs_ok ? CNV_ECAPACITY : expect));
  if (sq != CNV_OK) {
    cnv_spsc_destroy(g->r);
    return 0;
  }
  g->rs = rs;
  g->mq.cap = g->mr.cap = cap;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  static rig g;
  memset(&g, 0, sizeof g);
  uint32_t rs = data[1] & 0x80 ? data[1] & 0x7Fu : 8u * (1u + (data[1] & 7u));
  if (!rig_open(&g, data[0], rs)) return 0;
  for (size_t i = 2; i < size; i++) {
    int op = data[i] & 7, spsc = op >= 4, batch = (op & 2) != 0;
    size_t n = batch ? 1u + (data[i] >> 3) : 1u;
    if (op & 1)
      do_pop(&g, spsc, n, batch);
    else
      do_push(&g, spsc, n, batch);
  }
  cnv_queue_stats st;
  cnv_queue_stats_get(g.q, &st);
  CHECK(st.pushed == g.expect.pushed && st.popped == g.expect.popped &&
        st.rejected_full == g.expect.rejected_full);
  CHECK(cnv_queue_capacity(g.q) == g.mq.cap && cnv_queue_record_size(g.q) == rs);
  cnv_queue_destroy(g.q);
  cnv_spsc_destroy(g.r);
  return 0;
}
