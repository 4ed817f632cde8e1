/* Our side of the serve cases: an in-process cnv server and C clients over loopback TCP.
 *
 * Each case builds its own fixture before its loop and tears it down after (nothing is left
 * running): a runtime with SERVE_WORKERS workers and one capability, demo.echo (its handler
 * parses the line and writes the --text value as the result), a trusted root and a token it
 * minted for the agent (demo.*, read-only); a cnv_server with SERVE_IO_THREADS event loop(s)
 * in front of it, listening on 127.0.0.1 with a port the kernel picks. Every call therefore
 * goes through the whole path: the client seals an INVOCATION (AEAD), the server opens it,
 * submits it to the runtime (parse, capability, phase, the session's prepared token, queue),
 * a worker runs the handler, the server seals the RESPONSE and the client opens it and checks
 * the echoed text. The line is `demo.echo --text PONG`, the result `PONG`: about the size of
 * Redis's PING_INLINE and its +PONG.
 *
 * The client side is one thread (the benchmark's own) driving SERVE_CONNS connections, each
 * connected once before the loop (like redis-benchmark's kept-alive clients), through their
 * descriptors with poll(2) (cnv_client_fd, cnv_client_wants_write), the way redis-benchmark
 * drives its connections from its one event loop: each turn fills every connection's pipeline
 * (cnv_client_submit queues), sends it (cnv_client_flush), then waits in poll(2) for any
 * connection and lets the ready ones read their answers (cnv_client_poll without waiting).
 * One benchmark iteration is one round of the same number of calls in all as
 * redis-benchmark's -n.
 *
 * serve_echo_p16/cnv: SERVE_PIPELINE calls in flight per connection, P16_CALLS per round; the
 * rate reported is the calls of every round over the rounds' time (from the first submit to
 * the last answer), so the connects are not counted, as redis-benchmark does not count its
 * own.
 *
 * serve_echo_p1/cnv: one call in flight per connection, P1_CALLS per round; each call's
 * latency is the time from its submit to its callback (the runtime's monotonic clock), as
 * redis-benchmark takes it in its loop. Each round gives the p50 and p99 of its calls, as each
 * redis-benchmark run gives its own; the case reports the medians over the rounds
 * (serve_report_latency: 1e9 / p99 ns as the rate, p50_us and p99_us as counters).
 *
 * session_handshake/cnv: one thread connecting (TCP connect, HELLO, HELLO_REPLY, AUTH, READY:
 * cnv_client_connect returns once READY is in) and closing, again and again, against the same
 * fixture; items = handshakes, so the figure is handshakes per second of one agent
 * reconnecting (the same token each time: the server's token cache is warm). */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv.h>
#include <cnv/client.h>
#include <cnv/server.h>

#include "../harness/cnv_bench.h"
#include "../runtime/bench_rt.h"
#include "serve_peer.h"

/* The defaults of the runtime and the server (as `cnv serve` runs them): 2 workers that spin
 * briefly then park, one event loop. */
#define SERVE_WORKERS 2
#define SERVE_IO_THREADS 1
#define ECHO_LINE "demo.echo --text PONG"
#define ECHO_LINE_LEN (sizeof ECHO_LINE - 1)
#define ECHO_TEXT "PONG"
#define ECHO_TEXT_LEN (sizeof ECHO_TEXT - 1)
#define P16_CALLS 200000L /* per round, all connections: as serve_echo_p16/redis's -n */
#define P1_CALLS 40000L   /* as serve_echo_p1/redis's -n */
#define POLL_MS 10000     /* a connection with no answer for this long fails the case */

/* ---- fixture: runtime, server, the agent's keys and token ----------------------------- */

