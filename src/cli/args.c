/* argv as argv: each element is one argument; flag lookups over the result. */
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

static bool in_list(const char *name, size_t n, const char *const *list) {
  for (; list && *list; list++) {
    if (strlen(*list) == n && memcmp(*list, name, n) == 0) return true;
  }
  return false;
}

/* True when `a` can be the value of the flag before it. */
static bool value_like(const char *a) { return a[0] != '-' || a[1] == '\0'; }

int cli_cmd_parse(cli_cmd *cmd, int argc, char **argv, int first, const char *const *bools) {
  bool flags = true;
  memset(cmd, 0, sizeof *cmd);
  for (int i = first; i < argc; i++) {
    const char *a = argv[i];
    if (cmd->count == CLI_MAX_ARGS) {
      cli_fail("too many arguments (at most %u)", CLI_MAX_ARGS);
      return CLI_EXIT_USAGE;
    }
    cli_arg *o = &cmd->args[cmd->count++];
    if (flags && strcmp(a, "--") == 0) {
      cmd->count--;
      flags = false;
    } else if (flags && a[0] == '-' && a[1] == '-') {
      const char *eq = strchr(a + 2, '=');
      o->name = a + 2;
      o->name_len = eq ? (size_t)(eq - o->name) : strlen(o->name);
      if (o->name_len == 0) {
        cli_fail("bad option: %s", a);
        return CLI_EXIT_USAGE;
      }
      if (eq)
        o->value = eq + 1;
      else if (!in_list(o->name, o->name_len, bools) && i + 1 < argc && value_like(argv[i + 1]))
        o->value = argv[++i];
    } else if (flags && a[0] == '-' && a[1] != '\0') {
      o->name = a + 1;
      o->name_len = strlen(o->name);
      o->is_short = true;
    } else {
      o->value = a;
    }
  }
  return CLI_EXIT_OK;
}

static bool name_is(const cli_arg *a, const char *name) {
  size_t n = strlen(name);
  return a->name && !a->is_short && a->name_len == n && memcmp(a->name, name, n) == 0;
}

bool cli_flag_present(const cli_cmd *cmd, const char *name) {
  for (uint32_t i = 0; i < cmd->count; i++) {
    if (name_is(&cmd->args[i], name)) return true;
  }
  return false;
}

/* Index of --name, or -1; marks every --name used. A flag given twice (these lookups are for
 * flags that are not repeatable) is a usage error: prints it, sets *bad and returns -1. */
static int find_flag(cli_cmd *cmd, const char *name, bool *bad) {
  int found = -1;
  bool twice = false;
  for (uint32_t i = 0; i < cmd->count; i++) {
    if (name_is(&cmd->args[i], name)) {
      cmd->used[i] = true;
      twice = twice || found >= 0;
      found = (int)i;
    }
  }
  if (!twice) return found;
  cli_fail("--%s given more than once", name);
  *bad = true;
  return -1;
}

/* Flags whose value names a file: it must name one (not end in '/', ".", ".."). */
static const char *const path_flags[] = {"out", "token", "key", "audience", "trust",
                                         "holder", "revoked", "metrics", "bench-binary", "server",
                                         "token-file", "pub", "ledger-key", NULL};

/* Whether v is acceptable for --name: never empty; for a path flag, a file name. Prints why
 * not. */
static bool value_ok(const char *name, const char *v) {
  size_t n = strlen(v);
  if (n == 0) {
    cli_fail("--%s: empty value", name);
    return false;
  }
  if (!in_list(name, strlen(name), path_flags)) return true;
  const char *base = strrchr(v, '/');
  base = base ? base + 1 : v;
  if (*base && strcmp(base, ".") != 0 && strcmp(base, "..") != 0) return true;
  cli_fail("--%s: not a file name (it names a folder): %s", name, v);
  return false;
}

bool cli_flag_bool(cli_cmd *cmd, const char *name, bool *bad) {
  int i = find_flag(cmd, name, bad);
  if (i >= 0 && cmd->args[i].value) {
    cli_fail("--%s takes no value", name);
    *bad = true;
  }
  return i >= 0;
}

bool cli_flag_str(cli_cmd *cmd, const char *name, char *buf, size_t cap, bool *bad) {
  int i = find_flag(cmd, name, bad);
  if (i < 0) return false;
  const cli_arg *a = &cmd->args[i];
  if (!a->value) {
    cli_fail("--%s needs a value (a value starting with '-' is written --%s=VALUE)", name, name);
    *bad = true;
    return false;
  }
  size_t n = strlen(a->value);
  if (n >= cap) {
    cli_fail("--%s: value too long (at most %zu bytes)", name, cap - 1);
    *bad = true;
    return false;
  }
  if (!value_ok(name, a->value)) {
    *bad = true;
    return false;
  }
  memcpy(buf, a->value, n + 1);
  return true;
}

bool cli_flag_u64(cli_cmd *cmd, const char *name, uint64_t min, uint64_t max, uint64_t *out,
                  bool *bad) {
  char buf[32];
  if (!cli_flag_str(cmd, name, buf, sizeof buf, bad)) return false;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(buf, &end, 10);
  if (buf[0] < '0' || buf[0] > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
    cli_fail("--%s: not a whole number in %llu..%llu: %s", name, (unsigned long long)min,
             (unsigned long long)max, buf);
    *bad = true;
    return false;
  }
  *out = v;
  return true;
}

bool cli_flag_each(cli_cmd *cmd, const char *name, bool (*fn)(void *ctx, const char *v, size_t n),
                   void *ctx) {
  for (uint32_t i = 0; i < cmd->count; i++) {
    const cli_arg *a = &cmd->args[i];
    if (!name_is(a, name)) continue;
    cmd->used[i] = true;
    if (!a->value) {
      cli_fail("--%s needs a value", name);
      return false;
    }
    if (!value_ok(name, a->value)) return false;
    if (!fn(ctx, a->value, strlen(a->value))) return false;
  }
  return true;
}

bool cli_flags_exclusive(const cli_cmd *cmd, const char *const *names) {
  const char *seen = NULL;
  for (; *names; names++) {
    if (!cli_flag_present(cmd, *names)) continue;
    if (seen) {
      cli_fail("--%s and --%s exclude each other", seen, *names);
      return true;
    }
    seen = *names;
  }
  return false;
}

bool cli_positional(cli_cmd *cmd, const char *what, char *buf, size_t cap) {
  for (uint32_t i = 0; i < cmd->count; i++) {
    const cli_arg *a = &cmd->args[i];
    if (a->name || cmd->used[i]) continue;
    cmd->used[i] = true;
    size_t n = strlen(a->value);
    if (n == 0 || n >= cap) {
      cli_fail("%s: %s (at most %zu bytes)", what, n ? "too long" : "empty", cap - 1);
      return false;
    }
    memcpy(buf, a->value, n + 1);
    return true;
  }
  cli_fail("%s is required (see --help)", what);
  return false;
}

bool cli_cmd_unknown(const cli_cmd *cmd) {
  for (uint32_t i = 0; i < cmd->count; i++) {
    const cli_arg *a = &cmd->args[i];
    if (cmd->used[i]) continue;
    if (!a->name)
      fprintf(stderr, "cnv: unexpected argument: %s\n", a->value);
    else
      fprintf(stderr, "cnv: unknown option: %s%.*s\n", a->is_short ? "-" : "--", (int)a->name_len, a->name);
    return true;
  }
  return false;
}
