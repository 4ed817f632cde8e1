/* Records and grants: each kind written and read back; every truncation and flipped bit
 * refused; a record moved to another key (kind or id), another swarm, or signed by someone
 * else refused; the body each kind requires; grants open only with the recipient's key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

static fixture fx;
static uint8_t buf[CNV_SW_MAX_TOKEN + CNV_SW_MAX_BODY + 256];
static uint8_t big_token[CNV_SW_MAX_TOKEN + 1];

static int setup(void **state) {
  (void)state;
  memset(big_token, 'K', sizeof big_token);
  return fixture_init(&fx);
}

/* One valid record of each kind, its key name and body in the caller's storage. */
typedef struct sample {
  char key[CNV_SW_KV_KEY_MAX];
  uint8_t body[CNV_SW_MAX_BODY];
  cnv_sw_record rec;
  const uint8_t *sk;
} sample;

static void make_sample(cnv_sw_record_kind kind, sample *s) {
  memset(s, 0, sizeof *s);
  uint8_t id[32];
  s->rec.kind = (uint8_t)kind;
  s->rec.ts_ms = 1700000000123ull;
  s->rec.body = s->body;
  s->sk = fx.node_sk;
  memcpy(s->rec.signer_pk, fx.node_pk, 32);
  s->rec.token = fx.token;
  s->rec.token_len = sizeof fx.token;
  switch (kind) {
    case CNV_SW_REC_TRUST: /* a root adds a root: no token */
      memcpy(s->body, fx.agent_pk, 32);
      memcpy(id, fx.agent_pk, 32);
      s->rec.body_len = 32;
      s->rec.token = NULL;
      s->rec.token_len = 0;
      break;
    case CNV_SW_REC_REVOKE:
      memset(s->body, 0xC3, 32);
      memcpy(id, s->body, 32);
      s->rec.body_len = 32;
      break;
    case CNV_SW_REC_GRANT:
      s->body[0] = 1; /* epoch 1 */
      memcpy(s->body + 4, fx.agent_pk, 32);
      assert_int_equal(cnv_sw_grant_seal(fx.swarm_key, fx.agent_pk, s->body + 36), CNV_OK);
      memcpy(id, fx.agent_pk, 32);
      s->rec.body_len = 4 + 32 + CNV_SW_GRANT_BYTES;
      break;
    case CNV_SW_REC_JOIN:
      memcpy(id, fx.node_pk, 32);
      s->rec.body = NULL;
      s->rec.body_len = 0;
      break;
    case CNV_SW_REC_NODE: {
      cnv_sw_node_status ns = {.phase = 2, .breaker = 1, .capabilities = 3, .interval_ms = 1000, .completed = 9};
      assert_int_equal(cnv_sw_node_status_encode(&ns, s->body, sizeof s->body), CNV_OK);
      memcpy(id, fx.node_pk, 32);
      s->rec.body_len = CNV_SW_NODE_STATUS_BYTES;
      break;
    }
  }
  assert_int_equal(cnv_sw_record_key(kind, id, s->key, sizeof s->key, NULL), CNV_OK);
}

