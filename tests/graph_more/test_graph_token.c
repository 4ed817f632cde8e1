/* cnv_graph_builder_add_token on tokens minted here (tests/support/forge for keys, caveats
 * and a widened chain cnv_deleg_attenuate refuses to make): one node per distinct key (hex
 * label), an issuer -> audience edge per link, and from the holder exactly the edges to the
 * capability nodes already in the builder that every link allows and no link forbids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <cnv/delegation.h>
#include <cnv/graph.h>

#include "support/forge.h"

static tkey root, ka, kb, kc;

static void hex_of(const uint8_t *key, char out[2 * CNV_DELEG_KEY_BYTES + 1]) {
  for (size_t i = 0; i < CNV_DELEG_KEY_BYTES; i++) sprintf(out + 2 * i, "%02x", key[i]);
}

static uint32_t key_node(const cnv_graph *g, const tkey *k, int kind) {
  char hex[2 * CNV_DELEG_KEY_BYTES + 1];
  hex_of(k->pk, hex);
  uint32_t v = CNV_GRAPH_NONE;
  assert_int_equal(cnv_graph_find(g, kind, hex, 2 * CNV_DELEG_KEY_BYTES, &v), CNV_OK);
  return v;
}

/* The capability labels v points at, as one sorted, comma-joined string; the key nodes it
 * points at in *keys. */
static void caps_of(const cnv_graph *g, uint32_t v, char *out, uint32_t *keys) {
  const uint32_t *t = NULL, *w = NULL;
  uint32_t cnt = 0;
  assert_int_equal(cnv_graph_out(g, v, &t, &w, &cnt), CNV_OK);
  const char *names[32];
  size_t lens[32], n = 0;
  *keys = 0;
  for (uint32_t e = 0; e < cnt; e++) {
    int kind = 0;
    const char *label = NULL;
    size_t len = 0;
    assert_int_equal(w[e], 1);
    assert_int_equal(cnv_graph_node_info(g, t[e], &kind, &label, &len), CNV_OK);
    if (kind != CNV_GRAPH_CAPABILITY) {
      (*keys)++;
      continue;
    }
    names[n] = label;
    lens[n++] = len;
  }
  for (size_t i = 1; i < n; i++) { /* insertion sort by label */
    for (size_t j = i; j > 0; j--) {
      size_t m = lens[j - 1] < lens[j] ? lens[j - 1] : lens[j];
      int c = memcmp(names[j - 1], names[j], m);
      if (c < 0 || (c == 0 && lens[j - 1] <= lens[j])) break;
      const char *tn = names[j];
      size_t tl = lens[j];
      names[j] = names[j - 1];
      lens[j] = lens[j - 1];
      names[j - 1] = tn;
      lens[j - 1] = tl;
    }
  }
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (i) strcat(out, ",");
    strncat(out, names[i], lens[i]);
  }
}

static void setup_keys(void) {
  assert_true(sodium_init() >= 0);
  tkey_make(&root, 1);
  tkey_make(&ka, 2);
  tkey_make(&kb, 3);
  tkey_make(&kc, 4);
}

static const char *const caps[] = {"fs", "fs.read", "fs.delete", "fs.delete.all",
                                   "fs.write", "user.create", "user.delete", "net.get"};

