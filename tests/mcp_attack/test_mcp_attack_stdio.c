/* Attacks on the stdio transport (cnv_mcp_serve_stdio): lines past max_message (in pieces,
 * at the end of input, around valid lines), bytes that are no JSON at all, a flood of calls
 * in one write (every id answered exactly once), and the output closed while calls run (a
 * transport error, never a signal, and the calls cancelled). Two pipes, so that end of
 * input and a closed output are separate events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mcp_core/mcp_fixture.h"
#include "support/fd_count.h"

typedef struct wire {
  rtf f;
  uint32_t agent;
  int in[2];  /* the server reads in[0] */
  int out[2]; /* the server writes out[1] */
  mf_stdio sv;
  mf_reader rd; /* reads out[0] */
} wire;

static void up(wire *w, size_t max_message, uint32_t max_in_flight) {
  memset(w, 0, sizeof *w);
  w->agent = mf_runtime_up(&w->f, 0x63);
  assert_int_equal(pipe(w->in), 0);
  assert_int_equal(pipe(w->out), 0);
  w->sv.cfg.rt = w->f.rt;
  w->sv.cfg.agent = w->agent;
  w->sv.cfg.max_message = max_message;
  w->sv.cfg.max_in_flight = max_in_flight;
  w->sv.io.in_fd = w->in[0];
  w->sv.io.out_fd = w->out[1];
  w->sv.io.stop_fd = -1;
  w->rd.fd = w->out[0];
  mf_stdio_start(&w->sv);
}

static void send_bytes(wire *w, const char *bytes, size_t n) {
  while (n > 0) {
    ssize_t r = write(w->in[1], bytes, n);
    assert_true(r > 0);
    bytes += r;
    n -= (size_t)r;
  }
}

static void send_text(wire *w, const char *text) { send_bytes(w, text, strlen(text)); }

/* The next line from the server, parsed (failsafe timeout); NULL at end of output. */
static json_t *line(wire *w) { return mf_read_line(&w->rd, true); }

static int code_of(const json_t *m) {
  return (int)json_integer_value(json_object_get(json_object_get(m, "error"), "code"));
}

static json_int_t id_of(const json_t *m) { return json_integer_value(json_object_get(m, "id")); }

/* Ends input, joins the server, checks the output has nothing more, closes everything. */
static cnv_status down(wire *w) {
  if (w->in[1] >= 0) close(w->in[1]);
  assert_int_equal(pthread_join(w->sv.thread, NULL), 0);
  if (w->out[1] >= 0) close(w->out[1]);
  if (w->out[0] >= 0) {
    json_t *m = line(w);
    if (m) fail_msg("unexpected message after the end: %s", json_string_value(json_object_get(m, "method")));
    close(w->out[0]);
  }
  close(w->in[0]);
  mf_runtime_down(&w->f);
  return w->sv.result;
}

