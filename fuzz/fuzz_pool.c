/* Fuzz target: a byte script of pool and arena operations checked against a sequential
 * model. Pool: which slots are live, their generations, which free slot sits in which
 * cache, the exact status of every acquire/release/get (valid, stale, forged handles) and
 * that contexts keep their bytes. Arenas: exact addresses (bump model), alignment, no
 * overlap (every block keeps its pattern), zeroing by reset, exhaustion. abort() on any
 * divergence.
 *
 * Input: byte 0 picks the pool capacity (1..64), byte 1 the context size; then opcodes,
 * each followed by the parameter bytes it reads (missing bytes read as 0). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/hotpath.h>

#if CNV_ARENA_POISONING
#include <sanitizer/asan_interface.h>
#endif

enum { MAX_CAP = 64,
       ARENA_BYTES = 2048,
       MAX_BLOCKS = 256,
       MAX_RETIRED = 64 };
enum { SHARED,
       CACHE0,
       CACHE1,
       LIVE };

typedef struct script {
  const uint8_t *d;
  size_t n, at;
} script;

static uint8_t next(script *s) { return s->at < s->n ? s->d[s->at++] : 0; }
static uint32_t next32(script *s) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = v << 8 | next(s);
  return v;
}

typedef struct block {
  unsigned char *p;
  size_t size;
  unsigned char pattern;
} block;

typedef struct model {
  cnv_pool *pool;
  uint32_t cap, ctx;
  cnv_pool_cache cache[2];
  int where[MAX_CAP];              /* SHARED, CACHE0, CACHE1 or LIVE */
  uint32_t gen[MAX_CAP];           /* current generation of each slot */
  unsigned char stamp[MAX_CAP];    /* byte the context was last filled with */
  cnv_handle retired[MAX_RETIRED]; /* released handles (a ring) */
  unsigned n_retired, retired_at;
  cnv_arena arena;
  block blocks[MAX_BLOCKS];
  unsigned n_blocks;
  cnv_shared_arena shared;
  size_t shared_used;
  uint64_t shared_gen;
  unsigned char *arena_mem, *shared_mem;
} model;

static void require(int ok) {
  if (!ok) abort();
}

/* ---- pool ----------------------------------------------------------------------------- */

static unsigned count_where(const model *m, int w) {
  unsigned n = 0;
  for (uint32_t i = 0; i < m->cap; i++) n += m->where[i] == w;
  return n;
}

/* The caches' real contents must be exactly the slots the model places there. */
static void check_caches(const model *m) {
  for (int k = 0; k < 2; k++) {
    const cnv_pool_cache *c = &m->cache[k];
    require(c->count <= CNV_POOL_CACHE_SLOTS && c->count == count_where(m, CACHE0 + k));
    for (uint32_t i = 0; i < c->count; i++)
      require(c->slots[i] < m->cap && m->where[c->slots[i]] == CACHE0 + k);
  }
  require(cnv_pool_in_use(m->pool) == count_where(m, LIVE));
}

/* After a call that may move slots between a cache and the shared list, adopt what the
 * cache now holds: new members must come from the shared list, leavers go back to it. */
static void resync_cache(model *m, int k) {
  int in[MAX_CAP] = {0};
  const cnv_pool_cache *c = &m->cache[k];
  require(c->count <= CNV_POOL_CACHE_SLOTS);
  for (uint32_t i = 0; i < c->count; i++) {
    require(c->slots[i] < m->cap && !in[c->slots[i]]);
    in[c->slots[i]] = 1;
  }
  for (uint32_t i = 0; i < m->cap; i++) {
    if (in[i]) {
      require(m->where[i] == SHARED || m->where[i] == CACHE0 + k);
      m->where[i] = CACHE0 + k;
    } else if (m->where[i] == CACHE0 + k) {
      m->where[i] = SHARED;
    }
  }
}

static void *slot_ptr(model *m, cnv_handle h) {
  void *v = NULL;
  require(cnv_pool_get(m->pool, h, &v) == CNV_OK && v && (uintptr_t)v % CNV_CACHELINE == 0);
  return v;
}

static void op_acquire(model *m, script *s) {
  int k = next(s) % 3; /* 0, 1: a cache; 2: none */
  cnv_pool_cache *c = k < 2 ? &m->cache[k] : NULL;
  unsigned avail = count_where(m, SHARED) + (c ? count_where(m, CACHE0 + k) : 0);
  cnv_handle h = 1;
  cnv_status st = cnv_pool_acquire(m->pool, c, &h);
  if (avail == 0) {
    require(st == CNV_EPOOL_EXHAUSTED && h == CNV_HANDLE_INVALID);
    return;
  }
  require(st == CNV_OK);
  uint32_t idx = (uint32_t)h - 1;
  require(idx < m->cap && m->where[idx] != LIVE && (h >> 32) == m->gen[idx] + 1);
  /* From the cache while it holds any, else from the shared list (directly or by refill). */
  if (c && count_where(m, CACHE0 + k) > 0)
    require(m->where[idx] == CACHE0 + k);
  else
    require(m->where[idx] == SHARED);
  if (c) resync_cache(m, k);
  m->where[idx] = LIVE;
  m->gen[idx]++;
  unsigned char *v = slot_ptr(m, h);
  for (uint32_t b = 0; b < m->ctx; b++) require(v[b] == m->stamp[idx]); /* kept its bytes */
  m->stamp[idx] = next(s);
  memset(v, m->stamp[idx], m->ctx);
}

