/* nats_invoke/raw: the peer of nats_invoke/cnv. nats.c request/reply echo through the same
 * kind of local nats-server, with the same load, and nothing checked, sealed or queued.
 *
 * One nats-server with JetStream (nats_env.h), as nats_invoke/cnv's (JetStream is idle here).
 * A responder (its own natsConnection, in this process) subscribes to "bench.echo" in a queue
 * group, as a node serves a capability, and publishes every request's bytes back to its reply
 * subject from nats.c's delivery thread. The requester (another natsConnection, driven from the
 * benchmark's thread as a cnv_nats_client is) keeps NB_IN_FLIGHT requests in flight: it
 * publishes requests with reply subjects "_INBOX.bench.N" (one per slot) under one wildcard
 * subscription read synchronously, and sends the next request as each answer comes (checking
 * only that an answer came). One benchmark iteration is one round of NB_ROUND_CALLS requests;
 * the rate reported is the requests of every round over the rounds' time. */
#include <stdio.h>
#include <string.h>

#include <nats/nats.h>

#include "../harness/cnv_bench.h"
#include "nats_env.h"

#define RAW_SUBJECT "bench.echo"
#define RAW_QUEUE "bench"
#define RAW_INBOX "_INBOX.bench"

/* The responder: every request's bytes back to its reply subject. */
static void echo_cb(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
  (void)sub;
  (void)closure;
  const char *reply = natsMsg_GetReply(msg);
  /* A failed echo shows as a missing answer: the requester's round stalls and fails. */
  if (reply) (void)natsConnection_Publish(nc, reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
  natsMsg_Destroy(msg);
}

typedef struct raw_fixture {
  nats_cluster *servers;
  natsConnection *resp_nc, *req_nc;
  natsSubscription *resp_sub, *inbox;
  char reply[NB_IN_FLIGHT][32];
} raw_fixture;

/* A connection to url that sends each publish at once (natsOptions_SetSendAsap) instead of
 * leaving it to nats.c's flusher thread: with the flusher, the wait before each batch leaves,
 * not the work, sets the pace (about 32 k requests/s on the 2-core VM, against 120 k with
 * send-asap). */
static natsStatus raw_connect(natsConnection **nc, const char *url) {
  natsOptions *o = NULL;
  natsStatus s = natsOptions_Create(&o);
  if (s == NATS_OK) s = natsOptions_SetURL(o, url);
  if (s == NATS_OK) s = natsOptions_SetSendAsap(o, true);
  if (s == NATS_OK) s = natsConnection_Connect(nc, o);
  natsOptions_Destroy(o);
  return s;
}

static void raw_stop(void *arg) {
  raw_fixture *fx = arg;
  natsSubscription_Destroy(fx->inbox);
  natsSubscription_Destroy(fx->resp_sub);
  natsConnection_Destroy(fx->req_nc);
  natsConnection_Destroy(fx->resp_nc);
  fx->inbox = fx->resp_sub = NULL;
  fx->req_nc = fx->resp_nc = NULL;
  nats_cluster_stop(fx->servers);
  fx->servers = NULL;
}

static int raw_start(raw_fixture *fx, char *err, size_t err_cap) {
  memset(fx, 0, sizeof *fx);
  if (nb_servers_start(1, &fx->servers, err, err_cap) != 0) return -1;
  for (int i = 0; i < NB_IN_FLIGHT; i++) snprintf(fx->reply[i], sizeof fx->reply[i], RAW_INBOX ".%d", i);
  const char *step = NULL;
  natsStatus s;
  if ((s = raw_connect(&fx->resp_nc, nats_cluster_url(fx->servers, 0))) != NATS_OK)
    step = "responder connect";
  else if ((s = natsConnection_QueueSubscribe(&fx->resp_sub, fx->resp_nc, RAW_SUBJECT, RAW_QUEUE, echo_cb, NULL)) !=
           NATS_OK)
    step = "responder subscribe";
  else if ((s = natsConnection_Flush(fx->resp_nc)) != NATS_OK) /* the server has the subscription */
    step = "responder flush";
  else if ((s = raw_connect(&fx->req_nc, nats_cluster_url(fx->servers, 0))) != NATS_OK)
    step = "requester connect";
  else if ((s = natsConnection_SubscribeSync(&fx->inbox, fx->req_nc, RAW_INBOX ".*")) != NATS_OK)
    step = "requester subscribe";
  else if ((s = natsConnection_Flush(fx->req_nc)) != NATS_OK)
    step = "requester flush";
  if (step) {
    snprintf(err, err_cap, "%s: %s", step, natsStatus_GetText(s));
    raw_stop(fx);
    return -1;
  }
  return 0;
}

/* One round: NB_ROUND_CALLS requests, NB_IN_FLIGHT in flight. 0, or -1 with err set. */
static int raw_round(void *arg, char *err, size_t err_cap) {
  raw_fixture *fx = arg;
  static const char payload[] = NB_ECHO_LINE;
  long submitted = 0, done = 0;
  while (done < NB_ROUND_CALLS) {
    while (submitted - done < NB_IN_FLIGHT && submitted < NB_ROUND_CALLS) {
      natsStatus s = natsConnection_PublishRequest(fx->req_nc, RAW_SUBJECT, fx->reply[submitted % NB_IN_FLIGHT],
                                                   payload, (int)(sizeof payload - 1));
      if (s != NATS_OK) {
        snprintf(err, err_cap, "publish: %s", natsStatus_GetText(s));
        return -1;
      }
      submitted++;
    }
    natsMsg *m = NULL;
    natsStatus s = natsSubscription_NextMsg(&m, fx->inbox, NB_STALL_MS);
    if (s != NATS_OK) {
      snprintf(err, err_cap, "waiting for an answer: %s", natsStatus_GetText(s));
      return -1;
    }
    natsMsg_Destroy(m);
    done++;
  }
  return 0;
}

static void nats_invoke_raw(cnv_bench_state *st) {
  static raw_fixture fx;
  char err[256];
  if (raw_start(&fx, err, sizeof err) != 0) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  nb_rounds_run(st, &fx, raw_round, raw_stop);
}
CNV_BENCH(nats_invoke_raw, "nats_invoke/raw", 1, 0)
