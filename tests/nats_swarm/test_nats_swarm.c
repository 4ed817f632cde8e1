/* The proof of a swarm over NATS, end to end: 3 clustered nats-servers with JetStream
 * (replicas 3), 3 `cnv serve --nats` nodes as child processes (a, b, c; d joins late), the
 * library client in this process for load. The cases run in order on one swarm:
 *   - `cnv call --nats` and `cnv swarm status` see the swarm;
 *   - load spreads across the nodes;
 *   - a replayed or tampered request is refused: no second run;
 *   - a node SIGKILLed mid-run loses no accepted call and runs none twice: every call answered
 *     OK ran exactly once, on the node that answered; a call the killed node had started and
 *     not stored the answer of is answered CNV_ENATS_OUTCOME_UNKNOWN and ran at most once (on
 *     the killed node), never again elsewhere;
 *   - a nats-server killed and restarted mid-run: every call completes, exactly once;
 *   - a revocation made through node a is enforced by b and c (and a);
 *   - a node started after the revocations denies the revoked tokens from its first answer.
 * What ran is read from outside the nodes: the test plugin (plugin_mark.c) writes one line per
 * run of test.mark into a shared file, and serves pin.NODE.echo on node NODE alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <nats/nats.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cnv/status.h>

#include "cli/cli_run.h"
#include "swarm_fx.h"

#define LOAD_CALLS 300
#define LOAD_WINDOW 48

static sfx F;

/* Where the clients (the library's, the tool's, the admin) connect: server 0. Server 1 is the
 * one restarted mid-run (the nodes have all three and move); a list of servers is the case
 * client_takes_a_server_list. */
#define CLIENT_URL nats_cluster_url(F.nc, 0)

static void nap_ms(unsigned ms) {
  struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
  nanosleep(&ts, NULL);
}

static int group_setup(void **state) {
  (void)state;
  if (!sfx_setup(&F)) return -1;
  /* a first: it makes the swarm (bucket, once stream, swarm key); b and c join it */
  for (int i = 0; i < 3; i++)
    if (!sfx_node_start(&F, i)) return -1;
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  sfx_teardown(&F);
  return 0;
}

/* What a case opened, closed after it by close_all (also when it fails half-way). */
static cnv_nats_client *clients[4];
static natsConnection *raw_nc;
static natsSubscription *raw_sub;
static natsMsg *raw_msg;
static cnv_nats_admin *admin;

static cnv_nats_client *keep(cnv_nats_client *c) {
  for (size_t i = 0; i < sizeof clients / sizeof clients[0]; i++) {
    if (!clients[i]) return clients[i] = c;
  }
  fail_msg("more than %zu clients in one case", sizeof clients / sizeof clients[0]);
  return NULL;
}

static int close_all(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof clients / sizeof clients[0]; i++) {
    cnv_nats_client_close(clients[i]);
    clients[i] = NULL;
  }
  natsMsg_Destroy(raw_msg);
  natsSubscription_Destroy(raw_sub);
  natsConnection_Destroy(raw_nc);
  raw_msg = NULL;
  raw_sub = NULL;
  raw_nc = NULL;
  cnv_nats_admin_close(admin);
  admin = NULL;
  return 0;
}

static cnv_nats_client *client_of(const char *agent) {
  cnv_status st = CNV_OK;
  cnv_nats_client *c = sfx_client(CLIENT_URL, agent, &st);
  if (!c) fail_msg("connect %s: %s", agent, cnv_status_name(st));
  return keep(c);
}

/* One call through c; its outcome in *r (result text in text, cap bytes). */
static void call(cnv_nats_client *c, const char *line, cnv_nats_result *r, char *text, size_t cap) {
  memset(text, 0, cap);
  cnv_status st = cnv_nats_client_call(c, line, strlen(line), 0, r, text, cap - 1);
  if (st != CNV_OK) fail_msg("call %s: %s", line, cnv_status_name(st));
}

/* The swarm's status as `cnv swarm status --json` prints it. */
static void swarm_status(cli_result *r) {
  const char *const args[] = {"swarm", "status", "--nats", CLIENT_URL, "--swarm", "17", "--trust",
                              "root.pub", "--json", NULL};
  cli_run(r, args);
}

/* The live nodes' count in the swarm's status, once it reaches want (up to 15 s: a node
 * writes its record every second and counts as dead 3 intervals after its last one). */
