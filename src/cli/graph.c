/* `cnv graph`: the capability graph (docs/graph.md) of a runtime's governance ledger or of
 * token files, and its queries.
 *   `cnv graph DIR`: from the ledger in DIR (read with the public reader): the trust roots
 *      still trusted (TRUST), the capabilities still registered (REGISTER, path in the
 *      payload) and the tokens of the agents still present (AGENT, token in the payload);
 *   `cnv graph --token FILE... --capability PATH...`: from token files and paths.
 * Capabilities are added before tokens, so every token's holder gets its edges. Nodes are
 * named by label: a capability by its path, a key by its hex (any unique prefix on the
 * command line; the first 16 digits in the output). One query at a time: --reach NODE,
 * --path FROM TO, --weighted FROM TO, --dominators ROOT, --scc, --dot; none prints the nodes
 * and edges. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnv/delegation.h"
#include "cnv/graph.h"
#include "cnv/ledger.h"
#include "cnv/status.h"

#include "ledger_cli.h"
#include "token.h"

#define SHORT_KEY 16 /* hex digits of a key printed */

static const char *kind_name(int kind) {
  switch (kind) {
    case CNV_GRAPH_ISSUER:
      return "issuer";
    case CNV_GRAPH_AGENT:
      return "agent";
    case CNV_GRAPH_CAPABILITY:
      return "capability";
    default:
      return "other";
  }
}

/* The name of node v: "%.*s" arguments. */
static int name_len(const cnv_graph *g, uint32_t v, const char **label) {
  int kind = 0;
  size_t len = 0;
  *label = "";
  if (cnv_graph_node_info(g, v, &kind, label, &len) != CNV_OK) return 0;
  if ((kind == CNV_GRAPH_ISSUER || kind == CNV_GRAPH_AGENT) && len > SHORT_KEY) len = SHORT_KEY;
  return (int)len;
}

static void print_name(const cnv_graph *g, uint32_t v) {
  const char *label;
  int len = name_len(g, v, &label);
  printf("%.*s", len, label);
}

/* A NODE argument: a node whose label is exactly text (capabilities first), else the one key
 * node whose label starts with it. Prints why not and returns false. */
static bool resolve(const cnv_graph *g, const char *text, uint32_t *out) {
  size_t tl = strlen(text);
  static const int kinds[] = {CNV_GRAPH_CAPABILITY, CNV_GRAPH_AGENT, CNV_GRAPH_ISSUER, CNV_GRAPH_OTHER};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (cnv_graph_find(g, kinds[i], text, tl, out) == CNV_OK) return true;
  }
  uint32_t found = CNV_GRAPH_NONE, n = cnv_graph_nodes(g);
  for (uint32_t v = 0; v < n; v++) {
    int kind = 0;
    const char *label = NULL;
    size_t len = 0;
    if (cnv_graph_node_info(g, v, &kind, &label, &len) != CNV_OK) continue;
    if ((kind != CNV_GRAPH_ISSUER && kind != CNV_GRAPH_AGENT) || len < tl || memcmp(label, text, tl) != 0) continue;
    if (found != CNV_GRAPH_NONE) {
      cli_fail("%s: names more than one key (give more digits)", text);
      return false;
    }
    found = v;
  }
  if (found == CNV_GRAPH_NONE) {
    cli_fail("%s: no such node (a capability path or a key's hex prefix)", text);
    return false;
  }
  *out = found;
  return true;
}

/* ---- building ---- */

typedef struct gsrc {
  cnv_graph_builder *b;
  bool ok;
} gsrc;

static bool add_cap(void *ctx, const char *v, size_t n) {
  gsrc *s = ctx;
  uint32_t node = 0;
  cnv_deleg_cap cap;
  cnv_status st = cnv_deleg_cap_from_path(v, n, &cap);
  if (st == CNV_OK) st = cnv_graph_builder_capability(s->b, v, n, &node);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: --capability %.*s: %s\n", (int)n, v, cnv_strerror(st));
    s->ok = false;
  }
  return s->ok;
}

static bool add_token_file(void *ctx, const char *v, size_t n) {
  gsrc *s = ctx;
  char path[TOK_PATH_CAP];
  if (n >= sizeof path) {
    cli_fail("--token: path too long");
    return s->ok = false;
  }
  memcpy(path, v, n);
  path[n] = '\0';
  static uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  if (!tok_read_token(path, tok, &len, NULL)) return s->ok = false;
  cnv_status st = cnv_graph_builder_add_token(s->b, tok, len);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: %s: %s\n", path, cnv_strerror(st));
    s->ok = false;
  }
  return s->ok;
}

