/* The stdio transport over a socket pair: one message per line each way, a line past
 * max_message answered and skipped, the client leaving mid-call (its call cancelled, no
 * descriptor or memory left behind), a closed output reported as a transport failure, and
 * stop_fd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "mcp_fixture.h"
#include "support/fd_count.h"

/* fd: the client's end of the socket pair. */
typedef mf_reader client;

static void client_send(client *c, const char *text) {
  size_t n = strlen(text);
  assert_int_equal(write(c->fd, text, n), (ssize_t)n);
}

/* The next line from the server, parsed (failsafe timeout). */
static json_t *client_line(client *c) { return mf_read_line(c, false); }

static void start(mf_stdio *sv, rtf *f, uint32_t agent, int fd, int stop_fd, size_t max_message) {
  memset(sv, 0, sizeof *sv);
  sv->cfg.rt = f->rt;
  sv->cfg.agent = agent;
  sv->cfg.max_message = max_message;
  sv->io.in_fd = fd;
  sv->io.out_fd = fd;
  sv->io.stop_fd = stop_fd;
  mf_stdio_start(sv);
}

static void test_lines_and_eof_mid_call(void **state) {
  (void)state;
  int fds_before = tfd_count();
  rtf f;
  uint32_t agent = mf_runtime_up(&f, 0x62);
  int sp[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  mf_stdio sv;
  start(&sv, &f, agent, sp[1], -1, 256);
  static client c;
  c.fd = sp[0];
  c.fill = 0;
  /* two messages in one write, a blank line, a CRLF line */
  client_send(&c,
              "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\"}}\n"
              "\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\r\n"
              "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\r\n");
  json_t *m = client_line(&c);
  assert_string_equal(json_string_value(json_object_get(json_object_get(m, "result"), "protocolVersion")),
                      "2025-06-18");
  json_decref(m);
  m = client_line(&c);
  assert_int_equal(json_integer_value(json_object_get(m, "id")), 2);
  json_decref(m);
  /* a line past max_message (256): one -32600 with id null, the rest of it skipped, and
   * the next line served; sent in pieces so that the skip spans reads */
  char longline[1200];
  memset(longline, 'x', sizeof longline);
  longline[0] = '{';
  longline[sizeof longline - 1] = '\0';
  client_send(&c, longline);
  client_send(&c, longline);
  client_send(&c, "\n{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\n");
  m = client_line(&c);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "error"), "code")), -32600);
  assert_true(json_is_null(json_object_get(m, "id")));
  json_decref(m);
  m = client_line(&c);
  assert_int_equal(json_integer_value(json_object_get(m, "id")), 3);
  json_decref(m);
  /* list_changed reaches stdout on the loop's own (no completion wakes it) */
  client_send(&c, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\"}\n");
  m = client_line(&c);
  assert_int_equal(json_integer_value(json_object_get(m, "id")), 5);
  json_decref(m);
  mf_reg(&f, "t.new", CNV_EFFECT_READ_ONLY, mf_line, NULL, NULL, NULL, NULL);
  m = client_line(&c);
  assert_string_equal(json_string_value(json_object_get(m, "method")), "notifications/tools/list_changed");
  json_decref(m);
  /* a call, then the client leaves: the call is cancelled and serve returns CNV_OK */
  client_send(&c, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"t_wait\"}}\n");
  while (atomic_load(&mf_wait_started) == 0) sched_yield();
  assert_int_equal(shutdown(sp[0], SHUT_WR), 0);
  assert_int_equal(pthread_join(sv.thread, NULL), 0);
  assert_int_equal(sv.result, CNV_OK);
  assert_int_equal(atomic_load(&mf_wait_saw_cancel), 1);
  close(sp[0]);
  close(sp[1]);
  mf_runtime_down(&f);
  assert_int_equal(tfd_count(), fds_before);
}

static void test_output_closed_and_stop(void **state) {
  (void)state;
  rtf f;
  uint32_t agent = mf_runtime_up(&f, 0x62);
  /* output closed: the reply cannot be written (EPIPE, not a signal) */
  int in[2], out[2];
  assert_int_equal(pipe(in), 0);
  assert_int_equal(pipe(out), 0);
  close(out[0]);
  mf_stdio sv;
  memset(&sv, 0, sizeof sv);
  sv.cfg.rt = f.rt;
  sv.cfg.agent = agent;
  sv.io.in_fd = in[0];
  sv.io.out_fd = out[1];
  sv.io.stop_fd = -1;
  mf_stdio_start(&sv);
  const char *ping = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
  assert_int_equal(write(in[1], ping, strlen(ping)), (ssize_t)strlen(ping));
  assert_int_equal(pthread_join(sv.thread, NULL), 0);
  assert_int_equal(sv.result, CNV_EMCP_TRANSPORT);
  close(in[0]);
  close(in[1]);
  close(out[1]);

  /* stop_fd: serve returns CNV_OK with the input still open */
  int sp[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  int stop = eventfd(0, EFD_CLOEXEC);
  assert_true(stop >= 0);
  start(&sv, &f, agent, sp[1], stop, 0);
  static client c;
  c.fd = sp[0];
  c.fill = 0;
  client_send(&c, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}\n");
  json_t *m = client_line(&c);
  assert_int_equal(json_integer_value(json_object_get(m, "id")), 9);
  json_decref(m);
  uint64_t one = 1;
  assert_int_equal(write(stop, &one, sizeof one), (ssize_t)sizeof one);
  assert_int_equal(pthread_join(sv.thread, NULL), 0);
  assert_int_equal(sv.result, CNV_OK);
  close(stop);
  close(sp[0]);
  close(sp[1]);

  cnv_mcp_stdio_config io = {.in_fd = -1, .out_fd = 1, .stop_fd = -1};
  assert_int_equal(cnv_mcp_serve_stdio(&sv.cfg, &io), CNV_EINVAL);
  assert_int_equal(cnv_mcp_serve_stdio(NULL, &io), CNV_EINVAL);
  mf_runtime_down(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lines_and_eof_mid_call),
      cmocka_unit_test(test_output_closed_and_stop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