static void wait_live(int want) {
  char needle[32];
  snprintf(needle, sizeof needle, "\"live\":%d,", want);
  cli_result r;
  for (int i = 0; i < 150; i++) {
    swarm_status(&r);
    assert_int_equal(r.status, 0);
    if (strstr(r.out, needle)) return;
    nap_ms(100);
  }
  fail_msg("swarm status never showed %s: %s", needle, r.out);
}

/* ---- the tool sees the swarm ---- */

static void cli_call_and_status(void **state) {
  (void)state;
  cli_result r;
  const char *const args[] = {"call", "--nats", CLIENT_URL, "--swarm", "17", "--key", "ag1.key",
                              "--token", "ag1.tok", "--trust", "root.pub", "demo.echo", "--text", "hi", NULL};
  cli_run(&r, args);
  if (r.status != 0) fail_msg("cnv call: exit %d: %s", r.status, r.err);
  assert_string_equal(r.out, "hi\n");
  wait_live(3);
  swarm_status(&r);
  for (int i = 0; i < 3; i++) {
    char node[80];
    snprintf(node, sizeof node, "\"node\":\"%s\",\"live\":true", F.node[i].pk_hex);
    if (!strstr(r.out, node)) fail_msg("node %s not live in: %s", F.node[i].name, r.out);
  }
}

/* The library client and `cnv call` take a comma-separated list of servers, as the nodes do. */
static void client_takes_a_server_list(void **state) {
  (void)state;
  cnv_status st = CNV_OK;
  cnv_nats_client *c = sfx_client(nats_cluster_urls(F.nc), "ag1", &st);
  if (c) keep(c);
  if (!c) fail_msg("connect to %s: %s", nats_cluster_urls(F.nc), cnv_status_name(st));
  cnv_nats_result r;
  char text[64];
  call(c, "demo.echo --text listed", &r, text, sizeof text);
  assert_int_equal(r.status, CNV_OK);
  assert_string_equal(text, "listed");
  cli_result out;
  const char *const args[] = {"call", "--nats", nats_cluster_urls(F.nc), "--swarm", "17",
                              "--key", "ag1.key", "--token", "ag1.tok", "--trust",
                              "root.pub", "demo.echo", "--text", "hi", NULL};
  cli_run(&out, args);
  if (out.status != 0) fail_msg("cnv call: exit %d: %s", out.status, out.err);
  assert_string_equal(out.out, "hi\n");
}

/* A process with a key but no token allowing swarm.serve in this swarm from a trusted root
 * cannot join: `cnv serve --nats` exits 1 before serving anything. */
static void unauthorized_node_refused(void **state) {
  (void)state;
  static const char *const steps[][16] = {
      {"token", "mint", "--key", "root.key", "--audience", "e.pub", "--allow", "demo.*", "--swarm", "17", "--out",
       "e-demo.tok", NULL},
      {"token", "mint", "--key", "root.key", "--audience", "e.pub", "--allow", "swarm.serve", "--swarm", "18",
       "--out", "e-other.tok", NULL},
      {"token", "keygen", "--out", "rogue", NULL},
      {"token", "mint", "--key", "rogue.key", "--audience", "e.pub", "--allow", "swarm.serve", "--swarm", "17",
       "--out", "e-rogue.tok", NULL},
  };
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    cli_result r;
    cli_run(&r, steps[i]);
    if (r.status != 0) fail_msg("cnv %s %s: %s", steps[i][0], steps[i][1], r.err);
  }
  /* no swarm.serve; swarm.serve in another swarm; swarm.serve from a root the nodes do not trust */
  const char *const toks[] = {"e-demo.tok", "e-other.tok", "e-rogue.tok"};
  const char *const why[] = {"does not allow swarm.serve", "cnv: --nats ", "untrusted"};
  for (size_t i = 0; i < sizeof toks / sizeof toks[0]; i++) {
    char err[4096];
    int rc = sfx_node_refused(&F, 4, toks[i], err, sizeof err);
    if (rc != 1) fail_msg("cnv serve --token %s: exit %d (-1: joined or hung): %s", toks[i], rc, err);
    if (!strstr(err, why[i])) fail_msg("cnv serve --token %s: %s", toks[i], err);
  }
}

/* ---- load spreads ---- */

static size_t spread_line(size_t i, char *buf, size_t cap) {
  return (size_t)snprintf(buf, cap, "test.mark --key spread%zu", i);
}

