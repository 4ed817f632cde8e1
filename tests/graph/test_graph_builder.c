/* The graph builder: label dedupe, anonymous nodes, CSR order, parallel edges, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <cnv/graph.h>

static void test_dedupe(void **state) {
  (void)state;
  cnv_graph_builder *b = NULL;
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  uint32_t a, a2, c, x, y, e;
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_AGENT, "alice", 5, &a), CNV_OK);
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_AGENT, "alice", 5, &a2), CNV_OK);
  assert_int_equal(a, a2);
  /* same label, other kind: another node */
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_ISSUER, "alice", 5, &c), CNV_OK);
  assert_int_not_equal(a, c);
  /* a prefix is another label */
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_AGENT, "alic", 4, &x), CNV_OK);
  assert_int_not_equal(a, x);
  /* anonymous nodes are new every time; the empty label is deduplicated */
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, NULL, 0, &x), CNV_OK);
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, NULL, 0, &y), CNV_OK);
  assert_int_not_equal(x, y);
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, "", 0, &e), CNV_OK);
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, "", 0, &x), CNV_OK);
  assert_int_equal(e, x);
  assert_int_equal(cnv_graph_builder_capability(b, "/fs/read", 8, &x), CNV_OK);
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_CAPABILITY, "/fs/read", 8, &y), CNV_OK);
  assert_int_equal(x, y);
  /* many nodes: the table grows and still finds every one */
  char buf[32];
  uint32_t ids[3000];
  for (int i = 0; i < 3000; i++) {
    int len = snprintf(buf, sizeof buf, "node-%d", i);
    assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, buf, (size_t)len, &ids[i]), CNV_OK);
  }
  for (int i = 0; i < 3000; i++) {
    int len = snprintf(buf, sizeof buf, "node-%d", i);
    assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, buf, (size_t)len, &x), CNV_OK);
    assert_int_equal(x, ids[i]);
  }
  cnv_graph *g = NULL;
  assert_int_equal(cnv_graph_freeze(b, &g), CNV_OK);
  assert_int_equal(cnv_graph_nodes(g), 3000 + 7);
  assert_int_equal(cnv_graph_edges(g), 0);
  int kind;
  const char *label;
  size_t len;
  assert_int_equal(cnv_graph_node_info(g, a, &kind, &label, &len), CNV_OK);
  assert_int_equal(kind, CNV_GRAPH_AGENT);
  assert_int_equal(len, 5);
  assert_memory_equal(label, "alice", 5);
  assert_int_equal(cnv_graph_find(g, CNV_GRAPH_ISSUER, "alice", 5, &x), CNV_OK);
  assert_int_equal(x, c);
  assert_int_equal(cnv_graph_find(g, CNV_GRAPH_CAPABILITY, "alice", 5, &x), CNV_ENOTFOUND);
  assert_int_equal(cnv_graph_find(g, CNV_GRAPH_OTHER, "", 0, &x), CNV_OK);
  assert_int_equal(x, e);
  for (int i = 0; i < 3000; i += 7) {
    int l = snprintf(buf, sizeof buf, "node-%d", i);
    assert_int_equal(cnv_graph_find(g, CNV_GRAPH_OTHER, buf, (size_t)l, &x), CNV_OK);
    assert_int_equal(x, ids[i]);
    assert_int_equal(cnv_graph_node_info(g, x, &kind, &label, &len), CNV_OK);
    assert_int_equal(len, (size_t)l);
    assert_memory_equal(label, buf, len);
  }
  assert_int_equal(cnv_graph_find(g, CNV_GRAPH_OTHER, "node-3000", 9, &x), CNV_ENOTFOUND);
  cnv_graph_destroy(g);
  cnv_graph_builder_destroy(b);
}

