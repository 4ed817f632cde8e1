/* Graphviz DOT export. Nodes are n<number> with the label as label attribute and the kind as
 * shape; edges carry their weight as label. Labels are written inside double quotes with '"'
 * and '\' backslash-escaped, a newline as \n, and every other byte outside printable ASCII as
 * \\xNN (a literal backslash, 'x' and two hex digits in the drawing), so the output is ASCII
 * and every label ends its quoted string where it should. */
#include "core/ignore.h"
#include <cnv/graph.h>

static const char *shape_of(int kind) {
  switch (kind) {
    case CNV_GRAPH_ISSUER:
      return "diamond";
    case CNV_GRAPH_AGENT:
      return "ellipse";
    case CNV_GRAPH_CAPABILITY:
      return "box";
    default:
      return "octagon";
  }
}

static bool put_label(FILE *f, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  if (fputc('"', f) == EOF) return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    int r;
    if (c == '"' || c == '\\') {
      r = fprintf(f, "\\%c", c);
    } else if (c == '\n') {
      r = fputs("\\n", f);
    } else if (c < 0x20 || c >= 0x7f) {
      r = fprintf(f, "\\\\x%c%c", hex[c >> 4], hex[c & 15]);
    } else {
      r = fputc(c, f);
    }
    if (r < 0) return false;
  }
  return fputc('"', f) != EOF;
}

cnv_status cnv_graph_dot(const cnv_graph *g, FILE *f) {
  if (!g || !f) return CNV_EINVAL;
  const uint32_t n = cnv_graph_nodes(g);
  bool ok = fputs("digraph cnv {\n", f) >= 0;
  for (uint32_t v = 0; ok && v < n; v++) {
    int kind = 0;
    const char *label = NULL;
    size_t len = 0;
    /* v < n: cannot fail */
    cnv__ignore_status(cnv_graph_node_info(g, v, &kind, &label, &len));
    ok = fprintf(f, "  n%u [label=", (unsigned)v) >= 0 && put_label(f, label ? label : "", label ? len : 0) &&
         fprintf(f, ", shape=%s];\n", shape_of(kind)) >= 0;
  }
  for (uint32_t v = 0; ok && v < n; v++) {
    const uint32_t *t = NULL, *w = NULL;
    uint32_t cnt = 0;
    cnv__ignore_status(cnv_graph_out(g, v, &t, &w, &cnt)); /* v < n: cannot fail */
    for (uint32_t e = 0; ok && e < cnt; e++) {
      ok = fprintf(f, "  n%u -> n%u [label=\"%u\"];\n", (unsigned)v, (unsigned)t[e], (unsigned)w[e]) >= 0;
    }
  }
  ok = ok && fputs("}\n", f) >= 0;
  ok = fflush(f) == 0 && ok && !ferror(f);
  return ok ? CNV_OK : CNV_EIO;
}
