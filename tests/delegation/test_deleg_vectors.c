/* Fixed-key sample vectors (tests/vectors/delegation/vectors.txt): every token is rebuilt
 * here from fixed seeds and nonces and must equal the file byte for byte, and every token in
 * the file must verify to the recorded status and link. Other implementations check
 * themselves against the same file. CNV_DELEG_VECTORS_WRITE=1 rewrites the file (only when
 * the format version changes). */
#include <stdio.h>

#include "deleg_fixture.h"

#ifndef CNV_DELEG_VECTORS
#error "CNV_DELEG_VECTORS must name the vectors file"
#endif

typedef struct vec {
  const char *name;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len;
  uint64_t now, swarm;
  uint8_t holder_seed; /* key seed of the presenter (mandatory) */
  const char *cap;     /* "-": no capability check */
  cnv_effects effects;
} vec;

#define NVEC 12

/* Builds vector i (keys: seeds 1 root, 2 A, 3 B, 4 C, 5 stranger). */
static void build(const fixture *f, int i, vec *v) {
  fspec s[3];
  std_specs(f, s, 0x10);
  *v = (vec){.now = 5000, .swarm = 7, .holder_seed = 4, .cap = "user.create", .effects = CNV_EFFECT_READ_ONLY};
  v->len = forge(s, 3, v->tok);
  switch (i) {
    case 0:
      v->name = "valid_3link";
      break;
    case 1:
      v->name = "valid_root_only";
      v->len = forge(s, 1, v->tok);
      v->cap = "fleet.node.drain";
      v->holder_seed = 2;
      break;
    case 2:
      v->name = "forbidden_wins";
      v->cap = "user.delete";
      break;
    case 3:
      v->name = "wrong_swarm";
      v->swarm = 8;
      break;
    case 4:
      v->name = "expired_leaf";
      v->now = 98031;
      break;
    case 5:
      v->name = "effects_exceeded";
      v->effects = CNV_EFFECT_NETWORK;
      break;
    case 6:
      v->name = "widened_allow";
      cav_allow(&s[2].cav, "fleet.node.drain");
      v->len = forge(s, 3, v->tok);
      break;
    case 7:
      v->name = "untrusted_root";
      s[0].issuer_sk = f->u.sk;
      v->len = forge(s, 3, v->tok);
      break;
    case 8:
      v->name = "bad_signature_leaf";
      v->tok[v->len - 1] ^= 0x80;
      break;
    case 9:
      v->name = "misaligned_issuer";
      s[2].issuer_sk = f->u.sk;
      v->len = forge(s, 3, v->tok);
      break;
    case 10:
      v->name = "trailing_byte";
      v->tok[v->len++] = 0;
      break;
    default:
      v->name = "truncated";
      v->len -= 100;
      break;
  }
}

