/* Test support: the crdt replicator's in-process hub (crdt_hub.h). */
#include "support/crdt_hub.h"

#include <stdlib.h>
#include <string.h>

typedef struct hub_msg {
  size_t from, to;
  uint8_t *bytes;
  size_t len;
} hub_msg;

typedef struct hub_port {
  crdt_hub *hub;
  size_t index;
  uint64_t id;
} hub_port;

struct crdt_hub {
  uint64_t rng;
  unsigned loss, dup;
  bool reorder;
  hub_port ports[CRDT_HUB_MAX];
  cnv_crdt_repl *repl[CRDT_HUB_MAX];
  bool cut[CRDT_HUB_MAX][CRDT_HUB_MAX];
  hub_msg *q;
  size_t n, cap;
};

uint64_t crdt_hub_rand(crdt_hub *h) { /* splitmix64 */
  uint64_t z = (h->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

crdt_hub *crdt_hub_create(uint64_t seed, unsigned loss_pct, unsigned dup_pct, bool reorder) {
  crdt_hub *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->rng = seed;
  h->loss = loss_pct;
  h->dup = dup_pct;
  h->reorder = reorder;
  for (size_t i = 0; i < CRDT_HUB_MAX; i++) h->ports[i] = (hub_port){.hub = h, .index = i};
  return h;
}

void crdt_hub_destroy(crdt_hub *h) {
  if (!h) return;
  for (size_t i = 0; i < h->n; i++) free(h->q[i].bytes);
  free(h->q);
  free(h);
}

void crdt_hub_set_faults(crdt_hub *h, unsigned loss_pct, unsigned dup_pct) {
  h->loss = loss_pct;
  h->dup = dup_pct;
}

static cnv_status enqueue(crdt_hub *h, size_t from, size_t to, const uint8_t *msg, size_t len) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 64;
    hub_msg *q = realloc(h->q, cap * sizeof *q);
    if (!q) return CNV_ENOMEM;
    h->q = q;
    h->cap = cap;
  }
  uint8_t *copy = malloc(len);
  if (!copy) return CNV_ENOMEM;
  memcpy(copy, msg, len);
  h->q[h->n++] = (hub_msg){.from = from, .to = to, .bytes = copy, .len = len};
  return CNV_OK;
}

static cnv_status hub_send(void *ctx, uint64_t to, const uint8_t *msg, size_t len) {
  hub_port *p = ctx;
  crdt_hub *h = p->hub;
  for (size_t j = 0; j < CRDT_HUB_MAX; j++) {
    if (j == p->index || !h->repl[j] || (to != 0 && h->ports[j].id != to) || h->cut[p->index][j]) continue;
    if (crdt_hub_rand(h) % 100 < h->loss) continue;
    unsigned copies = crdt_hub_rand(h) % 100 < h->dup ? 2 : 1;
    for (unsigned c = 0; c < copies; c++) {
      cnv_status st = enqueue(h, p->index, j, msg, len);
      if (st != CNV_OK) return st;
    }
  }
  return CNV_OK;
}

cnv_crdt_transport crdt_hub_port(crdt_hub *h, size_t i, uint64_t id) {
  h->ports[i].id = id;
  return (cnv_crdt_transport){.send = hub_send, .ctx = &h->ports[i]};
}

void crdt_hub_attach(crdt_hub *h, size_t i, cnv_crdt_repl *r) { h->repl[i] = r; }

void crdt_hub_cut(crdt_hub *h, size_t i, size_t j, bool cut) { h->cut[i][j] = cut; }

size_t crdt_hub_deliver(crdt_hub *h, size_t *errors) {
  hub_msg *q = h->q;
  size_t n = h->n;
  h->q = NULL;
  h->n = h->cap = 0;
  if (h->reorder)
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
      size_t j = (size_t)(crdt_hub_rand(h) % i);
      hub_msg t = q[i - 1];
      q[i - 1] = q[j];
      q[j] = t;
    }
  size_t arrived = 0;
  for (size_t i = 0; i < n; i++) {
    cnv_crdt_repl *r = h->repl[q[i].to];
    if (r) {
      cnv_status st = cnv_crdt_repl_receive(r, h->ports[q[i].from].id, q[i].bytes, q[i].len);
      if (st != CNV_OK && errors) (*errors)++;
      arrived++;
    }
    free(q[i].bytes);
  }
  free(q);
  return arrived;
}
