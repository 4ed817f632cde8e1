/* The node's life cycle: create (configuration, its own token), start (connection that
 * reconnects forever, JetStream, the state half, then the serve half), stop (the other way
 * round), destroy; its events and its counters. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/ignore.h"
#include "serve_internal.h"
#include "shared_internal.h"

#define DEFAULT_WINDOW_MS 120000u
#define MIN_WINDOW_MS 10000u
#define DEFAULT_TICKET_TTL_MS 3600000u
#define DEFAULT_STATUS_MS 1000u
#define DEFAULT_SESSIONS 4096u
#define DEFAULT_CONNECT_MS 10000u
#define DEFAULT_MAX_MESSAGE (65536u + CNV_SW_MAX_TICKET)
#define DEFAULT_HANDSHAKES_PER_S 1000u
#define MAX_HANDSHAKES_PER_S 1000000u

void natsn_event(cnv_nats_node *n, const cnv_nats_event *ev) {
  if (n->cfg.on_event) n->cfg.on_event(n->cfg.event_ctx, ev);
}

static void on_disconnected(natsConnection *nc, void *closure) {
  (void)nc;
  cnv_nats_event ev = {.kind = CNV_NATS_EV_DISCONNECTED};
  natsn_event(closure, &ev);
}

static void on_reconnected(natsConnection *nc, void *closure) {
  (void)nc;
  cnv_nats_event ev = {.kind = CNV_NATS_EV_RECONNECTED};
  natsn_event(closure, &ev);
}

static void on_closed(natsConnection *nc, void *closure) {
  (void)nc;
  natsn_serve *s = ((cnv_nats_node *)closure)->serve;
  pthread_mutex_lock(&s->closed_lock);
  s->closed = true;
  pthread_cond_broadcast(&s->closed_cv);
  pthread_mutex_unlock(&s->closed_lock);
}

/* Fills the defaults in and checks the limits. */
static cnv_status settle(cnv_nats_node_config *c) {
  if (!c->dedupe_window_ms) c->dedupe_window_ms = DEFAULT_WINDOW_MS;
  if (!c->ticket_ttl_ms) c->ticket_ttl_ms = DEFAULT_TICKET_TTL_MS;
  if (!c->status_interval_ms) c->status_interval_ms = DEFAULT_STATUS_MS;
  if (!c->max_sessions) c->max_sessions = DEFAULT_SESSIONS;
  if (!c->replicas) c->replicas = 1;
  if (!c->connect_timeout_ms) c->connect_timeout_ms = DEFAULT_CONNECT_MS;
  if (!c->max_message) c->max_message = DEFAULT_MAX_MESSAGE;
  if (!c->max_handshakes_per_s) c->max_handshakes_per_s = DEFAULT_HANDSHAKES_PER_S;
  if (c->dedupe_window_ms < MIN_WINDOW_MS || c->replicas > 5 || c->once > CNV_NATS_ONCE_ALL ||
      c->token_len > CNV_SW_MAX_TOKEN || c->max_message > (1u << 26) || c->max_message < 1024u ||
      c->max_handshakes_per_s > MAX_HANDSHAKES_PER_S)
    return CNV_ERANGE;
  return CNV_OK;
}

static void free_node(cnv_nats_node *n) {
  natsn_shared_destroy(n);
  natsn_serve_destroy(n);
  sodium_memzero(n->secret_key, sizeof n->secret_key);
  free(n->servers);
  free(n->token);
  free(n);
}

cnv_status cnv_nats_node_create(const cnv_nats_node_config *cfg, cnv_runtime *rt, cnv_nats_node **out) {
  if (!cfg || !rt || !out || !cfg->servers || !*cfg->servers || !cfg->secret_key || !cfg->token ||
      !cfg->token_len || cfg->swarm == 0 || cfg->swarm != cnv_runtime_swarm_id(rt))
    return CNV_EINVAL;
  cnv_nats_node *n = calloc(1, sizeof *n);
  if (!n) return CNV_ENOMEM;
  n->cfg = *cfg;
  cnv_status st = settle(&n->cfg);
  if (st != CNV_OK) {
    free(n);
    return st;
  }
  n->rt = rt;
  n->servers = strdup(cfg->servers);
  n->token = malloc(cfg->token_len);
  if (!n->servers || !n->token) {
    free_node(n);
    return CNV_ENOMEM;
  }
  memcpy(n->token, cfg->token, cfg->token_len);
  memcpy(n->secret_key, cfg->secret_key, sizeof n->secret_key);
  /* libsodium's Ed25519 secret key is seed || public key */
  memcpy(n->public_key, n->secret_key + CNV_SW_SECRET_BYTES - CNV_SW_KEY_BYTES, sizeof n->public_key);
  n->cfg.servers = n->servers;
  n->cfg.secret_key = n->secret_key;
  n->cfg.token = n->token;
  st = natsn_check_serve_token(n, n->public_key, n->token, n->cfg.token_len);
  if (st == CNV_OK) st = natsn_serve_create(n);
  if (st != CNV_OK) {
    free_node(n);
    return st;
  }
  *out = n;
  return CNV_OK;
}