/* What the ledger holds at its end: every TRUST, REGISTER or AGENT record copied out of the
 * reader in log order, then sorted by (key or id, order): the last record of each is its
 * state. */
typedef struct lrec {
  uint64_t id; /* agent handle or capability id; 0 for a root (keyed by key) */
  uint64_t seq;
  uint8_t key[CNV_LEDGER_KEY_BYTES];
  uint8_t *bytes; /* token or path */
  uint32_t len;
  bool live;
} lrec;

typedef struct lset {
  lrec *v;
  size_t n, cap;
} lset;

static void lset_free(lset *s) {
  for (size_t i = 0; i < s->n; i++) free(s->v[i].bytes);
  free(s->v);
}

static bool lset_put(lset *s, uint64_t seq, uint64_t id, const uint8_t *key, const uint8_t *bytes, uint32_t len,
                     bool live) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 16;
    lrec *nv = realloc(s->v, cap * sizeof *nv);
    if (!nv) return false;
    s->v = nv;
    s->cap = cap;
  }
  lrec *r = &s->v[s->n];
  memset(r, 0, sizeof *r);
  r->id = id;
  r->seq = seq;
  r->live = live;
  if (key) memcpy(r->key, key, CNV_LEDGER_KEY_BYTES);
  if (live && len) {
    r->bytes = malloc(len);
    if (!r->bytes) return false;
    memcpy(r->bytes, bytes, len);
    r->len = len;
  }
  s->n++;
  return true;
}