static void test_each_kind(void **state) {
  (void)state;
  for (int k = 1; k <= CNV_SW_REC_KIND_MAX; k++) {
    sample s;
    make_sample((cnv_sw_record_kind)k, &s);
    size_t w = 0;
    assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_OK);
    assert_int_equal(w, 46 + s.rec.token_len + s.rec.body_len + 64);
    cnv_sw_record out;
    assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, w, &out), CNV_OK);
    assert_int_equal(out.kind, k);
    assert_int_equal(out.ts_ms, s.rec.ts_ms);
    assert_memory_equal(out.signer_pk, s.rec.signer_pk, 32);
    assert_int_equal(out.token_len, s.rec.token_len);
    if (s.rec.token_len) {
      assert_ptr_equal(out.token, buf + 46);
      assert_memory_equal(out.token, s.rec.token, s.rec.token_len);
    } else {
      assert_null(out.token);
    }
    assert_int_equal(out.body_len, s.rec.body_len);
    if (s.rec.body_len) assert_memory_equal(out.body, s.body, s.rec.body_len);
    /* every truncation, one byte more, every flipped bit */
    for (size_t l = 0; l < w; l++) {
      uint8_t *c = fixture_exact(buf, l);
      assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, c, l, &out), CNV_ESW_MALFORMED);
      free(c);
    }
    buf[w] = 0;
    assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, w + 1, &out), CNV_ESW_MALFORMED);
    for (size_t i = 0; i < w; i++) {
      for (unsigned bit = 0; bit < 8; bit++) {
        buf[i] ^= (uint8_t)(1u << bit);
        cnv_status st = cnv_sw_record_read(FX_SWARM, s.key, buf, w, &out);
        assert_true(st == CNV_ESW_MALFORMED || st == CNV_ESW_PROOF);
        buf[i] ^= (uint8_t)(1u << bit);
      }
    }
    /* another swarm */
    assert_int_equal(cnv_sw_record_read(FX_SWARM + 1, s.key, buf, w, &out), CNV_ESW_PROOF);
    /* moved to another key of the same kind (another id) */
    char moved[CNV_SW_KV_KEY_MAX];
    memcpy(moved, s.key, sizeof moved);
    size_t last = strlen(moved) - 1;
    moved[last] = moved[last] == '0' ? '1' : '0';
    assert_int_equal(cnv_sw_record_read(FX_SWARM, moved, buf, w, &out), CNV_ESW_PROOF);
    /* moved to another kind's key with the same id */
    for (int other = 1; other <= CNV_SW_REC_KIND_MAX; other++) {
      if (other == k) continue;
      uint8_t id[32];
      const char *hex = strchr(s.key, '.') + 1;
      assert_int_equal(sodium_hex2bin(id, 32, hex, 64, NULL, NULL, NULL), 0);
      assert_int_equal(cnv_sw_record_key((cnv_sw_record_kind)other, id, moved, sizeof moved, NULL), CNV_OK);
      assert_int_equal(cnv_sw_record_read(FX_SWARM, moved, buf, w, &out), CNV_ESW_PROOF);
    }
  }
}

/* Signs record bytes the way the module does (Ed25519ph over label || swarm || key name with
 * its NUL || the record), so a test can make records the writer refuses to make. */
static void resign(const char *key, uint8_t *rec, size_t signed_len, const uint8_t *sk) {
  crypto_sign_state st;
  uint8_t swarm[8] = {FX_SWARM};
  crypto_sign_init(&st);
  crypto_sign_update(&st, (const uint8_t *)"cnv-swarm/1 record", 18);
  crypto_sign_update(&st, swarm, 8);
  crypto_sign_update(&st, (const uint8_t *)key, strlen(key) + 1);
  crypto_sign_update(&st, rec, signed_len);
  crypto_sign_final_create(&st, rec + signed_len, NULL, sk);
}

static void test_kind_bound_to_key(void **state) {
  (void)state;
  /* a validly signed record whose kind is not its key's: a TRUST body under a revoke key */
  sample s;
  make_sample(CNV_SW_REC_REVOKE, &s);
  size_t w = 0;
  cnv_sw_record out;
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_OK);
  resign(s.key, buf, w - 64, s.sk);
  assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, w, &out), CNV_OK); /* resign is right */
  buf[1] = CNV_SW_REC_TRUST;
  resign(s.key, buf, w - 64, s.sk);
  assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, w, &out), CNV_ESW_PROOF);
  /* a validly signed join under another node's key */
  make_sample(CNV_SW_REC_JOIN, &s);
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_OK);
  char key[CNV_SW_KV_KEY_MAX];
  assert_int_equal(cnv_sw_record_key(CNV_SW_REC_JOIN, fx.agent_pk, key, sizeof key, NULL), CNV_OK);
  resign(key, buf, w - 64, s.sk);
  assert_int_equal(cnv_sw_record_read(FX_SWARM, key, buf, w, &out), CNV_ESW_PROOF);
  /* a validly signed grant whose recipient is not the key's */
  make_sample(CNV_SW_REC_GRANT, &s);
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_sw_record_key(CNV_SW_REC_GRANT, fx.node_pk, key, sizeof key, NULL), CNV_OK);
  resign(key, buf, w - 64, s.sk);
  assert_int_equal(cnv_sw_record_read(FX_SWARM, key, buf, w, &out), CNV_ESW_PROOF);
  /* a validly signed status body with reserved bytes set */
  make_sample(CNV_SW_REC_NODE, &s);
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_OK);
  buf[46 + sizeof fx.token + 2] = 1;
  resign(s.key, buf, w - 64, s.sk);
  assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, w, &out), CNV_ESW_MALFORMED);
}