/* Sets the servers: `first` (when given) then those of the comma list that differ from it,
 * tried in that order; the list alone is shuffled, as nats.c does by default. */
static natsStatus set_servers(natsOptions *o, const char *first, const char *list) {
  char *copy = strdup(list);
  if (!copy) return NATS_NO_MEMORY;
  const char *urls[65];
  int count = 0;
  if (first) urls[count++] = first;
  for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && count < 65; tok = strtok_r(NULL, ",", &save))
    if (*tok && !(first && strcmp(tok, first) == 0)) urls[count++] = tok;
  natsStatus ns = count ? natsOptions_SetServers(o, urls, count) : NATS_INVALID_ARG;
  if (ns == NATS_OK && first) ns = natsOptions_SetNoRandomize(o, true);
  free(copy);
  return ns;
}

/* The options every connection of the node shares (servers as set_servers). */
static natsStatus conn_options(const cnv_nats_node *n, const char *first, natsOptions **out) {
  natsOptions *o = NULL;
  natsStatus ns = natsOptions_Create(&o);
  if (ns == NATS_OK) ns = set_servers(o, first, n->servers);
  if (ns == NATS_OK) ns = natsOptions_SetMaxReconnect(o, -1); /* forever */
  if (ns == NATS_OK) ns = natsOptions_SetTimeout(o, n->cfg.connect_timeout_ms);
  /* each publish (an answer, a claim) is written at once rather than left to nats.c's flusher
   * thread, whose wait before each batch otherwise sets the pace of request/reply (about half
   * the calls per second in bench nats_invoke) */
  if (ns == NATS_OK) ns = natsOptions_SetSendAsap(o, true);
  /* a node cut off from NATS serves nothing: try again soon (nats.c's default waits 2 s) */
  if (ns == NATS_OK) ns = natsOptions_SetReconnectWait(o, 250);
  if (ns != NATS_OK) {
    natsOptions_Destroy(o);
    return ns;
  }
  *out = o;
  return NATS_OK;
}

cnv_status natsn_answer_conns_open(cnv_nats_node *n, natsConnection **conns, uint32_t count) {
  /* on the server the main connection uses first: an answer then takes the path its request
   * took (on another server of a cluster it would cross a route) */
  char url[512];
  const char *first = natsConnection_GetConnectedUrl(n->nc, url, sizeof url) == NATS_OK && url[0] ? url : NULL;
  natsOptions *o = NULL;
  if (conn_options(n, first, &o) != NATS_OK) return CNV_ENATS_CONNECT;
  cnv_status st = CNV_OK;
  for (uint32_t i = 0; i < count && st == CNV_OK; i++)
    if (natsConnection_Connect(&conns[i], o) != NATS_OK) {
      conns[i] = NULL;
      st = CNV_ENATS_CONNECT;
    }
  natsOptions_Destroy(o);
  return st;
}

static void disconnect(cnv_nats_node *n) {
  jsCtx_Destroy(n->js);
  n->js = NULL;
  if (n->nc) {
    natsConnection_Close(n->nc);
    /* the connection's callbacks (disconnected, then closed) run later on nats.c's thread:
     * the node must outlive them */
    natsn_serve *s = n->serve;
    pthread_mutex_lock(&s->closed_lock);
    while (!s->closed) pthread_cond_wait(&s->closed_cv, &s->closed_lock);
    pthread_mutex_unlock(&s->closed_lock);
    natsConnection_Destroy(n->nc);
  }
  n->nc = NULL;
}