static int lrec_cmp(const void *pa, const void *pb) {
  const lrec *a = pa, *b = pb;
  if (a->id != b->id) return a->id < b->id ? -1 : 1;
  int k = memcmp(a->key, b->key, CNV_LEDGER_KEY_BYTES);
  if (k) return k;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int lrec_seq_cmp(const void *pa, const void *pb) {
  const lrec *a = pa, *b = pb;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Keeps live only the last record of each key or id. */
static void lset_finish(lset *s) {
  if (s->n) qsort(s->v, s->n, sizeof *s->v, lrec_cmp);
  for (size_t i = 0; i + 1 < s->n; i++) {
    if (s->v[i].id == s->v[i + 1].id && memcmp(s->v[i].key, s->v[i + 1].key, CNV_LEDGER_KEY_BYTES) == 0)
      s->v[i].live = false;
  }
}

static bool from_ledger(const char *dir, cnv_graph_builder *b) {
  cnv_ledger_reader *r = NULL;
  if (!cli_ledger_reader(dir, &r)) return false;
  lset roots = {0}, caps = {0}, agents = {0};
  bool ok = true;
  uint64_t size = cnv_ledger_reader_size(r);
  for (uint64_t i = 0; ok && i < size; i++) {
    cnv_ledger_entry e;
    cnv_status st = cnv_ledger_reader_get(r, i, &e, NULL);
    if (st != CNV_OK) {
      fprintf(stderr, "cnv: %s: record %" PRIu64 ": %s\n", dir, i, cnv_strerror(st));
      ok = false;
      break;
    }
    if (e.kind == CNV_LREC_TRUST)
      ok = lset_put(&roots, i, 0, e.key, NULL, 0, e.detail != 1);
    else if (e.kind == CNV_LREC_REGISTER)
      ok = lset_put(&caps, i, e.capability, NULL, e.payload, e.payload_len, e.detail != 0xFFFF);
    else if (e.kind == CNV_LREC_AGENT)
      ok = lset_put(&agents, i, e.agent, NULL, e.payload, e.payload_len, e.detail != 1);
    if (!ok) cli_fail("out of memory");
  }
  cnv_ledger_reader_close(r);
  lset_finish(&roots);
  lset_finish(&caps);
  lset_finish(&agents);
  /* back in log order, so node numbers follow the log */
  lset *const sets[] = {&roots, &caps, &agents};
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
    if (sets[i]->n) qsort(sets[i]->v, sets[i]->n, sizeof *sets[i]->v, lrec_seq_cmp);
  }
  for (size_t i = 0; ok && i < roots.n; i++) {
    if (!roots.v[i].live) continue;
    char hex[2 * CNV_LEDGER_KEY_BYTES + 1];
    cli_hex(roots.v[i].key, CNV_LEDGER_KEY_BYTES, hex);
    uint32_t node = 0;
    cnv_status st = cnv_graph_builder_node(b, CNV_GRAPH_ISSUER, hex, 2 * CNV_LEDGER_KEY_BYTES, &node);
    if (st != CNV_OK) {
      cli_error("graph", st);
      ok = false;
    }
  }
  for (size_t i = 0; ok && i < caps.n; i++) {
    if (!caps.v[i].live) continue;
    uint32_t node = 0;
    cnv_status st = cnv_graph_builder_capability(b, (const char *)caps.v[i].bytes, caps.v[i].len, &node);
    if (st != CNV_OK) {
      fprintf(stderr, "cnv: %s: capability %.*s: %s\n", dir, (int)caps.v[i].len, (const char *)caps.v[i].bytes,
              cnv_strerror(st));
      ok = false;
    }
  }
  for (size_t i = 0; ok && i < agents.n; i++) {
    if (!agents.v[i].live) continue;
    cnv_status st = cnv_graph_builder_add_token(b, agents.v[i].bytes, agents.v[i].len);
    if (st != CNV_OK) {
      fprintf(stderr, "cnv: %s: agent %" PRIu64 "'s token: %s\n", dir, agents.v[i].id, cnv_strerror(st));
      ok = false;
    }
  }
  lset_free(&roots);
  lset_free(&caps);
  lset_free(&agents);
  return ok;
}

/* ---- queries ---- */

static int print_all(const cnv_graph *g) {
  uint32_t n = cnv_graph_nodes(g);
  printf("nodes %" PRIu32 " edges %" PRIu64 "\n", n, cnv_graph_edges(g));
  for (uint32_t v = 0; v < n; v++) {
    int kind = 0;
    const char *label = NULL;
    size_t len = 0;
    if (cnv_graph_node_info(g, v, &kind, &label, &len) != CNV_OK) continue;
    printf("%s %.*s\n", kind_name(kind), (int)len, label);
  }
  for (uint32_t v = 0; v < n; v++) {
    const uint32_t *t = NULL, *w = NULL;
    uint32_t cnt = 0;
    if (cnv_graph_out(g, v, &t, &w, &cnt) != CNV_OK) continue;
    for (uint32_t e = 0; e < cnt; e++) {
      print_name(g, v);
      fputs(" -> ", stdout);
      print_name(g, t[e]);
      printf(" %" PRIu32 "\n", w[e]);
    }
  }
  return CLI_EXIT_OK;
}

static int query_reach(const cnv_graph *g, uint32_t src) {
  uint32_t n = cnv_graph_nodes(g);
  uint64_t *words = calloc(((size_t)n + 63) / 64, sizeof *words);
  if (!words) {
    cli_fail("out of memory");
    return CLI_EXIT_FAIL;
  }
  cnv_status st = cnv_graph_reach(g, src, words);
  if (st != CNV_OK) {
    free(words);
    cli_error("graph reach", st);
    return CLI_EXIT_FAIL;
  }
  for (uint32_t v = 0; v < n; v++) {
    if (v == src || !(words[v / 64] >> (v % 64) & 1)) continue;
    int kind = 0;
    const char *label = NULL;
    size_t len = 0;
    if (cnv_graph_node_info(g, v, &kind, &label, &len) != CNV_OK) continue;
    printf("%s ", kind_name(kind));
    print_name(g, v);
    putchar('\n');
  }
  free(words);
  return CLI_EXIT_OK;
}

static int query_path(const cnv_graph *g, uint32_t from, uint32_t to, bool weighted) {
  uint32_t n = cnv_graph_nodes(g);
  uint64_t *dist = malloc((size_t)n * sizeof *dist);
  uint32_t *parent = malloc((size_t)n * sizeof *parent), *path = malloc((size_t)n * sizeof *path);
  int rc = CLI_EXIT_FAIL;
  size_t len = 0;
  cnv_status st = CNV_ENOMEM;
  if (dist && parent && path) {
    st = weighted ? cnv_graph_dijkstra(g, from, dist, parent) : cnv_graph_bfs(g, from, dist, parent);
    if (st == CNV_OK) st = cnv_graph_path(parent, n, from, to, path, n, &len);
  }
  if (st == CNV_ENOTFOUND) {
    printf("no path\n");
  } else if (st != CNV_OK) {
    cli_error("graph path", st);
  } else {
    for (size_t i = 0; i < len; i++) {
      if (i) fputs(" -> ", stdout);
      print_name(g, path[i]);
    }
    printf("\n%s %" PRIu64 "\n", weighted ? "weight" : "hops", dist[to]);
    rc = CLI_EXIT_OK;
  }
  free(dist);
  free(parent);
  free(path);
  return rc;
}

static int query_dominators(const cnv_graph *g, uint32_t root) {
  uint32_t n = cnv_graph_nodes(g);
  uint32_t *idom = malloc((size_t)n * sizeof *idom);
  cnv_status st = idom ? cnv_graph_dominators(g, root, idom) : CNV_ENOMEM;
  if (st != CNV_OK) {
    free(idom);
    cli_error("graph dominators", st);
    return CLI_EXIT_FAIL;
  }
  for (uint32_t v = 0; v < n; v++) {
    if (v == root || idom[v] == CNV_GRAPH_NONE) continue;
    print_name(g, v);
    fputs(" idom ", stdout);
    print_name(g, idom[v]);
    putchar('\n');
  }
  free(idom);
  return CLI_EXIT_OK;
}

static int query_scc(const cnv_graph *g) {
  uint32_t n = cnv_graph_nodes(g), count = 0;
  uint32_t *comp = malloc(((size_t)n + 1) * sizeof *comp);
  cnv_status st = comp ? cnv_graph_scc(g, comp, &count) : CNV_ENOMEM;
  if (st != CNV_OK) {
    free(comp);
    cli_error("graph scc", st);
    return CLI_EXIT_FAIL;
  }
  printf("components %" PRIu32 "\n", count);
  /* components are numbered by smallest node: one pass per component would be O(n * c);
   * print each node's line instead, grouped by a counting sort */
  uint32_t *start = calloc((size_t)count + 1, sizeof *start), *order = malloc(((size_t)n + 1) * sizeof *order);
  if (!start || !order) {
    free(comp);
    free(start);
    free(order);
    cli_fail("out of memory");
    return CLI_EXIT_FAIL;
  }
  for (uint32_t v = 0; v < n; v++) start[comp[v] + 1]++;
  for (uint32_t c = 0; c < count; c++) start[c + 1] += start[c];
  for (uint32_t v = 0; v < n; v++) order[start[comp[v]]++] = v;
  for (uint32_t c = 0, i = 0; c < count; c++) {
    printf("%" PRIu32 ":", c);
    for (; i < n && comp[order[i]] == c; i++) {
      putchar(' ');
      print_name(g, order[i]);
    }
    putchar('\n');
  }
  free(comp);
  free(start);
  free(order);
  return CLI_EXIT_OK;
}

/* The positional argument right after --name's value (TO of --path FROM TO), marked used. */
static bool second_value(cli_cmd *cmd, const char *name, char *buf, size_t cap) {
  for (uint32_t i = 0; i + 1 < cmd->count; i++) {
    const cli_arg *a = &cmd->args[i];
    if (!a->name || a->name_len != strlen(name) || memcmp(a->name, name, a->name_len) != 0) continue;
    const cli_arg *t = &cmd->args[i + 1];
    if (t->name || !t->value || !*t->value || strlen(t->value) >= cap) break;
    cmd->used[i + 1] = true;
    strcpy(buf, t->value);
    return true;
  }
  cli_fail("--%s FROM TO: TO is required", name);
  return false;
}

static int graph_run(cli_cmd *cmd) {
  static const char *const queries[] = {"reach", "path", "weighted", "dominators", "scc", "dot", NULL};
  if (cli_flags_exclusive(cmd, queries)) return CLI_EXIT_USAGE;
  bool bad = false, have_to = true;
  char a[TOK_PATH_CAP] = "", to[TOK_PATH_CAP] = "", dir[LEDGER_DIR_CAP] = "";
  const char *q = NULL;
  for (size_t i = 0; queries[i] && !q; i++) {
    if (cli_flag_present(cmd, queries[i])) q = queries[i];
  }
  bool scc = cli_flag_bool(cmd, "scc", &bad), dot = cli_flag_bool(cmd, "dot", &bad);
  if (q && !scc && !dot && !cli_flag_str(cmd, q, a, sizeof a, &bad) && !bad) {
    cli_fail("--%s needs a value (see --help)", q);
    return CLI_EXIT_USAGE;
  }
  if (!bad && q && (strcmp(q, "path") == 0 || strcmp(q, "weighted") == 0)) have_to = second_value(cmd, q, to, sizeof to);
  bool files = cli_flag_present(cmd, "token") || cli_flag_present(cmd, "capability");
  if (bad || !have_to) return CLI_EXIT_USAGE;
  if (files) {
    if (!cli_flag_each(cmd, "token", tok_path_fits, "token") || !cli_flag_each(cmd, "capability", tok_path_fits, "capability") ||
        cli_cmd_unknown(cmd))
      return CLI_EXIT_USAGE;
  } else if (!cli_positional(cmd, "DIR (or --token/--capability)", dir, sizeof dir) || cli_cmd_unknown(cmd)) {
    return CLI_EXIT_USAGE;
  }

  gsrc s = {NULL, true};
  cnv_status st = cnv_graph_builder_create(&s.b);
  if (st != CNV_OK) {
    cli_error("graph", st);
    return CLI_EXIT_FAIL;
  }
  if (files)
    s.ok = cli_flag_each(cmd, "capability", add_cap, &s) && cli_flag_each(cmd, "token", add_token_file, &s);
  else
    s.ok = from_ledger(dir, s.b);
  cnv_graph *g = NULL;
  if (s.ok) {
    st = cnv_graph_freeze(s.b, &g);
    if (st != CNV_OK) {
      cli_error("graph", st);
      s.ok = false;
    }
  }
  cnv_graph_builder_destroy(s.b);
  if (!s.ok) return CLI_EXIT_FAIL;
  int rc = CLI_EXIT_FAIL;
  uint32_t from = 0, dst = 0;
  if (!q)
    rc = print_all(g);
  else if (scc)
    rc = query_scc(g);
  else if (dot) {
    st = cnv_graph_dot(g, stdout);
    if (st == CNV_OK)
      rc = CLI_EXIT_OK;
    else
      cli_error("graph dot", st);
  } else if (resolve(g, a, &from)) {
    if (strcmp(q, "reach") == 0)
      rc = query_reach(g, from);
    else if (strcmp(q, "dominators") == 0)
      rc = query_dominators(g, from);
    else if (resolve(g, to, &dst))
      rc = query_path(g, from, dst, strcmp(q, "weighted") == 0);
  }
  cnv_graph_destroy(g);
  return rc;
}

static const char *const graph_bools[] = {"scc", "dot", NULL};

static const cli_verb verbs[] = {
    {"show", "the capability graph of a ledger or of token files, and its queries",
     "DIR | --token FILE... --capability PATH...  [--reach NODE | --path FROM TO |\n"
     "       --weighted FROM TO | --dominators ROOT | --scc | --dot]\n"
     "  Builds the capability graph (docs/graph.md): from the governance ledger in DIR (the\n"
     "  trust roots, registered capabilities and agents' tokens live at its end), or from token\n"
     "  files (--token, repeatable) and capability paths (--capability, repeatable). Keys are\n"
     "  nodes (issuers, agents), edges run issuer -> audience per link and holder -> each\n"
     "  capability its chain allows. A NODE is a capability path or a key's hex (a unique\n"
     "  prefix will do); keys print as their first 16 hex digits.\n"
     "  --reach NODE        every node NODE reaches, one `kind name` a line\n"
     "  --path FROM TO      fewest links from FROM to TO (BFS), then `hops N`\n"
     "  --weighted FROM TO  lightest path (Dijkstra), then `weight N`\n"
     "  --dominators ROOT   `node idom dominator` for every node ROOT reaches\n"
     "  --scc               strongly connected components, `i: names...`\n"
     "  --dot               Graphviz DOT on stdout\n"
     "  With none: `nodes N edges M`, every node (`kind label`) and edge (`from -> to weight`).\n"
     "  Exit 1 when a file or NODE is bad or no path exists.",
     graph_bools, graph_run},
};

const cli_noun cli_noun_graph = {"graph", "the capability graph: reachability, paths, dominators, components, DOT",
                                 verbs, sizeof verbs / sizeof verbs[0], "show"};
