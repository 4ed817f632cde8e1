/* Embedding libcnv: a program built against an INSTALLED libcnv (find_package(cnv) through
 * examples/embed/CMakeLists.txt, or pkg-config). It parses an invocation line, computes its
 * capability id, checks a delegation pattern, pushes/pops records through an MPMC queue, and
 * runs a runtime with one handler: an agent with a minted token submits invocations that the
 * workers run; each answers with a text result, heard through a completion callback, and one
 * blocking invoke prints its answer. Fixed demo keys (an example, never reuse them). Prints "embed ok <version>" and exits 0 when every step gave the expected answer. */
#include <stdatomic.h>
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
  cnv_status st = cnv_invocation_init(&inv, args, 8);
  if (st == CNV_OK) st = cnv_parse_invocation(line, strlen(line), NULL, NULL, &inv);
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

/* Demo keys: the root's libsodium secret key (seed || public key) and the agent's public key. */
static const char root_sk_hex[] =
    "29432a1c14ed32ba2c681560b0d5d548d6021b64d80344015ed93d7dc8d13fa9"
    "0ab83f36ec1563bafb60b6a0bcad503e29088ef95a1c880cfccc3b931d072967";
static const char agent_pk_hex[] = "f616aba899326e04e8e4b7f40d70c660737b5aa270111e88faa36cb5e1243bcc";

static void unhex(const char *hex, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned v = 0;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
}

/* Completions heard by the callback, and the result bytes they carried: counts read after
 * stop (which joins the threads that ran the callbacks), so relaxed adds are enough. */
static atomic_uint heard;
static atomic_ulong heard_bytes;

/* The handler answers "echo <its line>" as text. */
static cnv_status echo(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *result) {
  (void)ctx;
  cnv_status st = cnv_runtime_result_write(result, "echo ", 5);
  return st == CNV_OK ? cnv_runtime_result_write(result, call->line, call->line_len) : st;
}

/* The completion callback: runs once per accepted invocation, on a worker thread. */
static void on_done(void *ctx, const cnv_runtime_completion *c) {
  (void)ctx;
  if (c->kind == CNV_DONE_RAN && c->status == CNV_OK) {
    atomic_fetch_add_explicit(&heard, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&heard_bytes, c->result_len, memory_order_relaxed);
  }
}

/* Mints the agent's token: demo.* with the read_only effect, any swarm. */
static cnv_status mint_token(const uint8_t *sk, const uint8_t *agent, uint8_t *tok, size_t *len) {
  cnv_deleg_caveats cav;
  memset(&cav, 0, sizeof cav);
  cav.expiry = CNV_DELEG_NO_EXPIRY;
  cav.max_uses = CNV_DELEG_UNLIMITED_USES;
  cav.effects = CNV_EFFECT_READ_ONLY;
  cav.n_allow = 1;
  cnv_status st = cnv_deleg_pattern_parse("demo.*", 6, &cav.allow[0]);
  return st != CNV_OK ? st : cnv_deleg_mint_root(sk, agent, &cav, NULL, tok, CNV_DELEG_MAX_TOKEN_BYTES, len);
}

/* Submits 100 invocations with a completion callback (retrying on backpressure), one
 * unknown capability (denied at submit), and one blocking invoke whose answer it prints. */
static cnv_status submit_all(cnv_runtime *rt, uint32_t agent) {
  char line[64];
  cnv_runtime_submit_opts opts = {.on_done = on_done};
  for (int i = 0; i < 100; i++) {
    int n = snprintf(line, sizeof line, "demo.echo --n %d", i);
    opts.correlation = (uint64_t)i;
    cnv_status st;
    while ((st = cnv_runtime_submit_ex(rt, agent, line, (size_t)n, &opts, NULL)) == CNV_EFULL) {}
    if (st != CNV_OK) return st;
  }
  cnv_status st = cnv_runtime_submit(rt, agent, "demo.missing", 12);
  if (st != cnv_runtime_denial_status(CNV_RT_DENY_UNKNOWN_CAPABILITY)) return CNV_EINVAL;
  cnv_runtime_completion c;
  char answer[256];
  st = cnv_runtime_invoke(rt, agent, "demo.echo --n 100", 17, NULL, &c, answer, sizeof answer);
  if (st != CNV_OK) return st;
  if (c.kind != CNV_DONE_RAN) return c.status;
  printf("invoke answered (%s, %zu bytes): %.*s\n", cnv_runtime_done_name(c.kind), c.result_len,
         (int)c.result_len, (const char *)c.result);
  return c.status;
}

static cnv_status runtime_run(cnv_runtime *rt, cnv_runtime_stats *stats) {
  static uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  uint8_t sk[CNV_DELEG_SECRET_BYTES], agent_pk[CNV_DELEG_KEY_BYTES];
  size_t len = 0;
  uint32_t agent = 0;
  unhex(root_sk_hex, sk, sizeof sk);
  unhex(agent_pk_hex, agent_pk, sizeof agent_pk);
  /* an interactive capability: each call may take up to 500 ms, queueing included */
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = echo};
  cnv_status st = cnv_runtime_register(rt, "demo.echo", 9, &spec);
  if (st == CNV_OK) st = cnv_runtime_trust_add(rt, sk + 32);
  if (st == CNV_OK) st = mint_token(sk, agent_pk, tok, &len);
  if (st == CNV_OK) st = cnv_runtime_agent_add(rt, agent_pk, tok, len, &agent);
  if (st == CNV_OK) st = cnv_runtime_start(rt);
  if (st == CNV_OK) st = submit_all(rt, agent);
  cnv_status stop = cnv_runtime_stop(rt, 2000000000u); /* 2 s for the accepted work */
  if (st == CNV_OK) st = stop;
  if (st == CNV_OK) st = cnv_runtime_stats_get(rt, stats);
  return st;
}

static int runtime_step(void) {
  cnv_runtime *rt = NULL;
  cnv_runtime_stats stats;
  cnv_status st = cnv_runtime_create(NULL, &rt);
  if (st == CNV_OK) st = runtime_run(rt, &stats);
  cnv_runtime_destroy(rt);
  if (st != CNV_OK) return fail("runtime", st);
  unsigned n = atomic_load_explicit(&heard, memory_order_relaxed);
  unsigned long bytes = atomic_load_explicit(&heard_bytes, memory_order_relaxed);
  if (stats.executed != 101 || stats.accepted != 101 || stats.completed[CNV_DONE_RAN] != 101 ||
      stats.denied_total != 1 || n != 100)
    return fail("runtime counts", CNV_EINVAL);
  printf("runtime: 101 invocations ran on %u workers (100 answers, %lu bytes, heard by a callback), 1 denied (unknown capability)\n",
         stats.workers, bytes);
  return 0;
}

int main(void) {
  uint64_t id = 0;
  if (parse_step(&id) != 0 || pattern_step() != 0 || queue_step(id) != 0 || runtime_step() != 0)
    return 1;
  printf("embed ok %s\n", cnv_version());
  return 0;
}