static void chains(void **state) {
  (void)state;
  setup_keys();
  static uint8_t t1[CNV_DELEG_MAX_TOKEN_BYTES], t2[CNV_DELEG_MAX_TOKEN_BYTES], t3[CNV_DELEG_MAX_TOKEN_BYTES],
      t4[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t l1 = 0, l2 = 0, l3 = 0, l4 = 0;
  uint8_t nonce[CNV_DELEG_NONCE_BYTES];
  /* t1: root -> A, fs.* and user.create, fs.delete forbidden */
  cnv_deleg_caveats c1;
  cav_init(&c1);
  assert_int_equal(cav_allow(&c1, "fs.*"), CNV_OK);
  assert_int_equal(cav_allow(&c1, "user.create"), CNV_OK);
  assert_int_equal(cav_forbid(&c1, "fs.delete"), CNV_OK);
  nonce_of(nonce, 1);
  assert_int_equal(cnv_deleg_mint_root(root.sk, ka.pk, &c1, nonce, t1, sizeof t1, &l1), CNV_OK);
  /* t2: t1 attenuated, A -> B: fs.read and fs.delete.all */
  cnv_deleg_caveats c2;
  cav_init(&c2);
  c2.depth = 6;
  assert_int_equal(cav_allow(&c2, "fs.read"), CNV_OK);
  assert_int_equal(cav_allow(&c2, "fs.delete.all"), CNV_OK);
  assert_int_equal(cav_forbid(&c2, "fs.delete"), CNV_OK);
  nonce_of(nonce, 2);
  assert_int_equal(cnv_deleg_attenuate(t1, l1, ka.sk, kb.pk, &c2, nonce, t2, sizeof t2, &l2), CNV_OK);
  /* t3, forged: root -> A as t1, then A -> C widening to net.* and dropping the forbidden set;
   * only what both links allow and neither forbids is granted */
  fspec s[2] = {{root.sk, ka.pk, c1, 1}, {ka.sk, kc.pk, {0}, 3}};
  cav_init(&s[1].cav);
  assert_int_equal(cav_allow(&s[1].cav, "net.*"), CNV_OK);
  assert_int_equal(cav_allow(&s[1].cav, "fs.read"), CNV_OK);
  assert_int_equal(cav_allow(&s[1].cav, "fs.delete"), CNV_OK);
  assert_int_equal(forge(s, 2, t3, &l3), CNV_OK);
  /* t4: A's key as a root of its own: A -> C, user.create (A stays one node) */
  cnv_deleg_caveats c4;
  cav_init(&c4);
  assert_int_equal(cav_allow(&c4, "user.create"), CNV_OK);
  nonce_of(nonce, 4);
  assert_int_equal(cnv_deleg_mint_root(ka.sk, kc.pk, &c4, nonce, t4, sizeof t4, &l4), CNV_OK);

  cnv_graph_builder *b = NULL;
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
    uint32_t id = 0;
    assert_int_equal(cnv_graph_builder_capability(b, caps[i], strlen(caps[i]), &id), CNV_OK);
  }
  uint32_t bad = 0; /* a capability node whose label is not a path matches nothing */
  assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_CAPABILITY, "Fs.Read", 7, &bad), CNV_OK);
  assert_int_equal(cnv_graph_builder_add_token(b, t1, l1), CNV_OK);
  assert_int_equal(cnv_graph_builder_add_token(b, t2, l2), CNV_OK);
  assert_int_equal(cnv_graph_builder_add_token(b, t3, l3), CNV_OK);
  assert_int_equal(cnv_graph_builder_add_token(b, t4, l4), CNV_OK);
  uint32_t late = 0; /* added after the tokens: no edge to it */
  assert_int_equal(cnv_graph_builder_capability(b, "fs.list", 7, &late), CNV_OK);
  /* the decode errors pass through and add nothing */
  uint8_t junk[64];
  memcpy(junk, t1, sizeof junk);
  assert_int_equal(cnv_graph_builder_add_token(b, junk, sizeof junk), cnv_deleg_token_decode(junk, sizeof junk, &(cnv_deleg_token){0}, NULL));
  junk[0] = 'X';
  assert_int_equal(cnv_graph_builder_add_token(b, junk, sizeof junk), CNV_ETOKEN_MAGIC);
  assert_int_equal(cnv_graph_builder_add_token(NULL, t1, l1), CNV_EINVAL);
  assert_int_equal(cnv_graph_builder_add_token(b, NULL, l1), CNV_EINVAL);

  cnv_graph *g = NULL;
  assert_int_equal(cnv_graph_freeze(b, &g), CNV_OK);
  cnv_graph_builder_destroy(b);
  /* 8 paths + the bad one + fs.list + 4 keys */
  assert_int_equal(cnv_graph_nodes(g), 8 + 1 + 1 + 4);
  uint32_t r = key_node(g, &root, CNV_GRAPH_ISSUER), a = key_node(g, &ka, CNV_GRAPH_AGENT),
           bn = key_node(g, &kb, CNV_GRAPH_AGENT), cn = key_node(g, &kc, CNV_GRAPH_AGENT);
  char got[512];
  uint32_t keys = 0;
  caps_of(g, r, got, &keys);
  assert_string_equal(got, "");
  assert_int_equal(keys, 1);
  caps_of(g, a, got, &keys);
  assert_string_equal(got, "fs.delete.all,fs.read,fs.write,user.create");
  assert_int_equal(keys, 2); /* B and C */
  caps_of(g, bn, got, &keys);
  assert_string_equal(got, "fs.delete.all,fs.read");
  assert_int_equal(keys, 0);
  caps_of(g, cn, got, &keys);
  assert_string_equal(got, "fs.read,user.create");
  assert_int_equal(keys, 0);
  /* the key edges: root -> A -> {B, C} */
  const uint32_t *t = NULL;
  uint32_t cnt = 0;
  assert_int_equal(cnv_graph_out(g, r, &t, NULL, &cnt), CNV_OK);
  assert_int_equal(cnt, 1);
  assert_int_equal(t[0], a);
  assert_int_equal(cnv_graph_out(g, a, &t, NULL, &cnt), CNV_OK);
  bool to_b = false, to_c = false;
  for (uint32_t e = 0; e < cnt; e++) {
    to_b |= t[e] == bn;
    to_c |= t[e] == cn;
  }
  assert_true(to_b && to_c);
  /* 3 key edges + 4 + 2 + 2 capability edges */
  assert_int_equal(cnv_graph_edges(g), 3 + 4 + 2 + 2);
  cnv_graph_destroy(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(chains),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
