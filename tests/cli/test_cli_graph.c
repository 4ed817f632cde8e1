/* cnv graph, run as a child process:
 * - from token files (`cnv token mint` and `attenuate`) and --capability paths: the holders'
 *   capabilities in --reach, the chain in --path, nodes named by a key's hex prefix; the
 *   default listing, --dominators, --scc and --dot on the same graph;
 * - with the runtime (CNV_CLI_TEST_SWARM): the ledger of `cnv swarm run --ledger`, against
 *   what the test reads from that log itself (public reader, token decode, pattern match):
 *   the root reaches exactly the registered capabilities some live agent's chain from it
 *   grants, and --path's hop count is the shortest such chain plus one;
 * - a ledger written here through the library, with a trust root removed, a capability
 *   unregistered and an agent removed: exactly the live state's nodes and edges;
 * - usage errors exit 2, an unknown node or a missing path exits 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cli_run.h"
#include "cnv/delegation.h"
#include "cnv/ledger.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})

/* The hex text of a key file (first line). */
static void key_hex(const char *path, char *out, size_t cap) {
  assert_true(cli_slurp(path, out, cap));
  out[strcspn(out, "\r\n")] = '\0';
  assert_int_equal(strlen(out), 64);
}

static void from_tokens(void **state) {
  (void)state;
  if (!cli_make_demo_agent(&r)) fail_msg("demo agent: %s", r.err);
  RUN("token", "keygen", "--out", "sub");
  assert_int_equal(r.status, 0);
  RUN("token", "attenuate", "--token", "agent.tok", "--key", "agent.key", "--audience", "sub.pub", "--allow",
      "demo.echo", "--out", "sub.tok");
  if (r.status != 0) fail_msg("attenuate: %s", r.err);
  char root[80], agent[80], sub[80];
  key_hex("root.pub", root, sizeof root);
  key_hex("agent.pub", agent, sizeof agent);
  key_hex("sub.pub", sub, sizeof sub);
#define SRC "--token", "agent.tok", "--token", "sub.tok", "--capability", "demo.echo", "--capability", "demo.time", \
            "--capability", "user.read"
  char prefix[12];
  memcpy(prefix, root, 10);
  prefix[10] = '\0';
  RUN("graph", SRC, "--reach", prefix);
  if (r.status != 0) fail_msg("reach: %s", r.err);
  assert_non_null(strstr(r.out, "capability demo.echo\n"));
  assert_non_null(strstr(r.out, "capability demo.time\n"));
  assert_null(strstr(r.out, "user.read"));
  char line[128];
  snprintf(line, sizeof line, "agent %.16s\n", agent);
  assert_non_null(strstr(r.out, line));
  snprintf(line, sizeof line, "agent %.16s\n", sub);
  assert_non_null(strstr(r.out, line));
  /* the sub-holder reaches demo.echo only */
  RUN("graph", SRC, "--reach", sub);
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "capability demo.echo\n");
  /* the shortest chain to demo.echo goes through the agent, not the sub-holder */
  RUN("graph", SRC, "--path", root, "demo.echo");
  assert_int_equal(r.status, 0);
  snprintf(line, sizeof line, "%.16s -> %.16s -> demo.echo\nhops 2\n", root, agent);
  assert_string_equal(r.out, line);
  RUN("graph", "show", SRC, "--weighted", prefix, "demo.time");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "weight 2\n"));
  RUN("graph", SRC, "--path", "demo.echo", root);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.out, "no path\n");
  /* the listing: 3 keys, 3 capabilities; 2 key edges, agent -> 2, sub -> 1 */
  RUN("graph", SRC);
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "nodes 6 edges 5\n"));
  snprintf(line, sizeof line, "issuer %s\n", root);
  assert_non_null(strstr(r.out, line));
  RUN("graph", SRC, "--dominators", root);
  assert_int_equal(r.status, 0);
  snprintf(line, sizeof line, "%.16s idom %.16s\n", sub, agent);
  assert_non_null(strstr(r.out, line));
  snprintf(line, sizeof line, "demo.echo idom %.16s\n", agent);
  assert_non_null(strstr(r.out, line));
  RUN("graph", SRC, "--scc");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "components 6\n"));
  RUN("graph", SRC, "--dot");
  assert_int_equal(r.status, 0);
  assert_true(strncmp(r.out, "digraph cnv {\n", 14) == 0);
  assert_non_null(strstr(r.out, "[label=\"demo.echo\", shape=box];"));
  /* errors */
  RUN("graph", SRC, "--reach", "nothing.here");
  CLI_EXPECT(&r, 1, "nothing.here: no such node");
  RUN("graph", SRC, "--reach", "");
  assert_int_equal(r.status, 2);
  RUN("graph", "--token", "missing.tok", "--reach", prefix);
  CLI_EXPECT(&r, 1, "missing.tok");
  RUN("graph", "--capability", "Bad.Path");
  CLI_EXPECT(&r, 1, "Bad.Path");
  RUN("graph");
  CLI_EXPECT(&r, 2, "DIR");
  RUN("graph", SRC, "--scc", "--dot");
  CLI_EXPECT(&r, 2, "exclude each other");
  RUN("graph", SRC, "--path", prefix);
  CLI_EXPECT(&r, 2, "TO is required");
  RUN("graph", SRC, "--bogus");
  assert_int_equal(r.status, 2);
  RUN("graph", "--help");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "--dominators ROOT"));
}

