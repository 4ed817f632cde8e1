/* The nats-server harness itself (tests/support/nats_cluster.h): a 3-server cluster comes up
 * with JetStream, a stream with 3 replicas keeps taking publishes while one server is killed
 * and after it is restarted, and stop leaves no process and no directory behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <nats/nats.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/nats_cluster.h"

static void start_or_fail(int n, nats_cluster **c) {
  if (nats_cluster_start(n, c) != 0) fail_msg("%s", nats_cluster_error());
}

/* A connection to every server of c that reconnects at once and forever. */
static natsConnection *connect_all(nats_cluster *c) {
  natsOptions *o = NULL;
  natsConnection *nc = NULL;
  assert_int_equal(natsOptions_Create(&o), NATS_OK);
  char urls[256];
  snprintf(urls, sizeof urls, "%s", nats_cluster_urls(c));
  const char *list[NATS_CLUSTER_MAX];
  int n = 0;
  for (char *save = NULL, *u = strtok_r(urls, ",", &save); u; u = strtok_r(NULL, ",", &save)) list[n++] = u;
  assert_int_equal(n, nats_cluster_size(c));
  assert_int_equal(natsOptions_SetServers(o, list, n), NATS_OK);
  assert_int_equal(natsOptions_SetMaxReconnect(o, -1), NATS_OK);
  assert_int_equal(natsOptions_SetReconnectWait(o, 50), NATS_OK);
  assert_int_equal(natsConnection_Connect(&nc, o), NATS_OK);
  natsOptions_Destroy(o);
  return nc;
}

/* Publishes one message to subject, retrying while the cluster elects a new leader (the
 * stream's or the connection's server may just have died): 0 when JetStream acknowledged it
 * within 20 s, with *seq its sequence. */
static int publish(jsCtx *js, const char *subject, const char *text, uint64_t *seq) {
  for (int i = 0; i < 200; i++) {
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 1000;
    natsStatus s = js_Publish(&pa, js, subject, text, (int)strlen(text), &po, &jerr);
    if (s == NATS_OK) {
      *seq = pa->Sequence;
      jsPubAck_Destroy(pa);
      return 0;
    }
    nats_Sleep(100);
  }
  return -1;
}