/* Status the pool must give for handle h, from the model alone. */
static cnv_status expect(const model *m, cnv_handle h) {
  uint32_t idx = (uint32_t)h - 1, g = (uint32_t)(h >> 32);
  if (idx >= m->cap || (g & 1u) == 0) return CNV_EBAD_HANDLE;
  if (g == m->gen[idx]) return CNV_OK; /* odd current generation: live */
  return (int32_t)(g - m->gen[idx]) > 0 ? CNV_EBAD_HANDLE : CNV_ESTALE_HANDLE;
}

static cnv_handle pick_handle(model *m, script *s) {
  uint8_t kind = next(s) % 3, sel = next(s);
  if (kind == 0) { /* a live one, if any */
    for (uint32_t i = 0; i < m->cap; i++) {
      uint32_t j = (i + sel) % m->cap;
      if (m->where[j] == LIVE) return ((cnv_handle)m->gen[j] << 32) | (j + 1);
    }
  }
  if (kind == 1 && m->n_retired) return m->retired[sel % m->n_retired];
  uint32_t lo = next32(s), hi = next32(s);
  if (sel & 1) lo %= m->cap + 2; /* often near the valid range */
  if (sel & 2) hi = m->gen[lo % m->cap] + (sel >> 4) - 8;
  return ((cnv_handle)hi << 32) | lo;
}

/* Selector 0/1: cnv_pool_release into cache 0/1, 2: into the shared list, 3/4: the owner's
 * release into cache 0/1 (same expected results: it differs only under racing releases). */
static void op_release(model *m, script *s) {
  int k = next(s) % 5, owned = k >= 3;
  if (owned) k -= 3;
  cnv_pool_cache *c = k < 2 ? &m->cache[k] : NULL;
  cnv_handle h = pick_handle(m, s);
  cnv_status want = expect(m, h);
  unsigned char *v = want == CNV_OK ? slot_ptr(m, h) : NULL;
  for (uint32_t b = 0; v && b < m->ctx; b++) require(v[b] == m->stamp[(uint32_t)h - 1]);
  if (owned)
    require(cnv_pool_release_owned(m->pool, c, h) == want);
  else
    require(cnv_pool_release(m->pool, c, h) == want);
  if (want != CNV_OK) return;
  uint32_t idx = (uint32_t)h - 1;
  m->gen[idx]++;
  m->where[idx] = SHARED;
  if (c) resync_cache(m, k);
  require(!c || m->where[idx] == CACHE0 + k); /* a released slot lands in that cache */
  m->retired[m->retired_at++ % MAX_RETIRED] = h;
  if (m->n_retired < MAX_RETIRED) m->n_retired++;
}

static void op_get(model *m, script *s) {
  cnv_handle h = pick_handle(m, s);
  void *v = &v;
  cnv_status want = expect(m, h);
  require(cnv_pool_get(m->pool, h, &v) == want);
  require((want == CNV_OK) == (v != NULL));
}

static void op_flush(model *m, script *s) {
  int k = next(s) & 1;
  cnv_pool_cache_flush(m->pool, &m->cache[k]);
  require(m->cache[k].count == 0);
  resync_cache(m, k);
}

/* ---- arenas --------------------------------------------------------------------------- */

static size_t pick_align(script *s) {
  uint8_t a = next(s);
  if (a >= 240) return (size_t)(a - 240) * 3; /* 0, 3, 6, ...: mostly invalid */
  return (size_t)1 << (a % 14);
}

static void fill_block(model *m, unsigned char *p, size_t size, script *s) {
  for (size_t i = 0; i < size; i++) require(p[i] == 0); /* fresh bytes are zero */
  unsigned char pat = (unsigned char)(next(s) | 1);
  memset(p, pat, size);
  if (m->n_blocks < MAX_BLOCKS) m->blocks[m->n_blocks++] = (block){p, size, pat};
}

static void check_blocks(const model *m) {
  for (unsigned i = 0; i < m->n_blocks; i++) {
    const block *b = &m->blocks[i];
    for (size_t j = 0; j < b->size; j++) require(b->p[j] == b->pattern);
  }
}