typedef struct serve_fixture {
  cnv_runtime *rt;
  cnv_server *srv;
  char address[CNV_SERVER_ADDRESS_MAX];
  uint8_t server_pk[CNV_SESSION_KEY_BYTES];
  uint8_t agent_sk[CNV_SESSION_SECRET_BYTES];
  uint8_t token[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t token_len;
} serve_fixture;

static void fixture_stop(serve_fixture *fx) {
  if (fx->srv) {
    cnv_status st = cnv_server_stop(fx->srv);
    if (st != CNV_OK) fprintf(stderr, "serve bench: cnv_server_stop: %s\n", cnv_strerror(st));
    cnv_server_destroy(fx->srv);
    fx->srv = NULL;
  }
  if (fx->rt) {
    cnv_status st = cnv_runtime_stop(fx->rt, 10000000000ull);
    if (st != CNV_OK) fprintf(stderr, "serve bench: cnv_runtime_stop: %s\n", cnv_strerror(st));
    cnv_runtime_destroy(fx->rt);
    fx->rt = NULL;
  }
  sodium_memzero(fx->agent_sk, sizeof fx->agent_sk);
}

/* Builds and starts everything; 0, or -1 with the failing step in err (nothing left). */
static int fixture_start(serve_fixture *fx, char *err, size_t err_cap) {
  memset(fx, 0, sizeof *fx);
  if (sodium_init() < 0) {
    snprintf(err, err_cap, "sodium_init failed");
    return -1;
  }
  uint8_t seed[32], root_pk[32], root_sk[64], agent_pk[32], server_sk[64];
  memset(seed, 1, sizeof seed);
  crypto_sign_seed_keypair(root_pk, root_sk, seed);
  memset(seed, 2, sizeof seed);
  crypto_sign_seed_keypair(agent_pk, fx->agent_sk, seed);
  memset(seed, 3, sizeof seed);
  crypto_sign_seed_keypair(fx->server_pk, server_sk, seed);

  cnv_runtime_config rcfg;
  cnv_runtime_config_default(&rcfg);
  rcfg.workers = SERVE_WORKERS;
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = bench_rt_echo_text};
  cnv_server_config scfg;
  cnv_server_config_default(&scfg);
  scfg.secret_key = server_sk;
  scfg.io_threads = SERVE_IO_THREADS;
  scfg.max_sessions_per_peer = 1024; /* session_handshake closes faster than the server may notice */
  scfg.max_inflight = 64;
  const char *step = NULL;
  cnv_status st;
  if ((st = bench_rt_mint(root_sk, agent_pk, "demo.*", 6, fx->token, sizeof fx->token, &fx->token_len)) != CNV_OK)
    step = "bench_rt_mint";
  else if ((st = cnv_runtime_create(&rcfg, &fx->rt)) != CNV_OK)
    step = "cnv_runtime_create";
  else if ((st = cnv_runtime_register(fx->rt, "demo.echo", 9, &spec)) != CNV_OK)
    step = "cnv_runtime_register";
  else if ((st = cnv_runtime_trust_add(fx->rt, root_pk)) != CNV_OK)
    step = "cnv_runtime_trust_add";
  else if ((st = cnv_runtime_start(fx->rt)) != CNV_OK)
    step = "cnv_runtime_start";
  else if ((st = cnv_server_create(&scfg, fx->rt, &fx->srv)) != CNV_OK)
    step = "cnv_server_create";
  else if ((st = cnv_server_listen(fx->srv, "tcp:127.0.0.1:0")) != CNV_OK)
    step = "cnv_server_listen";
  else if ((st = cnv_server_address(fx->srv, 0, fx->address, sizeof fx->address)) != CNV_OK)
    step = "cnv_server_address";
  else if ((st = cnv_server_start(fx->srv)) != CNV_OK)
    step = "cnv_server_start";
  sodium_memzero(root_sk, sizeof root_sk);
  sodium_memzero(server_sk, sizeof server_sk);
  if (step) {
    snprintf(err, err_cap, "%s failed: %s", step, cnv_strerror(st));
    fixture_stop(fx);
    return -1;
  }
  return 0;
}

static cnv_status fixture_connect(const serve_fixture *fx, cnv_client **out) {
  cnv_client_config cfg;
  cnv_client_config_default(&cfg);
  cfg.address = fx->address;
  cfg.secret_key = fx->agent_sk;
  cfg.server_pk = fx->server_pk;
  cfg.token = fx->token;
  cfg.token_len = fx->token_len;
  return cnv_client_connect(&cfg, out);
}

/* ---- the client side: one thread driving every connection ---------------------------- */

typedef struct serve_conn {
  cnv_client *client;
  long submitted, done; /* this round's calls */
  uint64_t sent_ns;     /* p1: when the call in flight was submitted */
  uint64_t *lat;        /* p1: this round's latencies, per_conn of them */
  cnv_status failure;   /* the first thing that went wrong (CNV_OK: nothing) */
  const char *failed_at;
} serve_conn;

typedef struct serve_run {
  int pipeline; /* calls in flight per connection */
  long per_conn;
  serve_conn conn[SERVE_CONNS];
} serve_run;

static void conn_fail(serve_conn *c, const char *at, cnv_status st) {
  if (c->failure == CNV_OK) {
    c->failure = st;
    c->failed_at = at;
  }
}