static void test_signer(void **state) {
  (void)state;
  sample s;
  make_sample(CNV_SW_REC_REVOKE, &s);
  size_t w = 0;
  cnv_sw_record out;
  /* the secret must be the signer's */
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, fx.agent_sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
  /* signed by the agent, then the signer field rewritten to the node's key */
  memcpy(s.rec.signer_pk, fx.agent_pk, 32);
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, fx.agent_sk, &s.rec, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, w, &out), CNV_OK);
  memcpy(buf + 10, fx.node_pk, 32);
  assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, w, &out), CNV_ESW_PROOF);
  /* a join or a status record is its signer's own: under another node's key it is refused */
  make_sample(CNV_SW_REC_JOIN, &s);
  char key[CNV_SW_KV_KEY_MAX];
  assert_int_equal(cnv_sw_record_key(CNV_SW_REC_JOIN, fx.agent_pk, key, sizeof key, NULL), CNV_OK);
  assert_int_equal(cnv_sw_record_write(FX_SWARM, key, fx.node_sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
  make_sample(CNV_SW_REC_NODE, &s);
  assert_int_equal(cnv_sw_record_key(CNV_SW_REC_NODE, fx.agent_pk, key, sizeof key, NULL), CNV_OK);
  assert_int_equal(cnv_sw_record_write(FX_SWARM, key, fx.node_sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
  /* a grant is stored under its recipient's key */
  make_sample(CNV_SW_REC_GRANT, &s);
  assert_int_equal(cnv_sw_record_key(CNV_SW_REC_GRANT, fx.node_pk, key, sizeof key, NULL), CNV_OK);
  assert_int_equal(cnv_sw_record_write(FX_SWARM, key, fx.node_sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
}

static void test_bodies_and_limits(void **state) {
  (void)state;
  sample s;
  size_t w = 0;
  cnv_sw_record out;
  /* bodies of the wrong size for their kind */
  make_sample(CNV_SW_REC_TRUST, &s);
  s.rec.body_len = 31;
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
  make_sample(CNV_SW_REC_GRANT, &s);
  s.rec.body_len = 115;
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
  make_sample(CNV_SW_REC_JOIN, &s);
  s.rec.body = s.body;
  s.rec.body_len = 1;
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
  /* a join without a token */
  make_sample(CNV_SW_REC_JOIN, &s);
  s.rec.token = NULL;
  s.rec.token_len = 0;
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
  /* a status body with reserved bits set */
  make_sample(CNV_SW_REC_NODE, &s);
  s.body[2] = 1;
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
  /* kind in the record differs from the key's */
  make_sample(CNV_SW_REC_REVOKE, &s);
  s.rec.kind = CNV_SW_REC_TRUST;
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
  /* the largest token; one more */
  make_sample(CNV_SW_REC_REVOKE, &s);
  s.rec.token = big_token;
  s.rec.token_len = CNV_SW_MAX_TOKEN;
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, w, &out), CNV_OK);
  assert_int_equal(out.token_len, CNV_SW_MAX_TOKEN);
  s.rec.token_len = CNV_SW_MAX_TOKEN + 1;
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_ERANGE);
  s.rec.token_len = 1;
  s.rec.body_len = CNV_SW_MAX_BODY + 1;
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_ERANGE);
  /* cap one short: nothing written */
  make_sample(CNV_SW_REC_REVOKE, &s);
  size_t need = 46 + sizeof fx.token + 32 + 64;
  memset(buf, 0xEE, need);
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, need - 1, &w), CNV_ERANGE);
  assert_int_equal(buf[0], 0xEE);
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, need, NULL), CNV_OK);
  /* key names that are not record keys */
  static const char *const bad_keys[] = {
      "genesis",
      "",
      ".",
      "revoke",
      "revoke.",
      "revokes.c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3",
      "revoke.C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3",
      "revoke.c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c",
      "revoke.c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c",
      "revoke.c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3.",
      "Revoke.c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3",
  };
  for (size_t i = 0; i < sizeof bad_keys / sizeof *bad_keys; i++) {
    assert_int_equal(cnv_sw_record_write(FX_SWARM, bad_keys[i], s.sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
    assert_int_equal(cnv_sw_record_read(FX_SWARM, bad_keys[i], buf, need, &out), CNV_EINVAL);
  }
  assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, need, &out), CNV_OK);
  /* unknown kinds and versions on the wire */
  buf[1] = 0;
  assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, need, &out), CNV_ESW_MALFORMED);
  buf[1] = CNV_SW_REC_KIND_MAX + 1;
  assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, need, &out), CNV_ESW_MALFORMED);
  buf[1] = CNV_SW_REC_REVOKE;
  buf[0] = 2;
  assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, need, &out), CNV_ESW_MALFORMED);
  /* NULLs */
  assert_int_equal(cnv_sw_record_write(FX_SWARM, NULL, s.sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, NULL, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, NULL, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, NULL, sizeof buf, &w), CNV_EINVAL);
  s.rec.body = NULL;
  assert_int_equal(cnv_sw_record_write(FX_SWARM, s.key, s.sk, &s.rec, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_record_read(FX_SWARM, NULL, buf, need, &out), CNV_EINVAL);
  assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, NULL, need, &out), CNV_EINVAL);
  assert_int_equal(cnv_sw_record_read(FX_SWARM, s.key, buf, need, NULL), CNV_EINVAL);
}

