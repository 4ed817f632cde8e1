/* A `cnv serve --plugin` library for the swarm tests: capabilities whose runs the test can see
 * from outside the node processes. It links nothing: the cnv tool exports libcnv's symbols.
 *   test.mark --key K   mutate_state (neither read_only nor idempotent): appends the line
 *                       "K NODE\n" to the file $CNV_TEST_MARK_FILE with one O_APPEND write, so
 *                       every run of every node is one whole line of one shared file (the
 *                       write is done before the handler returns: a node killed after the run
 *                       still leaves its line); answers NODE.
 *   pin.NODE.echo --text S
 *                       read_only; answers "NODE S". NODE is $CNV_TEST_NODE (a..z), so each
 *                       node serves a path of its own: a call on it is pinned to that node. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cnv/runtime.h>
#include <cnv/server.h>

static char node[16];
static char pin_path[48];
static int mark_fd = -1;

/* The value after "--NAME " in the line: the rest of the line up to the next space. */
static const char *arg_after(const cnv_runtime_call *call, const char *flag, size_t *len) {
  size_t fl = strlen(flag);
  for (size_t i = call->path_len; i + fl <= call->line_len; i++) {
    if (memcmp(call->line + i, flag, fl) == 0) {
      const char *v = call->line + i + fl;
      size_t n = 0;
      while (v + n < call->line + call->line_len && v[n] != ' ') n++;
      *len = n;
      return v;
    }
  }
  return NULL;
}

static cnv_status mark(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  size_t klen = 0;
  const char *key = arg_after(call, "--key ", &klen);
  if (!key || klen == 0 || klen > 64) return CNV_EINVAL;
  char line[96];
  int n = snprintf(line, sizeof line, "%.*s %s\n", (int)klen, key, node);
  if (write(mark_fd, line, (size_t)n) != n) return CNV_EIO;
  return cnv_runtime_result_write(r, node, strlen(node));
}

static cnv_status pin_echo(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  size_t tlen = 0;
  const char *text = arg_after(call, "--text ", &tlen);
  if (!text) return CNV_EINVAL;
  char out[128];
  int n = snprintf(out, sizeof out, "%s %.*s", node, (int)(tlen < 100 ? tlen : 100), text);
  return cnv_runtime_result_write(r, out, (size_t)n);
}

__attribute__((visibility("default"))) cnv_status cnv_plugin_register(cnv_runtime *rt);

cnv_status cnv_plugin_register(cnv_runtime *rt) {
  const char *name = getenv("CNV_TEST_NODE");
  const char *file = getenv("CNV_TEST_MARK_FILE");
  if (!name || !file || strlen(name) == 0 || strlen(name) >= sizeof node) return CNV_EINVAL;
  snprintf(node, sizeof node, "%s", name);
  snprintf(pin_path, sizeof pin_path, "pin.%s.echo", node);
  mark_fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (mark_fd < 0) return CNV_EIO;
  cnv_runtime_handler_spec m = {.effects = CNV_EFFECT_MUTATE_STATE, .cls = CNV_DURATION_INTERACTIVE, .fn = mark};
  cnv_status st = cnv_runtime_register(rt, "test.mark", strlen("test.mark"), &m);
  if (st != CNV_OK) return st;
  cnv_runtime_handler_spec p = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = pin_echo};
  return cnv_runtime_register(rt, pin_path, strlen(pin_path), &p);
}

/* The entry has the documented type (a mismatch does not compile). */
__attribute__((unused)) static const cnv_plugin_register_fn entry_type_check = cnv_plugin_register;