/* An answer: ours is always CNV_OK with the text echoed. With one call in flight, its latency
 * is the time from its submit to here (as redis-benchmark takes it, in its event loop). */
static void on_done(void *ctx, const cnv_client_result *r) {
  serve_conn *c = ctx;
  if (c->lat) c->lat[c->done] = cnv_runtime_now_ns() - c->sent_ns;
  c->done++;
  if (r->status != CNV_OK)
    conn_fail(c, "a call's answer", r->status);
  else if (r->result_len != ECHO_TEXT_LEN || memcmp(r->result, ECHO_TEXT, ECHO_TEXT_LEN) != 0)
    conn_fail(c, "a call's echo", CNV_EINVAL);
}

/* Keeps the connection's pipeline full (its calls are queued, and leave at its next poll). */
static void conn_top_up(serve_run *run, serve_conn *c) {
  while (c->failure == CNV_OK && c->submitted - c->done < run->pipeline && c->submitted < run->per_conn) {
    if (c->lat) c->sent_ns = cnv_runtime_now_ns();
    cnv_status st = cnv_client_submit(c->client, ECHO_LINE, ECHO_LINE_LEN, 0, on_done, c, NULL);
    if (st == CNV_EFULL) break; /* the server granted less credit: wait for answers */
    if (st != CNV_OK) {
      conn_fail(c, "cnv_client_submit", st);
      return;
    }
    c->submitted++;
  }
}

/* Fills the connection's pipeline and sends it: afterwards it has calls in flight, whose
 * answers its socket announces, or it is through (or failed). */
static void conn_send(serve_run *run, serve_conn *c) {
  conn_top_up(run, c);
  if (c->failure != CNV_OK || c->submitted == c->done) return;
  cnv_status st = cnv_client_flush(c->client);
  if (st != CNV_OK) conn_fail(c, "cnv_client_flush", st);
}

/* One round: per_conn calls on every connection, `pipeline` in flight on each, all driven
 * from this thread like redis-benchmark's event loop: fill and send every pipeline
 * (conn_send), wait in poll(2) for any connection, let the ready ones read their answers
 * (cnv_client_poll without waiting), and again. 0, or -1 when a connection failed. */
static int run_round(serve_run *run) {
  struct pollfd pf[SERVE_CONNS];
  for (int i = 0; i < SERVE_CONNS; i++) run->conn[i].submitted = run->conn[i].done = 0;
  for (;;) {
    int open = 0;
    for (int i = 0; i < SERVE_CONNS; i++) {
      serve_conn *c = &run->conn[i];
      conn_send(run, c);
      if (c->failure != CNV_OK) return -1;
      pf[i] = (struct pollfd){.fd = -1};
      if (c->done < run->per_conn) {
        pf[i].fd = cnv_client_fd(c->client);
        pf[i].events = (short)(POLLIN | (cnv_client_wants_write(c->client) ? POLLOUT : 0));
        open++;
      }
    }
    if (open == 0) return 0;
    int n = poll(pf, SERVE_CONNS, POLL_MS);
    if (n == 0) {
      for (int i = 0; i < SERVE_CONNS; i++)
        if (pf[i].fd >= 0) conn_fail(&run->conn[i], "poll (no answer in time)", CNV_ECLIENT_TIMEOUT);
      return -1;
    }
    for (int i = 0; i < SERVE_CONNS; i++) {
      if (pf[i].fd < 0 || pf[i].revents == 0) continue;
      cnv_status st = cnv_client_poll(run->conn[i].client, 0, NULL);
      if (st != CNV_OK) conn_fail(&run->conn[i], "cnv_client_poll", st);
    }
  }
}

/* The first failure of any connection, as a message in err; 0 when there is none. */
static int run_failure(const serve_run *run, char *err, size_t err_cap) {
  for (int i = 0; i < SERVE_CONNS; i++) {
    const serve_conn *c = &run->conn[i];
    if (c->failure != CNV_OK) {
      snprintf(err, err_cap, "connection %d: %s: %s", i, c->failed_at, cnv_strerror(c->failure));
      return -1;
    }
  }
  return 0;
}

/* Closes the clients, then the fixture. */
static void run_stop(serve_run *run, serve_fixture *fx) {
  for (int i = 0; i < SERVE_CONNS; i++) {
    cnv_client_close(run->conn[i].client);
    run->conn[i].client = NULL;
    free(run->conn[i].lat);
    run->conn[i].lat = NULL;
  }
  fixture_stop(fx);
}