static void op_arena_alloc(model *m, script *s) {
  size_t size = next(s), align = pick_align(s);
  if (size >= 250) size = SIZE_MAX - (size - 250); /* sizes that overflow */
  cnv_arena before = m->arena;
  void *p = &p;
  cnv_status st = cnv_arena_alloc(&m->arena, size, align, &p);
  if (align == 0 || (align & (align - 1))) {
    require(st == CNV_EALIGN && !p && m->arena.used == before.used);
    return;
  }
  uintptr_t base = (uintptr_t)before.base;
  uintptr_t q = (base + before.used + align - 1) & ~(uintptr_t)(align - 1);
  if (q - base > before.size || size > before.size - (q - base)) {
    require(st == CNV_EARENA_EXHAUSTED && !p && m->arena.used == before.used);
    return;
  }
  require(st == CNV_OK && (uintptr_t)p == q && m->arena.used == q - base + size);
  fill_block(m, p, size, s);
}

static void op_arena_reset(model *m) {
  check_blocks(m);
  uint64_t gen = m->arena.generation;
  /* ASan poisons in 8-byte granules: a trailing partial granule stays addressable. */
  size_t poisoned_end = m->arena.used & ~(size_t)7;
  cnv_arena_reset(&m->arena);
  require(m->arena.used == 0 && m->arena.generation == gen + 1);
  for (unsigned i = 0; i < m->n_blocks; i++) {
#if CNV_ARENA_POISONING
    if (m->blocks[i].size && (size_t)(m->blocks[i].p - m->arena_mem) < poisoned_end)
      require(__asan_address_is_poisoned(m->blocks[i].p));
#else
    (void)poisoned_end;
    for (size_t j = 0; j < m->blocks[i].size; j++) require(m->blocks[i].p[j] == 0);
#endif
  }
  m->n_blocks = 0;
}

static void op_shared_alloc(model *m, script *s) {
  size_t size = next(s), align = pick_align(s), cap = ARENA_BYTES;
  void *p = &p;
  cnv_status st = cnv_shared_arena_alloc(&m->shared, size, align, &p);
  if (align == 0 || (align & (align - 1))) {
    require(st == CNV_EALIGN && !p);
    return;
  }
  if (size > cap || align - 1 > cap - size || m->shared_used + size + align - 1 > cap) {
    require(st == CNV_EARENA_EXHAUSTED && !p);
  } else {
    unsigned char *lo = m->shared_mem + m->shared_used;
    m->shared_used += size + align - 1;
    require(st == CNV_OK && (uintptr_t)p % align == 0 && (unsigned char *)p >= lo &&
            (unsigned char *)p + size <= m->shared_mem + m->shared_used);
    memset(p, 0xAB, size); /* for the reset to zero */
  }
  require(cnv_shared_arena_used(&m->shared) == m->shared_used);
}

static void op_shared_reset(model *m) {
  cnv_shared_arena_reset(&m->shared);
  m->shared_gen++;
  for (size_t i = 0; i < m->shared_used; i++) require(m->shared_mem[i] == 0);
  m->shared_used = 0;
  require(cnv_shared_arena_generation(&m->shared) == m->shared_gen);
  require(cnv_shared_arena_used(&m->shared) == 0);
}

/* ---- driver --------------------------------------------------------------------------- */

static int setup(model *m, script *s) {
  memset(m, 0, sizeof *m);
  m->cap = 1u << (next(s) % 7);
  m->ctx = 1u + next(s);
  if (cnv_pool_create(m->cap, m->ctx, &m->pool) != CNV_OK) return -1;
  m->arena_mem = calloc(1, ARENA_BYTES);
  m->shared_mem = calloc(1, ARENA_BYTES);
  if (!m->arena_mem || !m->shared_mem) return -1;
  require(cnv_arena_init(&m->arena, m->arena_mem, ARENA_BYTES) == CNV_OK);
  require(cnv_shared_arena_init(&m->shared, m->shared_mem, ARENA_BYTES) == CNV_OK);
  cnv_pool_cache_init(&m->cache[0]);
  cnv_pool_cache_init(&m->cache[1]);
  return 0;
}

static void teardown(model *m) {
  cnv_arena_fini(&m->arena);
  free(m->arena_mem);
  free(m->shared_mem);
  cnv_pool_destroy(m->pool);
}

static void step(model *m, script *s) {
  switch (next(s) % 10) {
    case 0:
    case 1:
      op_acquire(m, s);
      break;
    case 2:
    case 3:
      op_release(m, s);
      break;
    case 4:
      op_get(m, s);
      break;
    case 5:
      op_flush(m, s);
      break;
    case 6:
      op_arena_alloc(m, s);
      break;
    case 7:
      op_arena_reset(m);
      break;
    case 8:
      op_shared_alloc(m, s);
      break;
    default:
      op_shared_reset(m);
      break;
  }
  check_caches(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static model m;
  script s = {data, size, 0};
  if (setup(&m, &s) == 0)
    while (s.at < s.n) step(&m, &s);
  check_blocks(&m);
  teardown(&m);
  return 0;
}