static void load_spreads(void **state) {
  (void)state;
  cnv_nats_client *c = client_of("ag1");
  static sfx_slot slots[LOAD_CALLS];
  assert_int_equal(sfx_load(c, LOAD_CALLS, LOAD_WINDOW, spread_line, slots, NULL, NULL), 0);
  unsigned per_node[3] = {0};
  for (size_t i = 0; i < LOAD_CALLS; i++) {
    assert_int_equal(slots[i].completions, 1);
    if (slots[i].status != CNV_OK) fail_msg("call %zu: %s", i, cnv_status_name(slots[i].status));
    assert_int_equal(strlen(slots[i].result), 1);
    assert_in_range(slots[i].result[0], 'a', 'c');
    per_node[slots[i].result[0] - 'a']++;
  }
  printf("spread: a %u, b %u, c %u of %d calls\n", per_node[0], per_node[1], per_node[2], LOAD_CALLS);
  for (int i = 0; i < 3; i++) assert_true(per_node[i] > 0);
  /* the swarm's own view agrees: every node's status record counts completions */
  assert_int_equal(cnv_nats_admin_connect(CLIENT_URL, SFX_SWARM, 10000, &admin), CNV_OK);
  cnv_nats_admin *a = admin;
  uint8_t root[32];
  size_t n = 0;
  assert_true(sfx_read_hex("root.pub", root, sizeof root, &n));
  bool all = false;
  for (int tries = 0; tries < 100 && !all; tries++) {
    cnv_nats_node_info info[8];
    size_t count = 0;
    assert_int_equal(cnv_nats_admin_status(a, root, 1, info, 8, &count), CNV_OK);
    unsigned seen = 0;
    for (size_t k = 0; k < count && k < 8; k++) {
      char hex[65];
      for (int b = 0; b < 32; b++) snprintf(hex + 2 * b, 3, "%02x", info[k].node_pk[b]);
      for (int i = 0; i < 3; i++)
        if (strcmp(hex, F.node[i].pk_hex) == 0 && info[k].live && info[k].status.completed >= per_node[i])
          seen |= 1u << i;
    }
    all = seen == 7u;
    if (!all) nap_ms(100);
  }
  assert_true(all);
}

/* ---- replayed and tampered requests ---- */

static void republish(natsConnection *nc, const char *subject, const char *reply, const void *data, int len) {
  assert_int_equal(natsConnection_PublishRequest(nc, subject, reply, data, len), NATS_OK);
  assert_int_equal(natsConnection_FlushTimeout(nc, 5000), NATS_OK);
}

static void replay_and_tamper(void **state) {
  (void)state;
  assert_int_equal(natsConnection_ConnectTo(&raw_nc, CLIENT_URL), NATS_OK);
  natsConnection *nc = raw_nc;
  /* a plain subscription (no queue group) gets a copy of every request on the subject */
  assert_int_equal(natsConnection_SubscribeSync(&raw_sub, nc, "cnv.17.cap.test.mark"), NATS_OK);
  assert_int_equal(natsConnection_FlushTimeout(nc, 5000), NATS_OK);

  cnv_nats_client *c = client_of("ag1");
  cnv_nats_result r;
  char text[64];
  call(c, "test.mark --key tamper1", &r, text, sizeof text);
  assert_int_equal(r.status, CNV_OK);
  assert_int_equal(natsSubscription_NextMsg(&raw_msg, raw_sub, 10000), NATS_OK);
  natsMsg *m = raw_msg;
  const char *reply = natsMsg_GetReply(m);
  assert_non_null(reply);
  int len = natsMsg_GetDataLength(m);
  assert_true(len > 64);
  static uint8_t bytes[70000];
  assert_true((size_t)len <= sizeof bytes);
  memcpy(bytes, natsMsg_GetData(m), (size_t)len);

  /* the same bytes again, several times (the queue gives them to any node) */
  for (int i = 0; i < 6; i++) republish(nc, "cnv.17.cap.test.mark", reply, bytes, len);
  /* one byte flipped: in the sealed part's tag, in its ciphertext, in the head (the request
   * id and sequence are associated data) */
  const int at[] = {len - 1, len - 20, 10, 20};
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
    bytes[at[i]] ^= 0x40;
    republish(nc, "cnv.17.cap.test.mark", reply, bytes, len);
    bytes[at[i]] ^= 0x40;
  }
  /* moved to another capability's subject: the subject is associated data too */
  republish(nc, "cnv.17.cap.pin.a.echo", reply, bytes, len);
  /* another reply subject: associated data as well */
  char other[256];
  snprintf(other, sizeof other, "%s0", reply);
  republish(nc, "cnv.17.cap.test.mark", other, bytes, len);

  /* A request after them: its answer means the swarm is fine. A dropped message gives nothing
   * to wait for, so give the nodes a moment, then count the runs. */
  call(c, "test.mark --key tamper2", &r, text, sizeof text);
  assert_int_equal(r.status, CNV_OK);
  nap_ms(1500);
  char who[8];
  assert_int_equal(sfx_runs(&F, "tamper1", who, sizeof who), 1);
  assert_int_equal(sfx_runs(&F, "tamper2", who, sizeof who), 1);
}