static void test_csr(void **state) {
  (void)state;
  cnv_graph_builder *b = NULL;
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  uint32_t v[5];
  for (int i = 0; i < 5; i++) assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, NULL, 0, &v[i]), CNV_OK);
  /* out of order, parallel edges (the lightest wins whatever its position), a self loop */
  assert_int_equal(cnv_graph_builder_edge(b, 2, 4, 9), CNV_OK);
  assert_int_equal(cnv_graph_builder_edge(b, 2, 0, 5), CNV_OK);
  assert_int_equal(cnv_graph_builder_edge(b, 0, 3, 7), CNV_OK);
  assert_int_equal(cnv_graph_builder_edge(b, 2, 4, 3), CNV_OK);
  assert_int_equal(cnv_graph_builder_edge(b, 2, 4, 8), CNV_OK);
  assert_int_equal(cnv_graph_builder_edge(b, 0, 1, 1), CNV_OK);
  assert_int_equal(cnv_graph_builder_edge(b, 4, 4, 2), CNV_OK);
  assert_int_equal(cnv_graph_builder_edge(b, 0, 3, 6), CNV_OK);
  assert_int_equal(cnv_graph_builder_edge(b, 5, 0, 1), CNV_ERANGE);
  assert_int_equal(cnv_graph_builder_edge(b, 0, 5, 1), CNV_ERANGE);
  cnv_graph *g = NULL;
  assert_int_equal(cnv_graph_freeze(b, &g), CNV_OK);
  assert_int_equal(cnv_graph_edges(g), 5);
  static const uint32_t want_t[5][3] = {{1, 3}, {0}, {0, 4}, {0}, {4}};
  static const uint32_t want_w[5][3] = {{1, 6}, {0}, {5, 3}, {0}, {2}};
  static const uint32_t want_n[5] = {2, 0, 2, 0, 1};
  for (uint32_t i = 0; i < 5; i++) {
    const uint32_t *t, *w;
    uint32_t cnt;
    assert_int_equal(cnv_graph_out(g, i, &t, &w, &cnt), CNV_OK);
    assert_int_equal(cnt, want_n[i]);
    for (uint32_t j = 0; j < cnt; j++) {
      assert_int_equal(t[j], want_t[i][j]);
      assert_int_equal(w[j], want_w[i][j]);
    }
  }
  const uint32_t *t;
  uint32_t cnt;
  assert_int_equal(cnv_graph_out(g, 5, &t, NULL, &cnt), CNV_ERANGE);
  assert_int_equal(cnv_graph_out(g, 0, NULL, NULL, NULL), CNV_EINVAL);
  /* the builder stays usable: a second freeze sees the new edge */
  assert_int_equal(cnv_graph_builder_edge(b, 1, 2, 4), CNV_OK);
  cnv_graph *g2 = NULL;
  assert_int_equal(cnv_graph_freeze(b, &g2), CNV_OK);
  assert_int_equal(cnv_graph_edges(g2), 6);
  assert_int_equal(cnv_graph_edges(g), 5);
  cnv_graph_destroy(g2);
  cnv_graph_destroy(g);
  cnv_graph_builder_destroy(b);
}

static void test_errors(void **state) {
  (void)state;
  cnv_graph_builder *b = NULL;
  uint32_t x;
  assert_int_equal(cnv_graph_builder_create(NULL), CNV_EINVAL);
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  char big[257];
  memset(big, 'a', sizeof big);
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_AGENT, big, 256, &x), CNV_ERANGE);
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_AGENT, big, 255, &x), CNV_OK);
  assert_int_equal(cnv_graph_builder_node(b, 0, "a", 1, &x), CNV_EINVAL);
  assert_int_equal(cnv_graph_builder_node(b, 5, "a", 1, &x), CNV_EINVAL);
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_AGENT, NULL, 1, &x), CNV_EINVAL);
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_AGENT, "a", 1, NULL), CNV_EINVAL);
  assert_int_equal(cnv_graph_builder_node(NULL, CNV_GRAPH_AGENT, "a", 1, &x), CNV_EINVAL);
  assert_int_equal(cnv_graph_builder_edge(NULL, 0, 0, 0), CNV_EINVAL);
  assert_int_equal(cnv_graph_builder_capability(b, NULL, 0, &x), CNV_EINVAL);
  assert_int_equal(cnv_graph_freeze(b, NULL), CNV_EINVAL);
  cnv_graph *g = NULL;
  assert_int_equal(cnv_graph_freeze(NULL, &g), CNV_EINVAL);
  assert_int_equal(cnv_graph_freeze(b, &g), CNV_OK);
  assert_int_equal(cnv_graph_node_info(g, 1, NULL, NULL, NULL), CNV_ERANGE);
  assert_int_equal(cnv_graph_node_info(NULL, 0, NULL, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_graph_find(g, CNV_GRAPH_AGENT, NULL, 1, &x), CNV_EINVAL);
  assert_int_equal(cnv_graph_find(g, CNV_GRAPH_AGENT, big, 256, &x), CNV_ENOTFOUND);
  assert_int_equal(cnv_graph_nodes(NULL), 0);
  assert_int_equal(cnv_graph_edges(NULL), 0);
  cnv_graph_destroy(g);
  cnv_graph_destroy(NULL);
  cnv_graph_builder_destroy(b);
  cnv_graph_builder_destroy(NULL);
  /* an empty graph */
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  assert_int_equal(cnv_graph_freeze(b, &g), CNV_OK);
  assert_int_equal(cnv_graph_nodes(g), 0);
  assert_int_equal(cnv_graph_find(g, CNV_GRAPH_AGENT, "a", 1, &x), CNV_ENOTFOUND);
  cnv_graph_destroy(g);
  cnv_graph_builder_destroy(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dedupe),
      cmocka_unit_test(test_csr),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
