/* argv -> one invocation line -> cnv_parse_invocation, and flag lookups over the result. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cnv/status.h"

void cli_error(const char *what, int status) {
  fprintf(stderr, "cnv: %s: %s\n", what, cnv_strerror(status));
}

void cli_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cnv: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* Appends one argument, quoted when it holds blanks or quotes (the grammar has no escapes,
 * so an argument with both quote kinds cannot be passed). */
static bool append_arg(char *line, size_t *pos, const char *a) {
  size_t n = strlen(a);
  bool plain = n > 0 && strpbrk(a, " \t'\"") == NULL;
  char q = strchr(a, '"') ? '\'' : '"';
  if (!plain && strchr(a, '"') && strchr(a, '\'')) {
    cli_fail("argument holds both quote kinds: %s", a);
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    if ((unsigned char)a[i] < 0x20 && a[i] != '\t') {
      cli_fail("argument holds a control character: %s", a);
      return false;
    }
  }
  size_t need = n + (plain ? 0 : 2) + 1;
  if (*pos + need >= CLI_LINE_MAX) {
    cli_fail("command line too long");
    return false;
  }
  line[(*pos)++] = ' ';
  if (!plain) line[(*pos)++] = q;
  memcpy(line + *pos, a, n);
  *pos += n;
  if (!plain) line[(*pos)++] = q;
  line[*pos] = '\0';
  return true;
}

int cli_cmd_parse(cli_cmd *cmd, const char *path, int argc, char **argv, int first,
                  const char *const *bools) {
  size_t pos = strlen(path);
  memcpy(cmd->line, path, pos + 1);
  for (int i = first; i < argc; i++) {
    if (!append_arg(cmd->line, &pos, argv[i])) return CLI_EXIT_USAGE;
  }
  cnv_slice names[16];
  size_t nb = 0;
  for (; bools && bools[nb] && nb < 16; nb++) names[nb] = (cnv_slice){bools[nb], strlen(bools[nb])};
  cnv_parse_schema schema = {names, nb};
  cnv_parse_limits limits = {CLI_LINE_MAX, CLI_MAX_ARGS};
  memset(cmd->used, 0, sizeof cmd->used);
  cnv_invocation_init(&cmd->inv, cmd->args, CLI_MAX_ARGS);
  cnv_status st = cnv_parse_invocation(cmd->line, pos, &limits, &schema, &cmd->inv);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: bad command line at byte %zu of \"%s\": %s\n", cmd->inv.error_offset,
            cmd->line, cnv_strerror(st));
    return CLI_EXIT_USAGE;
  }
  return CLI_EXIT_OK;
}

static bool name_is(const cnv_arg *a, const char *name) {
  size_t n = strlen(name);
  return a->name.len == n && memcmp(a->name.ptr, name, n) == 0;
}

/* Index of the last --name (long flag of any kind), or -1. */
static int find_flag(cli_cmd *cmd, const char *name) {
  int found = -1;
  for (uint32_t i = 0; i < cmd->inv.count; i++) {
    const cnv_arg *a = &cmd->args[i];
    if ((a->kind == CNV_ARG_LONG_VALUE || a->kind == CNV_ARG_LONG_BOOL) && name_is(a, name)) {
      cmd->used[i] = true;
      found = (int)i;
    }
  }
  return found;
}

bool cli_flag_bool(cli_cmd *cmd, const char *name, bool *bad) {
  int i = find_flag(cmd, name);
  if (i >= 0 && cmd->args[i].kind != CNV_ARG_LONG_BOOL) {
    cli_fail("--%s takes no value", name);
    *bad = true;
  }
  return i >= 0;
}

bool cli_flag_str(cli_cmd *cmd, const char *name, char *buf, size_t cap, bool *bad) {
  int i = find_flag(cmd, name);
  if (i < 0) return false;
  const cnv_arg *a = &cmd->args[i];
  if (a->kind != CNV_ARG_LONG_VALUE) {
    cli_fail("--%s needs a value", name);
    *bad = true;
    return false;
  }
  if (a->value.len >= cap) {
    cli_fail("--%s value too long (at most %zu bytes)", name, cap - 1);
    *bad = true;
    return false;
  }
  memcpy(buf, a->value.ptr, a->value.len);
  buf[a->value.len] = '\0';
  return true;
}

bool cli_flag_u64(cli_cmd *cmd, const char *name, uint64_t max, uint64_t *out, bool *bad) {
  char buf[32];
  if (!cli_flag_str(cmd, name, buf, sizeof buf, bad)) return false;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(buf, &end, 10);
  if (buf[0] < '0' || buf[0] > '9' || *end != '\0' || errno != 0 || v > max) {
    cli_fail("--%s: not a whole number in 0..%llu: %s", name, (unsigned long long)max, buf);
    *bad = true;
    return false;
  }
  *out = v;
  return true;
}

bool cli_flag_each(cli_cmd *cmd, const char *name, bool (*fn)(void *ctx, const char *v, size_t n),
                   void *ctx) {
  for (uint32_t i = 0; i < cmd->inv.count; i++) {
    const cnv_arg *a = &cmd->args[i];
    if (a->kind != CNV_ARG_LONG_VALUE || !name_is(a, name)) continue;
    cmd->used[i] = true;
    if (!fn(ctx, a->value.ptr, a->value.len)) return false;
  }
  return true;
}

bool cli_cmd_unknown(const cli_cmd *cmd) {
  for (uint32_t i = 0; i < cmd->inv.count; i++) {
    const cnv_arg *a = &cmd->args[i];
    if (cmd->used[i]) continue;
    if (a->kind == CNV_ARG_POSITIONAL) {
      fprintf(stderr, "cnv: unexpected argument: %.*s\n", (int)a->value.len, a->value.ptr);
    } else {
      fprintf(stderr, "cnv: unknown option: %s%.*s\n", a->kind == CNV_ARG_SHORT ? "-" : "--",
              (int)a->name.len, a->name.ptr);
    }
    return true;
  }
  return false;
}
