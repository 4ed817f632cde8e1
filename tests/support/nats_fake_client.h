/* Test support: a swarm client made from swarmwire calls over a raw NATS connection (no
 * cnv_nats_client), for the tests that drive a node's wire directly (tests/nats_node,
 * tests/nats_attack): the HELLO/WELCOME handshake, sealed REQUESTs, opened answers, and the
 * tokens those tests mint. Every step asserts (cmocka), so a call that returns succeeded.
 * Link with tests/support/nats_fake_client.c (it uses libcnv, libnats, libsodium and cmocka). */
#ifndef CNV_TEST_NATS_FAKE_CLIENT_H
#define CNV_TEST_NATS_FAKE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include <cnv/delegation.h>
#include <cnv/swarmwire.h>

/* How long a wait for an answer that should come may take: far more than it takes. */
#define NATS_FAKE_WAIT_MS 10000

/* A root token signed by root_sk for audience on swarm, allowing the n_allow patterns of
 * allow, no expiry, unlimited uses, all effects, into out (CNV_DELEG_MAX_TOKEN_BYTES). */
void nats_fake_mint(uint32_t swarm, const uint8_t root_sk[64], const uint8_t audience[32], const char *const *allow,
                    int n_allow, uint8_t *out, size_t *len);

/* Milliseconds since the Unix epoch (CLOCK_REALTIME), the wire's clock. */
uint64_t now_ms(void);

typedef struct client {
  natsConnection *nc;
  jsCtx *js;
  natsSubscription *sub; /* "cnv.S.s.SID.>" */
  uint32_t swarm;
  uint8_t sid[16], c2s[32], s2c[32];
  uint8_t ticket[CNV_SW_MAX_TICKET];
  size_t ticket_len;
  bool no_ticket; /* seal without the ticket (the node must hold the session) */
  uint64_t seq;
  int64_t skew_ms;   /* added to the client's clock */
  uint8_t out[4096]; /* the last request sent */
  size_t out_len;
  char subject[CNV_SW_SUBJECT_MAX], reply[CNV_SW_SUBJECT_MAX];
} client;

/* Connects c to url and makes the handshake on swarm as the agent (agent_pk, agent_sk) with
 * token tok: HELLO -> WELCOME. Returns the WELCOME's status; 0: c holds a ticket, the
 * session's keys and a subscription to the session's subjects. Close c with client_close
 * whatever it returns. */
int32_t client_open(client *c, const char *url, uint32_t swarm, const uint8_t agent_pk[32], const uint8_t agent_sk[64],
                    const uint8_t *tok, size_t tok_len);

void client_close(client *c);

/* Seals "line" for request reqid into c->out (a new sequence number) with reply subject
 * reply_reqid's REPLY subject (normally reqid's); does not send it. */
void client_seal(client *c, const char *line, uint64_t reqid, uint64_t reply_reqid);

/* Publishes c->out on c->subject with reply c->reply, and flushes. */
void client_publish(client *c);

typedef struct answer {
  uint64_t reqid;
  bool refusal;
  int32_t status;
  int done; /* -1 for a refusal */
  char result[256];
  char subject[CNV_SW_SUBJECT_MAX];
} answer;

/* The next message on the session's subjects (within NATS_FAKE_WAIT_MS), opened. */
answer client_recv(client *c);

/* Sends line as request reqid and returns its answer. */
answer call(client *c, const char *line, uint64_t reqid);

#endif
