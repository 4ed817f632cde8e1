/* tests/support/nats_fake_client.h. */
#include "support/nats_fake_client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <cnv/session.h>

void nats_fake_mint(uint32_t swarm, const uint8_t root_sk[64], const uint8_t audience[32], const char *const *allow,
                    int n_allow, uint8_t *out, size_t *len) {
  cnv_deleg_caveats cav;
  memset(&cav, 0, sizeof cav);
  cav.expiry = CNV_DELEG_NO_EXPIRY;
  cav.swarm = swarm;
  cav.max_uses = CNV_DELEG_UNLIMITED_USES;
  cav.effects = CNV_EFFECTS_ALL;
  cav.n_allow = (uint8_t)n_allow;
  for (int i = 0; i < n_allow; i++)
    assert_int_equal(cnv_deleg_pattern_parse(allow[i], strlen(allow[i]), &cav.allow[i]), CNV_OK);
  assert_int_equal(cnv_deleg_mint_root(root_sk, audience, &cav, NULL, out, CNV_DELEG_MAX_TOKEN_BYTES, len), CNV_OK);
}

uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int32_t client_open(client *c, const char *url, uint32_t swarm, const uint8_t agent_pk[32], const uint8_t agent_sk[64],
                    const uint8_t *tok, size_t tok_len) {
  memset(c, 0, sizeof *c);
  c->swarm = swarm;
  assert_int_equal(natsConnection_ConnectTo(&c->nc, url), NATS_OK);
  assert_int_equal(natsConnection_JetStream(&c->js, c->nc, NULL), NATS_OK);
  uint8_t eph_pk[32], eph_sk[32], hello_buf[CNV_SW_MAX_TOKEN + 256], hh[32];
  assert_int_equal(cnv_sw_eph_keypair(eph_pk, eph_sk), CNV_OK);
  cnv_sw_hello h = {.ts_ms = now_ms(), .token = tok, .token_len = tok_len};
  memcpy(h.agent_pk, agent_pk, 32);
  memcpy(h.eph_pk, eph_pk, 32);
  size_t len;
  assert_int_equal(cnv_sw_hello_write(swarm, agent_sk, &h, hello_buf, sizeof hello_buf, &len), CNV_OK);
  assert_int_equal(cnv_sw_hash(hello_buf, len, hh), CNV_OK);
  char hs[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_swarm(CNV_SW_SUBJ_HANDSHAKE, swarm, hs, sizeof hs, NULL), CNV_OK);
  natsMsg *m = NULL;
  assert_int_equal(natsConnection_Request(&m, c->nc, hs, hello_buf, (int)len, NATS_FAKE_WAIT_MS), NATS_OK);
  cnv_sw_welcome w;
  assert_int_equal(
      cnv_sw_welcome_read(swarm, hh, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &w), CNV_OK);
  int32_t status = w.status;
  if (status == 0) {
    assert_int_equal(cnv_sw_session_keys(eph_sk, w.eph_pk, hh, w.node_pk, w.eph_pk, c->c2s, c->s2c), CNV_OK);
    memcpy(c->ticket, w.ticket, w.ticket_len);
    c->ticket_len = w.ticket_len;
    memcpy(c->sid, hh, 16); /* the session id: the HELLO's hash, cut (docs/nats.md) */
    char all[CNV_SW_SUBJECT_MAX];
    assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_ALL, swarm, c->sid, 0, all, sizeof all, NULL), CNV_OK);
    assert_int_equal(natsConnection_SubscribeSync(&c->sub, c->nc, all), NATS_OK);
    assert_int_equal(natsConnection_Flush(c->nc), NATS_OK);
  }
  natsMsg_Destroy(m);
  return status;
}

void client_close(client *c) {
  natsSubscription_Destroy(c->sub);
  jsCtx_Destroy(c->js);
  natsConnection_Destroy(c->nc);
}

void client_seal(client *c, const char *line, uint64_t reqid, uint64_t reply_reqid) {
  size_t path_len = strcspn(line, " ");
  assert_int_equal(cnv_sw_subject_cap(c->swarm, line, path_len, c->subject, sizeof c->subject, NULL), CNV_OK);
  assert_int_equal(
      cnv_sw_subject_session(CNV_SW_SESS_REPLY, c->swarm, c->sid, reply_reqid, c->reply, sizeof c->reply, NULL),
      CNV_OK);
  uint8_t plain[1024];
  size_t plain_len;
  cnv_session_invoke inv = {.line = line, .line_len = strlen(line)};
  assert_int_equal(cnv_session_invoke_encode(&inv, plain, sizeof plain, &plain_len), CNV_OK);
  assert_int_equal(cnv_sw_request_seal(c->c2s, c->ticket, c->no_ticket ? 0 : c->ticket_len, ++c->seq, reqid,
                                       (uint64_t)((int64_t)now_ms() + c->skew_ms), 0, c->subject, c->reply, plain,
                                       plain_len, c->out, sizeof c->out, &c->out_len),
                   CNV_OK);
}

void client_publish(client *c) {
  assert_int_equal(natsConnection_PublishRequest(c->nc, c->subject, c->reply, c->out, (int)c->out_len), NATS_OK);
  assert_int_equal(natsConnection_Flush(c->nc), NATS_OK);
}

answer client_recv(client *c) {
  natsMsg *m = NULL;
  assert_int_equal(natsSubscription_NextMsg(&m, c->sub, NATS_FAKE_WAIT_MS), NATS_OK);
  answer a;
  memset(&a, 0, sizeof a);
  snprintf(a.subject, sizeof a.subject, "%s", natsMsg_GetSubject(m));
  cnv_sw_response r;
  assert_int_equal(cnv_sw_response_parse(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &r), CNV_OK);
  a.reqid = r.reqid;
  a.refusal = r.refusal;
  if (r.refusal) {
    a.status = r.status;
    a.done = -1;
  } else {
    uint8_t plain[1024];
    size_t plain_len;
    cnv_session_response sr;
    assert_int_equal(cnv_sw_response_open(c->s2c, &r, plain, sizeof plain, &plain_len), CNV_OK);
    assert_int_equal(cnv_session_response_decode(plain, plain_len, &sr), CNV_OK);
    a.status = sr.status;
    a.done = sr.done;
    assert_true(sr.result_len < sizeof a.result);
    memcpy(a.result, sr.result, sr.result_len);
  }
  natsMsg_Destroy(m);
  return a;
}

answer call(client *c, const char *line, uint64_t reqid) {
  client_seal(c, line, reqid, reqid);
  client_publish(c);
  answer a = client_recv(c);
  assert_int_equal(a.reqid, reqid);
  return a;
}