/* ---- a ledger written here: removals count ---- */

typedef struct kp {
  uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  char hex[2 * crypto_sign_PUBLICKEYBYTES + 1];
} kp;

static void kp_make(kp *k) {
  crypto_sign_keypair(k->pk, k->sk);
  for (size_t i = 0; i < sizeof k->pk; i++) sprintf(k->hex + 2 * i, "%02x", k->pk[i]);
}

static void append(cnv_ledger *l, uint16_t kind, uint16_t detail, uint32_t agent, uint64_t cap, const uint8_t *key,
                   const void *payload, size_t len) {
  cnv_ledger_entry e;
  memset(&e, 0, sizeof e);
  e.kind = kind;
  e.detail = detail;
  e.agent = agent;
  e.capability = cap;
  if (key) memcpy(e.key, key, sizeof e.key);
  e.payload = payload;
  e.payload_len = (uint32_t)len;
  assert_int_equal(cnv_ledger_append(l, &e, NULL), CNV_OK);
}

static void append_token(cnv_ledger *l, uint32_t agent, const kp *issuer, const kp *holder, const char *allow) {
  cnv_deleg_caveats c;
  memset(&c, 0, sizeof c);
  c.expiry = CNV_DELEG_NO_EXPIRY;
  c.max_uses = CNV_DELEG_UNLIMITED_USES;
  c.depth = 3;
  c.n_allow = 1;
  assert_int_equal(cnv_deleg_pattern_parse(allow, strlen(allow), &c.allow[0]), CNV_OK);
  static uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  assert_int_equal(cnv_deleg_mint_root(issuer->sk, holder->pk, &c, NULL, tok, sizeof tok, &len), CNV_OK);
  append(l, CNV_LREC_AGENT, 0, agent, 0, holder->pk, tok, len);
}

