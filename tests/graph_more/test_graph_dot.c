/* cnv_graph_dot: the output parsed back (a small DOT reader for what the export writes: one
 * node or edge statement a line) gives the graph's nodes with their labels, kinds as shapes,
 * and its edges with their weights; labels with quotes, backslashes, newlines and bytes
 * outside printable ASCII survive the escaping; a failed write is CNV_EIO. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/graph.h>

static const struct {
  int kind;
  const char *label;
  size_t len;
  const char *shape;
} nodes[] = {
    {CNV_GRAPH_ISSUER, "ab01", 4, "diamond"},
    {CNV_GRAPH_AGENT, "say \"hi\"", 8, "ellipse"},
    {CNV_GRAPH_CAPABILITY, "fs.read", 7, "box"},
    {CNV_GRAPH_OTHER, "back\\slash\nnew line", 19, "octagon"},
    {CNV_GRAPH_OTHER, "ctl\x01\x7f\xff end", 10, "octagon"},
    {CNV_GRAPH_OTHER, "", 0, "octagon"},
    {CNV_GRAPH_OTHER, "\\\"", 2, "octagon"},
};
#define N (sizeof nodes / sizeof nodes[0])

static const struct {
  uint32_t from, to, w;
} edges[] = {{0, 1, 1}, {1, 2, 7}, {2, 2, 0}, {3, 4, 4000000000u}, {4, 0, 3}, {6, 5, 2}, {1, 0, 9}};
#define M (sizeof edges / sizeof edges[0])

static cnv_graph *build(void) {
  cnv_graph_builder *b = NULL;
  cnv_graph *g = NULL;
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  for (size_t i = 0; i < N; i++) {
    uint32_t id = 0;
    assert_int_equal(cnv_graph_builder_node(b, nodes[i].kind, nodes[i].label, nodes[i].len, &id), CNV_OK);
    assert_int_equal(id, i);
  }
  for (size_t i = 0; i < M; i++) assert_int_equal(cnv_graph_builder_edge(b, edges[i].from, edges[i].to, edges[i].w), CNV_OK);
  assert_int_equal(cnv_graph_freeze(b, &g), CNV_OK);
  cnv_graph_builder_destroy(b);
  return g;
}

/* Reads a quoted DOT string at *p (the export's escapes undone) into out; moves *p past it. */
static size_t unquote(const char **p, char *out) {
  const char *s = *p;
  assert_int_equal(*s, '"');
  s++;
  size_t n = 0;
  while (*s != '"') {
    assert_int_not_equal(*s, '\0');
    if (*s != '\\') {
      out[n++] = *s++;
      continue;
    }
    s++;
    if (*s == '"' || *s == '\\') {
      if (*s == '\\' && s[1] == 'x') { /* \\xNN: one byte outside printable ASCII */
        unsigned v = 0;
        assert_int_equal(sscanf(s + 2, "%2x", &v), 1);
        out[n++] = (char)v;
        s += 4;
        continue;
      }
      out[n++] = *s++;
    } else {
      assert_int_equal(*s, 'n');
      out[n++] = '\n';
      s++;
    }
  }
  *p = s + 1;
  return n;
}

static void round_trip(void **state) {
  (void)state;
  cnv_graph *g = build();
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  assert_non_null(f);
  assert_int_equal(cnv_graph_dot(g, f), CNV_OK);
  assert_int_equal(fclose(f), 0);
  bool seen_node[N] = {false}, seen_edge[M] = {false};
  size_t n_nodes = 0, n_edges = 0, lines = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
    for (const char *c = line; *c; c++) assert_true(*c >= 0x20 && *c < 0x7f); /* ASCII only */
    unsigned a = 0, b = 0, w = 0;
    int used = 0;
    if (sscanf(line, "  n%u -> n%u [label=\"%u\"];%n", &a, &b, &w, &used) == 3 && used == (int)strlen(line)) {
      size_t i = 0;
      while (i < M && !(edges[i].from == a && edges[i].to == b)) i++;
      assert_true(i < M);
      assert_false(seen_edge[i]);
      assert_int_equal(edges[i].w, w);
      seen_edge[i] = true;
      n_edges++;
    } else if (sscanf(line, "  n%u [label=%n", &a, &used) == 1 && used > 0) {
      assert_true(a < N);
      assert_false(seen_node[a]);
      const char *p = line + used;
      char label[512];
      size_t len = unquote(&p, label);
      assert_int_equal(len, nodes[a].len);
      assert_memory_equal(label, nodes[a].label, len);
      char shape[32];
      assert_int_equal(sscanf(p, ", shape=%31[a-z]];%n", shape, &used), 1);
      assert_string_equal(shape, nodes[a].shape);
      assert_int_equal(p[used], '\0');
      seen_node[a] = true;
      n_nodes++;
    } else {
      assert_true(strcmp(line, "digraph cnv {") == 0 || strcmp(line, "}") == 0);
    }
  }
  assert_int_equal(n_nodes, N);
  assert_int_equal(n_edges, M);
  assert_int_equal(n_edges, cnv_graph_edges(g));
  assert_int_equal(lines, N + M + 2);
  free(text);
  cnv_graph_destroy(g);
}

static void write_failure(void **state) {
  (void)state;
  cnv_graph *g = build();
  FILE *f = fopen("/dev/full", "w");
  assert_non_null(f);
  assert_int_equal(cnv_graph_dot(g, f), CNV_EIO);
  fclose(f);
  /* a stream opened for reading only: every write fails at once */
  f = fopen("/dev/null", "r");
  assert_non_null(f);
  assert_int_equal(cnv_graph_dot(g, f), CNV_EIO);
  fclose(f);
  assert_int_equal(cnv_graph_dot(NULL, stdout), CNV_EINVAL);
  assert_int_equal(cnv_graph_dot(g, NULL), CNV_EINVAL);
  cnv_graph_destroy(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip),
      cmocka_unit_test(write_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