static void test_grants(void **state) {
  (void)state;
  uint8_t sealed[CNV_SW_GRANT_BYTES], again[CNV_SW_GRANT_BYTES], key[32];
  assert_int_equal(cnv_sw_grant_seal(fx.swarm_key, fx.node_pk, sealed), CNV_OK);
  assert_int_equal(cnv_sw_grant_seal(fx.swarm_key, fx.node_pk, again), CNV_OK);
  assert_memory_not_equal(sealed, again, sizeof sealed); /* ephemeral sender key each time */
  assert_int_equal(cnv_sw_grant_open(fx.node_sk, sealed, key), CNV_OK);
  assert_memory_equal(key, fx.swarm_key, 32);
  assert_int_equal(cnv_sw_grant_open(fx.agent_sk, sealed, key), CNV_ESW_OPEN);
  for (size_t i = 0; i < sizeof sealed; i++) {
    sealed[i] ^= 0x01;
    assert_int_equal(cnv_sw_grant_open(fx.node_sk, sealed, key), CNV_ESW_OPEN);
    sealed[i] ^= 0x01;
  }
  /* not a point on the curve: y = 2 has no x */
  uint8_t bad[32] = {2};
  assert_int_equal(cnv_sw_grant_seal(fx.swarm_key, bad, sealed), CNV_ESW_PROOF);
  assert_int_equal(cnv_sw_grant_seal(NULL, fx.node_pk, sealed), CNV_EINVAL);
  assert_int_equal(cnv_sw_grant_seal(fx.swarm_key, NULL, sealed), CNV_EINVAL);
  assert_int_equal(cnv_sw_grant_seal(fx.swarm_key, fx.node_pk, NULL), CNV_EINVAL);
  assert_int_equal(cnv_sw_grant_open(NULL, sealed, key), CNV_EINVAL);
  assert_int_equal(cnv_sw_grant_open(fx.node_sk, NULL, key), CNV_EINVAL);
  assert_int_equal(cnv_sw_grant_open(fx.node_sk, sealed, NULL), CNV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_kind),
      cmocka_unit_test(test_kind_bound_to_key),
      cmocka_unit_test(test_signer),
      cmocka_unit_test(test_bodies_and_limits),
      cmocka_unit_test(test_grants),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