static cnv_status node_connect(cnv_nats_node *n) {
  natsOptions *o = NULL;
  natsStatus ns = conn_options(n, NULL, &o);
  if (ns != NATS_OK) return CNV_ENATS_CONNECT;
  ns = natsOptions_SetDisconnectedCB(o, on_disconnected, n);
  if (ns == NATS_OK) ns = natsOptions_SetReconnectedCB(o, on_reconnected, n);
  if (ns == NATS_OK) ns = natsOptions_SetClosedCB(o, on_closed, n);
  if (ns == NATS_OK) ns = natsConnection_Connect(&n->nc, o);
  natsOptions_Destroy(o);
  if (ns != NATS_OK) {
    n->nc = NULL;
    return CNV_ENATS_CONNECT;
  }
  jsOptions jo;
  if (jsOptions_Init(&jo) != NATS_OK) return CNV_ENATS_JETSTREAM;
  jo.Wait = n->cfg.connect_timeout_ms;
  jo.PublishAsync.AckHandler = natsn_once_ack;
  jo.PublishAsync.AckHandlerClosure = n;
  jo.PublishAsync.MaxPending = 2 * (int64_t)cnv_runtime_in_flight_limit(n->rt);
  if (natsConnection_JetStream(&n->js, n->nc, &jo) != NATS_OK) return CNV_ENATS_JETSTREAM;
  return CNV_OK;
}

cnv_status cnv_nats_node_start(cnv_nats_node *n) {
  if (!n) return CNV_EINVAL;
  if (n->started) return CNV_ESTATE;
  n->started = true;
  cnv_status st = node_connect(n);
  if (st == CNV_OK) {
    st = natsn_state_start(n);
    if (st == CNV_OK) {
      st = natsn_shared_start(n);
      if (st == CNV_OK) {
        st = natsn_serve_start(n);
        if (st != CNV_OK) natsn_shared_stop(n);
      }
      if (st != CNV_OK) natsn_state_stop(n);
    }
  }
  if (st != CNV_OK) {
    disconnect(n);
    n->stopped = true;
  }
  return st;
}

cnv_status cnv_nats_node_stop(cnv_nats_node *n) {
  if (!n) return CNV_EINVAL;
  if (!n->started || n->stopped) return CNV_OK;
  n->stopped = true;
  natsn_serve_stop(n);
  natsn_shared_stop(n);
  natsn_state_stop(n);
  disconnect(n);
  return CNV_OK;
}

void cnv_nats_node_destroy(cnv_nats_node *n) {
  if (!n) return;
  cnv__ignore_status(cnv_nats_node_stop(n)); /* non-NULL: cannot fail */
  free_node(n);
}

cnv_status cnv_nats_node_stats_get(const cnv_nats_node *n, cnv_nats_node_stats *out) {
  if (!n || !out) return CNV_EINVAL;
  /* statistics: each counter exact, the set not one instant (relaxed loads) */
  const natsn_counters *c = &n->stats;
  out->handshakes = cnv__load_relaxed(&c->handshakes);
  out->handshake_refused = cnv__load_relaxed(&c->handshake_refused);
  out->handshake_limited = cnv__load_relaxed(&c->handshake_limited);
  out->requests = cnv__load_relaxed(&c->requests);
  out->accepted = cnv__load_relaxed(&c->accepted);
  out->answered = cnv__load_relaxed(&c->answered);
  out->denied = cnv__load_relaxed(&c->denied);
  out->claims = cnv__load_relaxed(&c->claims);
  out->duplicates = cnv__load_relaxed(&c->duplicates);
  out->stored_answers = cnv__load_relaxed(&c->stored_answers);
  out->takeovers = cnv__load_relaxed(&c->takeovers);
  out->replays = cnv__load_relaxed(&c->replays);
  out->stale = cnv__load_relaxed(&c->stale);
  out->bad_tickets = cnv__load_relaxed(&c->bad_tickets);
  out->tampered = cnv__load_relaxed(&c->tampered);
  out->forged = cnv__load_relaxed(&c->forged);
  out->records_applied = cnv__load_relaxed(&c->records_applied);
  out->records_bad = cnv__load_relaxed(&c->records_bad);
  out->sessions = cnv__load_relaxed(&c->sessions);
  out->no_session = cnv__load_relaxed(&c->no_session);
  return CNV_OK;
}
