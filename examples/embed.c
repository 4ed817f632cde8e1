/* Embedding libcnv: a program built against an INSTALLED libcnv (find_package(cnv) through
 * examples/embed/CMakeLists.txt, or pkg-config). It parses an invocation line, computes its
 * capability id, checks a delegation pattern, and pushes/pops records through an MPMC queue.
 * Prints "embed ok <version>" and exits 0 when every step gave the expected answer. */
#include <stdio.h>
#include <string.h>

#include <cnv.h>

typedef struct record {
  uint64_t capability;
  uint64_t seq;
} record;

static int fail(const char *what, cnv_status st) {
  fprintf(stderr, "embed: %s: %s (%s)\n", what, cnv_strerror(st), cnv_status_name(st));
  return 1;
}

/* Parses the line and checks path, flag and id. */
static int parse_step(uint64_t *id) {
  static const char line[] = "node.drain --force=yes --timeout 30 node-7";
  cnv_arg args[8];
  cnv_invocation inv;
  cnv_invocation_init(&inv, args, 8);
  cnv_status st = cnv_parse_invocation(line, strlen(line), NULL, NULL, &inv);
  if (st != CNV_OK) return fail("parse", st);
  if (inv.path.len != 10 || memcmp(inv.path.ptr, "node.drain", 10) != 0 || inv.count != 3)
    return fail("parse result", CNV_EINVAL);
  uint64_t direct = 0;
  if ((st = cnv_invocation_id(&inv, id)) != CNV_OK) return fail("invocation id", st);
  if ((st = cnv_capability_id("node.drain", 10, &direct)) != CNV_OK) return fail("capability id", st);
  if (direct != *id) return fail("ids differ", CNV_EINVAL);
  printf("parsed %.*s with %u args, capability id %016llx\n", (int)inv.path.len, inv.path.ptr,
         inv.count, (unsigned long long)*id);
  return 0;
}

/* A prefix pattern node.* matches node.drain and not fs.read. */
static int pattern_step(void) {
  cnv_deleg_pattern p;
  cnv_deleg_cap yes, no;
  cnv_status st = cnv_deleg_pattern_parse("node.*", 6, &p);
  if (st == CNV_OK) st = cnv_deleg_cap_from_path("node.drain", 10, &yes);
  if (st == CNV_OK) st = cnv_deleg_cap_from_path("fs.read", 7, &no);
  if (st != CNV_OK) return fail("pattern", st);
  if (!cnv_deleg_pattern_matches(&p, &yes) || cnv_deleg_pattern_matches(&p, &no))
    return fail("pattern match", CNV_EINVAL);
  printf("pattern node.* matches node.drain, not fs.read\n");
  return 0;
}

/* Fills a 64-record queue until CNV_EFULL, then drains it in FIFO order. */
static int queue_step(uint64_t id) {
  cnv_queue *q = NULL;
  cnv_status st = cnv_queue_create(64, sizeof(record), &q);
  if (st != CNV_OK) return fail("queue create", st);
  uint64_t pushed = 0, popped = 0;
  record r = {id, 0};
  while ((st = cnv_queue_try_push_mpmc(q, &r)) == CNV_OK) r.seq = ++pushed;
  int rc = st == CNV_EFULL && pushed == 64 ? 0 : fail("queue push", st);
  while (rc == 0 && (st = cnv_queue_try_pop_mpmc(q, &r)) == CNV_OK) {
    if (r.seq != popped++ || r.capability != id) rc = fail("queue order", CNV_EINVAL);
  }
  if (rc == 0 && (st != CNV_EEMPTY || popped != pushed)) rc = fail("queue pop", st);
  cnv_queue_destroy(q);
  if (rc == 0) printf("queue: %llu records pushed and popped in order\n", (unsigned long long)popped);
  return rc;
}

int main(void) {
  uint64_t id = 0;
  if (parse_step(&id) != 0 || pattern_step() != 0 || queue_step(id) != 0) return 1;
  printf("embed ok %s\n", cnv_version());
  return 0;
}
