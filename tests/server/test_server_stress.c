/* The server under load from several client threads at once, with several io threads and
 * workers (label stress: also run under ThreadSanitizer): every client pipelines calls up to
 * its credit, some of them denied, some cancelled; every call is answered exactly once with
 * its own id and the right outcome, and the figures add up. Then a graceful stop with calls in
 * flight on every session. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cnv_test_util.h"
#include "server/srv_fixture.h"

#define CLIENTS 8
#define WINDOW 16 /* calls in flight per client (under the default credit of 64) */

static const rtf_handler handlers[] = {
    {"t.echo", CNV_DURATION_USER_INITIATED, rtf_echo, NULL},
    {"u.echo", CNV_DURATION_USER_INITIATED, rtf_echo, NULL},
};

typedef struct worker {
  sf *t;
  uint8_t key_byte;
  uint64_t calls;
  /* results, checked by the main thread (cmocka asserts only there) */
  uint64_t ok, denied, cancelled, wrong;
  sc_client c;
} worker;

/* The line of call id: t.echo for most, u.echo (not allowed: denied) for every 7th. */
static void line_of(uint64_t id, char *buf, size_t cap) {
  snprintf(buf, cap, "%s.echo n%llu", id % 7 == 3 ? "u" : "t", (unsigned long long)id);
}

static void *client_main(void *arg) {
  worker *w = arg;
  uint64_t sent = 0, got = 0;
  sc_msg *m = malloc(sizeof *m);
  while (got < w->calls) {
    while (sent < w->calls && sent - got < WINDOW) {
      char line[64];
      line_of(sent, line, sizeof line);
      sc_invoke(&w->c, sent, line, 0);
      if (sent % 11 == 5) sc_cancel(&w->c, sent); /* may or may not catch it */
      sent++;
    }
    if (sc_next(&w->c, m) != CNV_OK || m->type != CNV_MSG_RESPONSE) {
      w->wrong++;
      break;
    }
    got++;
    char line[64];
    line_of(m->id, line, sizeof line);
    if (m->status == CNV_ERT_DENY_NOT_ALLOWED && m->id % 7 == 3) {
      w->denied++;
    } else if (m->status == CNV_OK && m->result_len == strlen(line) && memcmp(m->result, line, m->result_len) == 0) {
      w->ok++;
    } else if (m->id % 11 == 5 && m->done == CNV_DONE_CANCELLED) {
      w->cancelled++;
    } else {
      w->wrong++;
    }
  }
  free(m);
  return NULL;
}

static void *stop_main(void *arg) {
  sf *t = arg;
  return (void *)(intptr_t)cnv_server_stop(t->srv);
}

static void test_many_clients(void **state) {
  (void)state;
  cnv_runtime_config rc = sf_rt_config(4);
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.io_threads = 4;
  sf t;
  sf_up(&t, &rc, &cfg, handlers, 2, "tcp");
  static worker w[CLIENTS];
  pthread_t th[CLIENTS];
  uint64_t calls = cnv_test_iters(2000);
  for (int i = 0; i < CLIENTS; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].t = &t;
    w[i].calls = calls;
    sf_client(&t, &w[i].c, (uint8_t)(i + 1), "t.*");
  }
  for (int i = 0; i < CLIENTS; i++) assert_int_equal(pthread_create(&th[i], NULL, client_main, &w[i]), 0);
  uint64_t ok = 0, denied = 0, cancelled = 0;
  for (int i = 0; i < CLIENTS; i++) {
    assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(w[i].wrong, 0);
    assert_int_equal(w[i].ok + w[i].denied + w[i].cancelled, calls);
    ok += w[i].ok;
    denied += w[i].denied;
    cancelled += w[i].cancelled;
  }
  assert_true(denied > 0);
  cnv_server_stats st = sf_stats(&t);
  assert_int_equal(st.invocations, CLIENTS * calls);
  assert_int_equal(st.responses, CLIENTS * calls);
  assert_int_equal(st.denied, denied);
  assert_int_equal(st.accepted_calls, ok + cancelled);
  assert_int_equal(st.handshakes, CLIENTS);
  /* a graceful stop with calls in flight on every session: each is answered after SHUTDOWN */
  for (int i = 0; i < CLIENTS; i++) {
    for (uint64_t id = 0; id < WINDOW; id++) sc_invoke(&w[i].c, 100000 + id, "t.echo last", 0);
  }
  pthread_t stopper;
  assert_int_equal(pthread_create(&stopper, NULL, stop_main, &t), 0);
  for (int i = 0; i < CLIENTS; i++) {
    uint64_t answered = 0, shutdown = 0;
    sc_msg m;
    while (sc_next(&w[i].c, &m) == CNV_OK) {
      if (m.type == CNV_MSG_SHUTDOWN) {
        shutdown++;
      } else {
        assert_int_equal(m.type, CNV_MSG_RESPONSE);
        assert_true(m.status == CNV_OK || m.status == CNV_ESTATE); /* ESTATE: read after the stop */
        answered++;
      }
      if (shutdown && answered == WINDOW) sc_shutdown(&w[i].c); /* then the server closes */
    }
    assert_int_equal(shutdown, 1);
    assert_int_equal(answered, WINDOW);
    sc_close(&w[i].c);
  }
  void *ret = NULL;
  assert_int_equal(pthread_join(stopper, &ret), 0);
  assert_int_equal((cnv_status)(intptr_t)ret, CNV_OK);
  sf_down(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_many_clients),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