static void test_lines(void **state) {
  (void)state;
  int fds_before = tfd_count();
  static wire w;
  up(&w, 128, 0);
  /* a line of exactly max_message bytes is served; one byte more is not */
  char exact[129];
  int n = snprintf(exact, sizeof exact, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
  memset(exact + n, ' ', 128 - (size_t)n);
  exact[128] = '\n';
  send_bytes(&w, exact, 129);
  json_t *m = line(&w);
  assert_int_equal(id_of(m), 1);
  json_decref(m);
  exact[128] = ' ';
  send_bytes(&w, exact, 129);
  send_text(&w, "\n");
  m = line(&w);
  assert_int_equal(code_of(m), -32600);
  assert_true(json_is_null(json_object_get(m, "id")));
  json_decref(m);
  /* a long line arriving a byte at a time, between two valid ones: one error, nothing of
   * the long line served as a message of its own */
  send_text(&w, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n");
  const char *evil = "{\"jsonrpc\":\"2.0\",\"id\":666,\"method\":\"ping\"}";
  for (int i = 0; i < 300; i++) send_text(&w, i % 100 == 0 ? "\r" : "x");
  send_text(&w, evil); /* past the limit: part of the long line, not a message */
  send_text(&w, "\n{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\n");
  m = line(&w);
  assert_int_equal(id_of(m), 2);
  json_decref(m);
  m = line(&w);
  assert_int_equal(code_of(m), -32600);
  json_decref(m);
  m = line(&w);
  assert_int_equal(id_of(m), 3);
  json_decref(m);
  /* bytes that are no JSON: NUL, invalid UTF-8, a lone "\r", whitespace only */
  send_bytes(&w, "\0\0\n", 3);
  send_text(&w, "\xff\xfe{\n\r\n \t \n{\"jsonrpc\":\"2.0\",\"id\":\"\xc3\xa9\",\"method\":\"ping\"}\r\n");
  m = line(&w);
  assert_int_equal(code_of(m), -32700);
  json_decref(m);
  m = line(&w);
  assert_int_equal(code_of(m), -32700);
  json_decref(m);
  m = line(&w);
  assert_string_equal(json_string_value(json_object_get(m, "id")), "\xc3\xa9");
  json_decref(m);
  /* the last line without a newline is served at end of input */
  send_text(&w, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}");
  close(w.in[1]);
  w.in[1] = -1;
  m = line(&w);
  assert_int_equal(id_of(m), 4);
  json_decref(m);
  assert_int_equal(down(&w), CNV_OK);
  assert_int_equal(tfd_count(), fds_before);
}

/* A too-long last line cut by end of input: one error, and nothing served from it. */
static void test_long_line_at_eof(void **state) {
  (void)state;
  static wire w;
  up(&w, 64, 0);
  char long_line[200];
  memset(long_line, 'x', sizeof long_line);
  send_bytes(&w, long_line, sizeof long_line);
  send_text(&w, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}");
  close(w.in[1]);
  w.in[1] = -1;
  json_t *m = line(&w);
  assert_int_equal(code_of(m), -32600);
  json_decref(m);
  assert_int_equal(down(&w), CNV_OK);
}

/* Ten times max_in_flight calls in one write: each id answered exactly once (a result or
 * "busy"), nothing lost between the transport and the session. */
static void test_flood(void **state) {
  (void)state;
  static wire w;
  up(&w, 0, 4);
  enum { N = 40 };
  static char batch[N * 160];
  size_t o = 0;
  o += (size_t)sprintf(batch + o,
                       "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                       "\"2025-06-18\"}}\n");
  for (int i = 1; i <= N; i++) {
    o += (size_t)sprintf(batch + o,
                         "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"t_echo\","
                         "\"arguments\":{\"n\":%d}}}\n",
                         i, i);
  }
  send_bytes(&w, batch, o);
  json_t *m = line(&w);
  assert_int_equal(id_of(m), 0);
  json_decref(m);
  int seen[N + 1] = {0};
  for (int k = 0; k < N; k++) {
    m = line(&w);
    json_int_t id = id_of(m);
    assert_true(id >= 1 && id <= N);
    seen[id]++;
    json_t *res = json_object_get(m, "result");
    assert_non_null(res);
    const char *text = json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0), "text"));
    if (json_is_true(json_object_get(res, "isError"))) {
      assert_int_equal(strncmp(text, "busy", 4), 0);
    } else {
      char want[32];
      snprintf(want, sizeof want, "n=int:%d;", (int)id);
      assert_string_equal(text, want);
    }
    json_decref(m);
  }
  for (int i = 1; i <= N; i++) assert_int_equal(seen[i], 1);
  assert_int_equal(down(&w), CNV_OK);
}

/* The output closed while calls run: serve reports a transport failure (no SIGPIPE: the
 * test process would die), the calls are cancelled, nothing leaks. */
static void test_output_closed_mid_run(void **state) {
  (void)state;
  int fds_before = tfd_count();
  static wire w;
  up(&w, 0, 0);
  send_text(&w,
            "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\"}}\n"
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"t_wait\"}}\n"
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"t_wait\"}}\n");
  json_t *m = line(&w);
  assert_int_equal(id_of(m), 0);
  json_decref(m);
  while (atomic_load(&mf_wait_started) < 2) sched_yield();
  close(w.out[0]);
  w.out[0] = -1;
  send_text(&w, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\n");
  assert_int_equal(pthread_join(w.sv.thread, NULL), 0);
  assert_int_equal(w.sv.result, CNV_EMCP_TRANSPORT);
  assert_int_equal(atomic_load(&mf_wait_saw_cancel), 2);
  close(w.in[1]);
  close(w.in[0]);
  close(w.out[1]);
  mf_runtime_down(&w.f);
  assert_int_equal(tfd_count(), fds_before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lines),
      cmocka_unit_test(test_long_line_at_eof),
      cmocka_unit_test(test_flood),
      cmocka_unit_test(test_output_closed_mid_run),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