static void to_hex(const uint8_t *b, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

static size_t from_hex(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  for (; s[0] && s[1] && s[0] != '\n' && n < cap; s += 2) {
    unsigned x;
    assert_int_equal(sscanf(s, "%2x", &x), 1);
    out[n++] = (uint8_t)x;
  }
  return n;
}

static cnv_status run_vec(const vec *v, cnv_deleg_error *err) {
  tkey root, holder;
  tkey_make(&root, 1);
  tkey_make(&holder, v->holder_seed);
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.cache_capacity = 0;
  cnv_deleg_verifier *ver;
  assert_int_equal(cnv_deleg_verifier_create(&cfg, &ver), CNV_OK);
  assert_int_equal(cnv_deleg_trust_add(ver, root.pk), CNV_OK);
  cnv_deleg_cap cap;
  bool has_cap = strcmp(v->cap, "-") != 0;
  if (has_cap) cap = cap_of(v->cap);
  cnv_deleg_request req = {.now = v->now, .swarm = v->swarm, .holder = holder.pk, .cap = has_cap ? &cap : NULL, .effects = v->effects};
  cnv_status st = cnv_deleg_verify(ver, v->tok, v->len, &req, NULL, err);
  cnv_deleg_verifier_destroy(ver);
  return st;
}

static void write_file(const fixture *f) {
  FILE *out = fopen(CNV_DELEG_VECTORS, "w");
  assert_non_null(out);
  fprintf(out,
          "# libcnv delegation vectors, token format version %d (docs/delegation.md).\n"
          "# Keys: Ed25519 from a 32-byte seed of one repeated byte (libsodium\n"
          "# crypto_sign_seed_keypair): 01 trusted root, 02 A, 03 B, 04 C, 05 stranger.\n"
          "# Verifier: trusts 01, skew 30 s. holder = seed of the presenter, cap - = not checked.\n"
          "# Capability ids: XXH3-64 of the path bytes (capid lines).\n"
          "# name status link now swarm holder cap effects token_hex\n",
          CNV_DELEG_VERSION);
  static const char *paths[] = {"user", "user.create", "fleet.node.drain"};
  for (int i = 0; i < 3; i++) {
    cnv_deleg_cap c = cap_of(paths[i]);
    fprintf(out, "capid %s %016llx\n", paths[i], (unsigned long long)c.id);
  }
  static vec v;
  static char hex[2 * CNV_DELEG_MAX_TOKEN_BYTES + 1];
  for (int i = 0; i < NVEC; i++) {
    build(f, i, &v);
    cnv_deleg_error err;
    cnv_status st = run_vec(&v, &err);
    to_hex(v.tok, v.len, hex);
    fprintf(out, "%s %s %d %llu %llu %02x %s %04x %s\n", v.name, cnv_status_name(st), err.link,
            (unsigned long long)v.now, (unsigned long long)v.swarm, v.holder_seed, v.cap, v.effects, hex);
  }
  fclose(out);
}

static void check_line(const fixture *f, const char *line) {
  static char name[64], status[64], cap[300];
  static vec v, want;
  static char rest[12101]; /* %12100s below; 2 * CNV_DELEG_MAX_TOKEN_BYTES fits */
  int link;
  unsigned long long now, swarm;
  unsigned holder, effects;
  if (sscanf(line, "capid %63s %llx", cap, &now) == 2) {
    assert_int_equal(cap_of(cap).id, now);
    return;
  }
  assert_int_equal(sscanf(line, "%63s %63s %d %llu %llu %x %299s %x %12100s", name, status, &link, &now, &swarm,
                          &holder, cap, &effects, rest),
                   9);
  v = (vec){.name = name, .now = now, .swarm = swarm, .holder_seed = (uint8_t)holder, .cap = cap, .effects = (cnv_effects)effects};
  v.len = from_hex(rest, v.tok, sizeof v.tok);
  cnv_deleg_error err;
  assert_string_equal(cnv_status_name(run_vec(&v, &err)), status);
  assert_int_equal(err.link, link);
  int i = 0;
  for (; i < NVEC; i++) {
    build(f, i, &want);
    if (strcmp(want.name, name) == 0) break;
  }
  assert_true(i < NVEC);
  assert_int_equal(want.len, v.len);
  assert_memory_equal(want.tok, v.tok, v.len);
}

static void test_vectors(void **state) {
  (void)state;
  static fixture f;
  tkey_make(&f.r, 1);
  tkey_make(&f.a, 2);
  tkey_make(&f.b, 3);
  tkey_make(&f.c, 4);
  tkey_make(&f.u, 5);
  const char *w = getenv("CNV_DELEG_VECTORS_WRITE");
  if (w && strcmp(w, "1") == 0) write_file(&f);
  FILE *in = fopen(CNV_DELEG_VECTORS, "r");
  assert_non_null(in);
  static char line[2 * CNV_DELEG_MAX_TOKEN_BYTES + 512];
  int checked = 0;
  while (fgets(line, sizeof line, in)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    check_line(&f, line);
    checked++;
  }
  fclose(in);
  assert_int_equal(checked, NVEC + 3);
}

int main(void) {
  assert_true(sodium_init() >= 0);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_vectors)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  return rc;
}