/* ---- a node killed mid-run ---- */

static size_t kill_line(size_t i, char *buf, size_t cap) {
  return (size_t)snprintf(buf, cap, "test.mark --key kill%zu", i);
}

static void kill_c_at_100(void *ctx, size_t completed) {
  bool *done = ctx;
  if (*done || completed < 100) return;
  *done = true;
  sfx_node_kill(&F, 2);
}

static void node_killed_mid_run(void **state) {
  (void)state;
  cnv_nats_client *c = client_of("ag1");
  static sfx_slot slots[LOAD_CALLS];
  bool killed = false;
  assert_int_equal(sfx_load(c, LOAD_CALLS, LOAD_WINDOW, kill_line, slots, kill_c_at_100, &killed), 0);
  assert_true(killed);
  static unsigned counts[LOAD_CALLS];
  static sfx_who who[LOAD_CALLS];
  (void)sfx_runs_indexed(&F, "kill", LOAD_CALLS, counts, who);
  unsigned unknown = 0, unknown_ran = 0;
  for (size_t i = 0; i < LOAD_CALLS; i++) {
    /* every call completed, once */
    assert_int_equal(slots[i].completions, 1);
    if (slots[i].status == CNV_OK) {
      /* accepted: it ran exactly once, on the node that answered (none lost, none twice) */
      if (counts[i] != 1 || who[i][0] != slots[i].result[0])
        fail_msg("kill%zu ran %u times (on %s), answered by %s", i, counts[i], who[i], slots[i].result);
      continue;
    }
    /* Not accepted: only a call that the killed node had started (its run marker stored) and
     * died before storing its answer; the swarm cannot know whether it ran, says so, and never
     * runs it again: at most once, on c. */
    if (slots[i].status != CNV_ENATS_OUTCOME_UNKNOWN)
      fail_msg("kill%zu: %s after %u attempts; ran %u times (on %s)", i, cnv_status_name(slots[i].status),
               slots[i].attempts, counts[i], who[i]);
    if (counts[i] > 1 || (counts[i] == 1 && who[i][0] != 'c'))
      fail_msg("kill%zu (outcome unknown) ran %u times (on %s)", i, counts[i], who[i]);
    unknown++;
    unknown_ran += counts[i];
  }
  printf(
      "node c killed after 100 of %d calls: %u answered outcome-unknown (started on c, no answer stored; %u of "
      "them had run there)\n",
      LOAD_CALLS, unknown, unknown_ran);
  /* at most what c could have started: the calls in flight */
  assert_true(unknown <= LOAD_WINDOW);
  /* c comes back (same key) for the cases after */
  assert_true(sfx_node_start(&F, 2));
}

/* ---- a nats-server killed and restarted mid-run ---- */

static size_t server_line(size_t i, char *buf, size_t cap) {
  return (size_t)snprintf(buf, cap, "test.mark --key srv%zu", i);
}

static void restart_server_mid_run(void *ctx, size_t completed) {
  int *phase = ctx;
  if (*phase == 0 && completed >= 100) {
    *phase = 1;
    assert_int_equal(nats_cluster_kill(F.nc, 1), 0);
  } else if (*phase == 1 && completed >= 200) {
    *phase = 2;
    if (nats_cluster_restart(F.nc, 1) != 0) fail_msg("%s", nats_cluster_error());
  }
}

/* For a failure's message: the claims of the once stream that have no stored answer, each
 * with its number of messages (claims, takeovers, run markers) and its last one's kind and
 * author (a node's name, or "?"). */