static void from_written_ledger(void **state) {
  (void)state;
  assert_true(sodium_init() >= 0);
  kp root1, root2, a1, a2, a3, node;
  kp_make(&root1);
  kp_make(&root2);
  kp_make(&a1);
  kp_make(&a2);
  kp_make(&a3);
  kp_make(&node);
  cnv_ledger_config cfg;
  cnv_ledger_config_default(&cfg);
  cfg.dir = "w.ledger";
  cfg.secret_key = node.sk;
  cnv_ledger *l = NULL;
  assert_int_equal(cnv_ledger_open(&cfg, &l, NULL), CNV_OK);
  append(l, CNV_LREC_TRUST, 0, 0, 0, root1.pk, NULL, 0);
  append(l, CNV_LREC_TRUST, 0, 0, 0, root2.pk, NULL, 0);
  append(l, CNV_LREC_TRUST, 1, 0, 0, root2.pk, NULL, 0); /* root2 no longer trusted */
  append(l, CNV_LREC_REGISTER, 0, 0, 1, NULL, "fs.read", 7);
  append(l, CNV_LREC_REGISTER, 0, 0, 2, NULL, "fs.write", 8);
  append(l, CNV_LREC_REGISTER, 0xFFFF, 0, 2, NULL, NULL, 0); /* fs.write unregistered */
  append(l, CNV_LREC_REGISTER, 0, 0, 3, NULL, "net.get", 7);
  append_token(l, 1, &root1, &a1, "fs.*");
  append_token(l, 2, &root1, &a2, "net.get");
  append(l, CNV_LREC_AGENT, 1, 2, 0, a2.pk, NULL, 0); /* agent 2 removed */
  append_token(l, 3, &root2, &a3, "fs.read");
  cnv_ledger_close(l);

  RUN("graph", "w.ledger");
  if (r.status != 0) fail_msg("graph: %s", r.err);
  char want[2048];
  snprintf(want, sizeof want,
           "nodes 6 edges 4\nissuer %s\ncapability fs.read\ncapability net.get\nagent %s\nissuer %s\nagent %s\n"
           "%.16s -> %.16s 1\n%.16s -> fs.read 1\n%.16s -> %.16s 1\n%.16s -> fs.read 1\n",
           root1.hex, a1.hex, root2.hex, a3.hex, root1.hex, a1.hex, a1.hex, root2.hex, a3.hex, a3.hex);
  assert_string_equal(r.out, want);
  RUN("graph", "w.ledger", "--reach", root1.hex);
  assert_int_equal(r.status, 0);
  snprintf(want, sizeof want, "capability fs.read\nagent %.16s\n", a1.hex);
  assert_string_equal(r.out, want);
  RUN("graph", "w.ledger", "--path", root1.hex, "net.get");
  assert_int_equal(r.status, 1);
  assert_string_equal(r.out, "no path\n");
  RUN("graph", "w.ledger", "--reach", a2.hex);
  CLI_EXPECT(&r, 1, "no such node");
}

#ifdef CNV_CLI_TEST_SWARM
/* What the test itself reads from a runtime's log. */
#define MAXA 128
static struct {
  uint8_t root[CNV_LEDGER_KEY_BYTES];
  uint32_t n_agents;
  uint32_t handle[MAXA];
  bool live[MAXA];
  cnv_deleg_token tok[MAXA];
  uint32_t n_caps;
  char path[MAXA][256];
  uint64_t cap_id[MAXA];
  bool cap_live[MAXA];
} lg;

static void read_log(const char *dir) {
  cnv_ledger_reader *rd = NULL;
  uint64_t bad = 0;
  assert_int_equal(cnv_ledger_reader_open(dir, &rd, &bad), CNV_OK);
  uint32_t roots = 0;
  for (uint64_t i = 0; i < cnv_ledger_reader_size(rd); i++) {
    cnv_ledger_entry e;
    assert_int_equal(cnv_ledger_reader_get(rd, i, &e, NULL), CNV_OK);
    if (e.kind == CNV_LREC_TRUST && e.detail == 0) {
      memcpy(lg.root, e.key, sizeof lg.root);
      roots++;
    } else if (e.kind == CNV_LREC_AGENT) {
      for (uint32_t a = 0; a < lg.n_agents; a++) {
        if (lg.handle[a] == e.agent) lg.live[a] = false;
      }
      if (e.detail == 1) continue;
      assert_true(lg.n_agents < MAXA);
      uint32_t a = lg.n_agents++;
      lg.handle[a] = e.agent;
      lg.live[a] = true;
      assert_int_equal(cnv_deleg_token_decode(e.payload, e.payload_len, &lg.tok[a], NULL), CNV_OK);
    } else if (e.kind == CNV_LREC_REGISTER) {
      for (uint32_t c = 0; c < lg.n_caps; c++) {
        if (lg.cap_id[c] == e.capability) lg.cap_live[c] = false;
      }
      if (e.detail == 0xFFFF) continue;
      assert_true(lg.n_caps < MAXA && e.payload_len < 256);
      uint32_t c = lg.n_caps++;
      memcpy(lg.path[c], e.payload, e.payload_len);
      lg.cap_id[c] = e.capability;
      lg.cap_live[c] = true;
    }
  }
  assert_int_equal(roots, 1); /* the scenario trusts one root */
  cnv_ledger_reader_close(rd);
}