static void test_single_server(void **state) {
  (void)state;
  nats_cluster *c = NULL;
  start_or_fail(1, &c);
  assert_int_equal(nats_cluster_size(c), 1);
  assert_string_equal(nats_cluster_urls(c), nats_cluster_url(c, 0));
  assert_memory_equal(nats_cluster_url(c, 0), "nats://127.0.0.1:", 17);
  natsConnection *nc = connect_all(c);
  jsCtx *js = NULL;
  assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "ONE";
  const char *subjects[] = {"one.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  jsStreamInfo *si = NULL;
  assert_int_equal(js_AddStream(&si, js, &cfg, NULL, NULL), NATS_OK);
  jsStreamInfo_Destroy(si);
  uint64_t seq = 0;
  assert_int_equal(publish(js, "one.a", "x", &seq), 0);
  assert_int_equal(seq, 1);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  nats_cluster_stop(c);
}

static void test_three_servers_survive_one(void **state) {
  (void)state;
  nats_cluster *c = NULL;
  start_or_fail(3, &c);
  pid_t pids[3];
  for (int i = 0; i < 3; i++) {
    pids[i] = nats_cluster_pid(c, i);
    assert_true(nats_cluster_pid_alive(pids[i]));
    for (int j = 0; j < i; j++) assert_string_not_equal(nats_cluster_url(c, i), nats_cluster_url(c, j));
  }
  char dir[64];
  snprintf(dir, sizeof dir, "%s", nats_cluster_dir(c));

  natsConnection *nc = connect_all(c);
  jsCtx *js = NULL;
  assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "HARNESS";
  const char *subjects[] = {"harness.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Replicas = 3;
  cfg.Storage = js_FileStorage;
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_AddStream(&si, js, &cfg, NULL, &jerr);
  if (s != NATS_OK) fail_msg("R3 stream: %s (JetStream error %d)", natsStatus_GetText(s), (int)jerr);
  assert_int_equal(si->Cluster != NULL, 1);
  assert_int_equal(si->Cluster->ReplicasLen, 2); /* the leader and 2 other replicas */
  jsStreamInfo_Destroy(si);

  uint64_t seq = 0;
  for (uint64_t i = 1; i <= 5; i++) {
    assert_int_equal(publish(js, "harness.before", "b", &seq), 0);
    assert_int_equal(seq, i);
  }
  /* the server this connection uses dies: the client moves to another one, the stream (2 of
   * 3 replicas left) keeps its messages and takes new ones */
  int victim = 0;
  char cur[64] = "";
  assert_int_equal(natsConnection_GetConnectedUrl(nc, cur, sizeof cur), NATS_OK);
  for (int i = 0; i < 3; i++)
    if (strcmp(cur, nats_cluster_url(c, i)) == 0) victim = i;
  assert_int_equal(nats_cluster_kill(c, victim), 0);
  assert_int_equal(nats_cluster_pid(c, victim), -1);
  assert_false(nats_cluster_pid_alive(pids[victim]));
  assert_int_equal(nats_cluster_kill(c, victim), -1); /* not running */
  for (uint64_t i = 6; i <= 10; i++) {
    assert_int_equal(publish(js, "harness.during", "d", &seq), 0);
    assert_int_equal(seq, i);
  }
  /* back with the same port and store: it catches up and the stream goes on */
  assert_int_equal(nats_cluster_restart(c, victim), 0);
  assert_true(nats_cluster_pid_alive(nats_cluster_pid(c, victim)));
  assert_int_equal(nats_cluster_restart(c, victim), -1); /* running */
  assert_int_equal(publish(js, "harness.after", "a", &seq), 0);
  assert_int_equal(seq, 11);
  si = NULL;
  assert_int_equal(js_GetStreamInfo(&si, js, "HARNESS", NULL, NULL), NATS_OK);
  assert_int_equal(si->State.Msgs, 11);
  jsStreamInfo_Destroy(si);

  /* a connection to the restarted server alone sees the same stream */
  natsConnection *one = NULL;
  assert_int_equal(natsConnection_ConnectTo(&one, nats_cluster_url(c, victim)), NATS_OK);
  jsCtx *js1 = NULL;
  assert_int_equal(natsConnection_JetStream(&js1, one, NULL), NATS_OK);
  assert_int_equal(publish(js1, "harness.after", "a", &seq), 0);
  assert_int_equal(seq, 12);
  jsCtx_Destroy(js1);
  natsConnection_Destroy(one);

  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  pids[victim] = nats_cluster_pid(c, victim);
  nats_cluster_stop(c);
  for (int i = 0; i < 3; i++) assert_false(nats_cluster_pid_alive(pids[i]));
  struct stat st;
  assert_int_not_equal(stat(dir, &st), 0);
}

static void test_bad_size(void **state) {
  (void)state;
  nats_cluster *c = (nats_cluster *)1;
  assert_int_equal(nats_cluster_start(0, &c), -1);
  assert_null(c);
  assert_int_equal(nats_cluster_start(NATS_CLUSTER_MAX + 1, &c), -1);
  assert_non_null(strstr(nats_cluster_error(), "1..5"));
}

/* Without nats-server the start fails and says which Debian package to install. */
static void test_missing_server(void **state) {
  (void)state;
  assert_int_equal(setenv("CNV_NATS_SERVER", "/nonexistent/nats-server", 1), 0);
  nats_cluster *c = NULL;
  assert_int_equal(nats_cluster_start(1, &c), -1);
  assert_null(c);
  assert_int_equal(unsetenv("CNV_NATS_SERVER"), 0);
  assert_non_null(strstr(nats_cluster_error(), "Debian package nats-server"));
}

/* A test process that dies without stopping its cluster (SIGKILL: no atexit, no teardown)
 * leaves neither the servers nor their directory. */
static void owner_killed_leaves_nothing(void **state) {
  (void)state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  fflush(NULL);
  pid_t owner = fork();
  assert_true(owner >= 0);
  if (owner == 0) {
    close(p[0]);
    nats_cluster *c = NULL;
    struct {
      pid_t server;
      char dir[64];
    } info = {-1, ""};
    if (nats_cluster_start(1, &c) == 0) {
      info.server = nats_cluster_pid(c, 0);
      snprintf(info.dir, sizeof info.dir, "%s", nats_cluster_dir(c));
    }
    if (write(p[1], &info, sizeof info) != (ssize_t)sizeof info) _exit(1);
    pause();
    _exit(0);
  }
  close(p[1]);
  struct {
    pid_t server;
    char dir[64];
  } info;
  assert_int_equal(read(p[0], &info, sizeof info), (ssize_t)sizeof info);
  close(p[0]);
  assert_true(info.server > 0);
  assert_true(nats_cluster_pid_alive(info.server));
  assert_int_equal(kill(owner, SIGKILL), 0);
  assert_int_equal(waitpid(owner, NULL, 0), owner);
  /* the server dies of its parent-death signal at once, the reaper removes the folder */
  struct stat st;
  bool gone = false;
  for (int i = 0; i < 200 && !gone; i++) {
    gone = !nats_cluster_pid_alive(info.server) && stat(info.dir, &st) != 0;
    if (!gone) nats_Sleep(50);
  }
  assert_false(nats_cluster_pid_alive(info.server));
  assert_int_not_equal(stat(info.dir, &st), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_size),
      cmocka_unit_test(test_missing_server),
      cmocka_unit_test(test_single_server),
      cmocka_unit_test(test_three_servers_survive_one),
      cmocka_unit_test(owner_killed_leaves_nothing),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  nats_Close();
  return rc;
}