static void print_open_claims(void) {
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  jsStreamInfo *si = NULL;
  jsOptions o;
  if (natsConnection_ConnectTo(&nc, CLIENT_URL) != NATS_OK || natsConnection_JetStream(&js, nc, NULL) != NATS_OK ||
      jsOptions_Init(&o) != NATS_OK)
    goto out;
  o.Stream.Info.SubjectsFilter = ">";
  if (js_GetStreamInfo(&si, js, "CNV_17_ONCE", &o, NULL) != NATS_OK || !si->State.Subjects) goto out;
  const jsStreamStateSubjects *l = si->State.Subjects;
  unsigned open = 0, claims = 0;
  for (int i = 0; i < l->Count; i++) {
    const char *subj = l->List[i].Subject;
    if (strncmp(subj, "cnv.17.claim.", 13) != 0) continue;
    claims++;
    char sid[40] = "", done[160];
    unsigned long long r = 0;
    if (sscanf(subj + 13, "%32[0-9a-f].%llu", sid, &r) != 2) continue;
    snprintf(done, sizeof done, "cnv.17.s.%s.d.%llu", sid, r);
    bool answered = false;
    for (int j = 0; j < l->Count && !answered; j++) answered = strcmp(l->List[j].Subject, done) == 0;
    if (answered) continue;
    open++;
    natsMsg *m = NULL;
    char who[2] = "?";
    const char *what = "claim";
    if (js_GetLastMsg(&m, js, "CNV_17_ONCE", subj, NULL, NULL) == NATS_OK && natsMsg_GetDataLength(m) >= 32) {
      if (natsMsg_GetDataLength(m) == 33) what = "run marker"; /* its claimer started it */
      char hex[65];
      for (int b = 0; b < 32; b++) snprintf(hex + 2 * b, 3, "%02x", (unsigned char)natsMsg_GetData(m)[b]);
      for (int k = 0; k < SFX_NODES; k++)
        if (strcmp(hex, F.node[k].pk_hex) == 0) who[0] = F.node[k].name[0];
    }
    if (open <= 20)
      fprintf(stderr, "open claim %s: %llu message(s), the last a %s by %s, no stored answer\n", subj,
              (unsigned long long)l->List[i].Msgs, what, who);
    natsMsg_Destroy(m);
  }
  fprintf(stderr, "once stream: %u claimed requests, %u without a stored answer\n", claims, open);
out:
  jsStreamInfo_Destroy(si);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

static void server_restarted_mid_run(void **state) {
  (void)state;
  cnv_nats_client *c = client_of("ag1");
  static sfx_slot slots[LOAD_CALLS];
  int phase = 0;
  assert_int_equal(sfx_load(c, LOAD_CALLS, LOAD_WINDOW, server_line, slots, restart_server_mid_run, &phase), 0);
  assert_int_equal(phase, 2);
  static unsigned counts[LOAD_CALLS];
  static sfx_who who[LOAD_CALLS];
  (void)sfx_runs_indexed(&F, "srv", LOAD_CALLS, counts, who);
  for (size_t i = 0; i < LOAD_CALLS; i++) {
    assert_int_equal(slots[i].completions, 1);
    if (slots[i].status != CNV_OK) {
      print_open_claims();
      fail_msg("srv%zu: %s after %u attempts; ran %u times (on %s)", i, cnv_status_name(slots[i].status),
               slots[i].attempts, counts[i], who[i]);
    }
    /* no node died: exactly once, on the node that answered */
    if (counts[i] != 1 || who[i][0] != slots[i].result[0])
      fail_msg("srv%zu ran %u times (on %s), answered by %s", i, counts[i], who[i], slots[i].result);
  }
  /* and the restarted server serves the swarm again */
  assert_int_equal(natsConnection_ConnectTo(&raw_nc, nats_cluster_url(F.nc, 1)), NATS_OK);
}

/* ---- a revocation through node a ---- */

/* Calls line through c until it is denied as revoked (true), or 30 s pass (false). */
static bool denied_soon(cnv_nats_client *c, const char *line) {
  for (int i = 0; i < 300; i++) {
    cnv_nats_result r;
    char text[64];
    call(c, line, &r, text, sizeof text);
    if (r.status == CNV_ERT_DENY_REVOKED) return true;
    if (r.status != CNV_OK) fail_msg("%s: %s", line, cnv_status_name(r.status));
    nap_ms(100);
  }
  return false;
}

static void expect_status(cnv_nats_client *c, const char *line, cnv_status want, const char *want_text) {
  cnv_nats_result r;
  char text[64];
  call(c, line, &r, text, sizeof text);
  if (r.status != want) fail_msg("%s: %s, not %s", line, cnv_status_name(r.status), cnv_status_name(want));
  if (want_text) assert_string_equal(text, want_text);
}

static void swarm_revoke(const char *signer, bool root, const char *token_file) {
  char key[16], tok[16];
  snprintf(key, sizeof key, "%s.key", signer);
  snprintf(tok, sizeof tok, "%s.tok", signer);
  const char *const by_node[] = {"swarm", "revoke", "--nats", CLIENT_URL, "--swarm", "17",
                                 "--key", key, "--token", tok, "--token-file", token_file,
                                 NULL};
  const char *const by_root[] = {"swarm", "revoke", "--nats", CLIENT_URL, "--swarm", "17",
                                 "--key", key, "--token-file", token_file, NULL};
  cli_result r;
  cli_run(&r, root ? by_root : by_node);
  if (r.status != 0) fail_msg("cnv swarm revoke by %s: exit %d: %s", signer, r.status, r.err);
  assert_non_null(strstr(r.out, "revoked "));
}

static void revocation_spreads(void **state) {
  (void)state;
  cnv_nats_client *good = client_of("ag1");
  cnv_nats_client *bad = client_of("ag2");
  expect_status(bad, "pin.a.echo --text x", CNV_OK, "a x");
  expect_status(bad, "pin.b.echo --text x", CNV_OK, "b x");
  expect_status(bad, "pin.c.echo --text x", CNV_OK, "c x");
  swarm_revoke("a", false, "ag2.tok");
  /* each node applies it: pin.X.echo is served by X alone */
  assert_true(denied_soon(bad, "pin.b.echo --text x"));
  assert_true(denied_soon(bad, "pin.c.echo --text x"));
  assert_true(denied_soon(bad, "pin.a.echo --text x"));
  /* from now on every call of ag2 is denied, whichever node the queue picks */
  for (int i = 0; i < 30; i++) expect_status(bad, "demo.echo --text x", CNV_ERT_DENY_REVOKED, NULL);
  /* a new handshake is refused too */
  cnv_status st = CNV_OK;
  cnv_nats_client *again = sfx_client(CLIENT_URL, "ag2", &st);
  assert_null(again);
  assert_int_equal(st, CNV_ERT_DENY_REVOKED);
  /* others are untouched */
  expect_status(good, "pin.b.echo --text y", CNV_OK, "b y");
  expect_status(good, "pin.c.echo --text y", CNV_OK, "c y");
}

/* ---- a node started late ---- */

static void late_node_catches_up(void **state) {
  (void)state;
  cnv_nats_client *good = client_of("ag1");
  cnv_nats_client *bad3 = client_of("ag3");
  expect_status(bad3, "pin.a.echo --text x", CNV_OK, "a x");
  /* ag3 revoked by the root, while d is not running yet */
  swarm_revoke("root", true, "ag3.tok");
  assert_true(denied_soon(bad3, "pin.a.echo --text x"));
  assert_true(sfx_node_start(&F, 3));
  /* d holds the swarm key (ag1's ticket, made by another node, opens there) ... */
  expect_status(good, "pin.d.echo --text z", CNV_OK, "d z");
  /* ... and replayed both revocations before it served anything: denied at once */
  expect_status(bad3, "pin.d.echo --text z", CNV_ERT_DENY_REVOKED, NULL);
  cnv_status st = CNV_OK;
  assert_null(sfx_client(CLIENT_URL, "ag2", &st));
  assert_int_equal(st, CNV_ERT_DENY_REVOKED);
  wait_live(4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(cli_call_and_status, close_all),
      cmocka_unit_test_teardown(client_takes_a_server_list, close_all),
      cmocka_unit_test_teardown(unauthorized_node_refused, close_all),
      cmocka_unit_test_teardown(load_spreads, close_all),
      cmocka_unit_test_teardown(replay_and_tamper, close_all),
      cmocka_unit_test_teardown(node_killed_mid_run, close_all),
      cmocka_unit_test_teardown(server_restarted_mid_run, close_all),
      cmocka_unit_test_teardown(revocation_spreads, close_all),
      cmocka_unit_test_teardown(late_node_catches_up, close_all),
  };
  int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
  nats_Close();
  return rc;
}