/* Whether every link of t allows path and none forbids it. */
static bool grants(const cnv_deleg_token *t, const char *path) {
  cnv_deleg_cap cap;
  if (cnv_deleg_cap_from_path(path, strlen(path), &cap) != CNV_OK) return false;
  for (uint8_t i = 0; i < t->n_links; i++) {
    const cnv_deleg_caveats *c = &t->links[i].caveats;
    bool allowed = false;
    for (uint8_t j = 0; j < c->n_forbid; j++) {
      if (cnv_deleg_pattern_matches(&c->forbid[j], &cap)) return false;
    }
    for (uint8_t j = 0; j < c->n_allow; j++) allowed |= cnv_deleg_pattern_matches(&c->allow[j], &cap);
    if (!allowed) return false;
  }
  return true;
}

static void from_ledger(void **state) {
  (void)state;
  RUN("token", "keygen", "--out", "run");
  assert_int_equal(r.status, 0);
  RUN("swarm", "run", "--count", "1000", "--agents", "10", "--seed", "5", "--quiet", "--ledger", "run.ledger",
      "--ledger-key", "run.key");
  if (r.status != 0) fail_msg("swarm run --ledger: %s", r.err);
  read_log("run.ledger");
  char root[65];
  for (size_t i = 0; i < sizeof lg.root; i++) sprintf(root + 2 * i, "%02x", lg.root[i]);
  RUN("graph", "run.ledger", "--reach", root);
  if (r.status != 0) fail_msg("reach: %s", r.err);
  uint32_t reached = 0;
  for (uint32_t c = 0; c < lg.n_caps; c++) {
    if (!lg.cap_live[c]) continue;
    uint32_t hops = UINT32_MAX;
    for (uint32_t a = 0; a < lg.n_agents; a++) {
      const cnv_deleg_token *t = &lg.tok[a];
      if (!lg.live[a] || memcmp(t->links[0].issuer, lg.root, sizeof lg.root) != 0 || !grants(t, lg.path[c])) continue;
      if ((uint32_t)t->n_links + 1 < hops) hops = (uint32_t)t->n_links + 1;
    }
    char line[300];
    snprintf(line, sizeof line, "capability %s\n", lg.path[c]);
    if (hops == UINT32_MAX) {
      if (strstr(r.out, line)) fail_msg("%s reached, but no chain from the root grants it", lg.path[c]);
      continue;
    }
    if (!strstr(r.out, line)) fail_msg("%s not reached, but a chain of %u links grants it", lg.path[c], hops - 1);
    reached++;
    static cli_result p;
    cli_run(&p, (const char *const[]){"graph", "run.ledger", "--path", root, lg.path[c], NULL});
    assert_int_equal(p.status, 0);
    snprintf(line, sizeof line, "\nhops %u\n", hops);
    if (!strstr(p.out, line)) fail_msg("--path to %s: %s (expected %u hops)", lg.path[c], p.out, hops);
    assert_true(strncmp(p.out, root, 16) == 0);
  }
  assert_true(reached > 0);
  /* a capability no agent reaches back from */
  RUN("graph", "run.ledger", "--path", lg.path[0], root);
  assert_int_equal(r.status, 1);
  RUN("graph", "nowhere.ledger");
  assert_int_equal(r.status, 1);
}
#endif

int main(void) {
  cli_tmpdir();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(from_tokens),
      cmocka_unit_test(from_written_ledger),
#ifdef CNV_CLI_TEST_SWARM
      cmocka_unit_test(from_ledger),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