/* Starts the fixture and connects SERVE_CONNS clients. 0: ready; 1: started but something
 * failed (err says what; run_stop ends it); -1: nothing started (err set). */
static int run_start(serve_run *run, serve_fixture *fx, int pipeline, long calls, char *err, size_t err_cap) {
  memset(run, 0, sizeof *run);
  run->pipeline = pipeline;
  run->per_conn = calls / SERVE_CONNS;
  if (fixture_start(fx, err, err_cap) != 0) return -1;
  for (int i = 0; i < SERVE_CONNS; i++) {
    serve_conn *c = &run->conn[i];
    if (pipeline == 1 && !(c->lat = malloc((size_t)run->per_conn * sizeof c->lat[0]))) {
      snprintf(err, err_cap, "out of memory");
      return 1;
    }
    cnv_status st = fixture_connect(fx, &c->client);
    if (st != CNV_OK) {
      c->client = NULL;
      conn_fail(c, "cnv_client_connect", st);
    }
  }
  return run_failure(run, err, err_cap) != 0 ? 1 : 0;
}

/* ---- the cases ------------------------------------------------------------------------ */

static void cnv_echo_case(cnv_bench_state *st, int pipeline, long calls) {
  static serve_fixture fx;
  static serve_run run;
  static serve_tally tally;
  char err[256];
  int rc = run_start(&run, &fx, pipeline, calls, err, sizeof err);
  if (rc < 0) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  uint64_t *all = NULL;
  if (rc == 0 && pipeline == 1 && !(all = malloc((size_t)run.per_conn * SERVE_CONNS * sizeof all[0]))) {
    snprintf(err, sizeof err, "out of memory");
    rc = 1;
  }
  if (rc != 0) { /* a connection failed before the loop */
    free(all);
    run_stop(&run, &fx);
    cnv_bench_skip_with_error(st, err);
    return;
  }
  memset(&tally, 0, sizeof tally);
  while (cnv_bench_keep_running(st)) {
    if (rc != 0) continue; /* a failed round ends the loop through keep_running; reported after */
    uint64_t t0 = cnv_runtime_now_ns();
    if (run_round(&run) != 0) {
      (void)run_failure(&run, err, sizeof err); /* -1: err names the failed connection */
      rc = 1;
      continue;
    }
    uint64_t t1 = cnv_runtime_now_ns();
    uint64_t p50 = 0, p99 = 0;
    if (pipeline == 1) {
      size_t n = 0;
      for (int i = 0; i < SERVE_CONNS; i++) {
        memcpy(all + n, run.conn[i].lat, (size_t)run.per_conn * sizeof all[0]);
        n += (size_t)run.per_conn;
      }
      serve_sort_u64(all, n);
      p50 = serve_percentile(all, n, 50);
      p99 = serve_percentile(all, n, 99);
    }
    serve_tally_add(&tally, (double)(t1 - t0) / 1e9, (double)(run.per_conn * SERVE_CONNS), p50, p99);
  }
  free(all);
  run_stop(&run, &fx);
  if (rc != 0) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  serve_tally_report(st, &tally, pipeline);
}

static void serve_echo_p16_cnv(cnv_bench_state *st) { cnv_echo_case(st, SERVE_PIPELINE, P16_CALLS); }
CNV_BENCH(serve_echo_p16_cnv, "serve_echo_p16/cnv", 1, 0)

static void serve_echo_p1_cnv(cnv_bench_state *st) { cnv_echo_case(st, 1, P1_CALLS); }
CNV_BENCH(serve_echo_p1_cnv, "serve_echo_p1/cnv", 1, 0)

static void session_handshake_cnv(cnv_bench_state *st) {
  serve_fixture fx;
  char err[256];
  if (fixture_start(&fx, err, sizeof err) != 0) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  cnv_status failure = CNV_OK;
  int64_t n = 0;
  while (cnv_bench_keep_running(st)) {
    if (failure != CNV_OK) continue;
    cnv_client *c;
    failure = fixture_connect(&fx, &c);
    if (failure != CNV_OK) continue;
    cnv_client_close(c);
    n++;
  }
  fixture_stop(&fx);
  if (failure != CNV_OK) {
    snprintf(err, sizeof err, "cnv_client_connect: %s", cnv_strerror(failure));
    cnv_bench_skip_with_error(st, err);
    return;
  }
  cnv_bench_set_items_processed(st, n);
}
CNV_BENCH(session_handshake_cnv, "session_handshake/cnv", 1, 0)
