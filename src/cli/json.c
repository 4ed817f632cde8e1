/* Strict recursive-descent JSON reader (RFC 8259 grammar; depth-bounded), specialised to
 * Google Benchmark output. Strings keep escapes undecoded except \" \\ \/ (names need no more).
 * It works on (pointer, length): a NUL byte is never an end of text, and is malformed
 * everywhere (a raw control byte in a string, no token outside one). */
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define JSON_MAX_DEPTH 32

typedef struct jr {
  const char *p, *end, *start;
  bool ok;
} jr;

static void ws(jr *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static bool fail(jr *r) { return r->ok = false; }

static bool eat(jr *r, char c) {
  ws(r);
  if (r->p < r->end && *r->p == c) return r->p++, true;
  return false;
}

/* Skips the four hex digits after \u. */
static bool hex4(jr *r) {
  if (r->end - r->p < 4) return false;
  for (int i = 0; i < 4; i++, r->p++) {
    char c = *r->p;
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

/* Reads a string into out (truncation is an error when out is non-NULL and too small). */
static bool str(jr *r, char *out, size_t cap) {
  size_t n = 0;
  if (!eat(r, '"')) return fail(r);
  while (r->p < r->end && *r->p != '"') {
    char c = *r->p++;
    if ((unsigned char)c < 0x20) return fail(r);
    if (c == '\\') {
      if (r->p >= r->end) return fail(r);
      c = *r->p++;
      if (c == '\0' || !strchr("\"\\/bfnrtu", c)) return fail(r);
      if (c == 'u' && !hex4(r)) return fail(r);
    }
    if (out && n + 1 >= cap) return fail(r);
    if (out) out[n++] = c;
  }
  if (out) out[n] = '\0';
  if (r->p >= r->end) return fail(r);
  r->p++;
  return true;
}

static bool digit(const jr *r) { return r->p < r->end && *r->p >= '0' && *r->p <= '9'; }

/* Skips one or more digits; false when there is none. */
static bool digits(jr *r) {
  if (!digit(r)) return false;
  while (digit(r)) r->p++;
  return true;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? exactly, then strtod on a copy. */
static bool number(jr *r, double *out) {
  ws(r);
  const char *s = r->p;
  if (r->p < r->end && *r->p == '-') r->p++;
  if (r->p < r->end && *r->p == '0')
    r->p++;
  else if (!digits(r))
    return fail(r);
  if (r->p < r->end && *r->p == '.' && (r->p++, !digits(r))) return fail(r);
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
    r->p++;
    if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
    if (!digits(r)) return fail(r);
  }
  char buf[64];
  size_t n = (size_t)(r->p - s);
  if (n >= sizeof buf) return fail(r);
  memcpy(buf, s, n);
  buf[n] = '\0';
  char *e = NULL;
  double v = strtod(buf, &e);
  if (*e != '\0') return fail(r);
  if (out) *out = v;
  return true;
}

static bool literal(jr *r, const char *word) {
  size_t n = strlen(word);
  ws(r);
  if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return fail(r);
  r->p += n;
  return true;
}

static bool skip_value(jr *r, int depth);

static bool skip_container(jr *r, char close, bool object, int depth) {
  if (eat(r, close)) return true;
  do {
    if (object && (!str(r, NULL, 0) || !eat(r, ':'))) return fail(r);
    if (!skip_value(r, depth + 1)) return false;
  } while (eat(r, ','));
  return eat(r, close) || fail(r);
}

static bool skip_value(jr *r, int depth) {
  ws(r);
  if (depth > JSON_MAX_DEPTH || r->p >= r->end) return fail(r);
  switch (*r->p) {
    case '{':
      r->p++;
      return skip_container(r, '}', true, depth);
    case '[':
      r->p++;
      return skip_container(r, ']', false, depth);
    case '"':
      return str(r, NULL, 0);
    case 't':
      return literal(r, "true");
    case 'f':
      return literal(r, "false");
    case 'n':
      return literal(r, "null");
    default:
      return number(r, NULL);
  }
}

/* One member of a benchmark entry. */
static bool entry_member(jr *r, const char *key, bench_entry *e) {
  if (strcmp(key, "run_name") == 0) return str(r, e->name, sizeof e->name);
  if (strcmp(key, "name") == 0 && e->name[0] == '\0') return str(r, e->name, sizeof e->name);
  if (strcmp(key, "run_type") == 0) return str(r, e->run_type, sizeof e->run_type);
  if (strcmp(key, "aggregate_name") == 0) return str(r, e->aggregate, sizeof e->aggregate);
  if (strcmp(key, "error_occurred") == 0) {
    ws(r);
    e->error = r->p < r->end && *r->p == 't';
  }
  if (strcmp(key, "items_per_second") == 0) return e->has_items = true, number(r, &e->items_per_second);
  return skip_value(r, 2);
}

static bool entries(jr *r, bool (*fn)(void *, const bench_entry *), void *ctx) {
  if (!eat(r, '[')) return fail(r);
  if (eat(r, ']')) return true;
  do {
    bench_entry e;
    memset(&e, 0, sizeof e);
    char key[64];
    if (!eat(r, '{')) return fail(r);
    if (!eat(r, '}')) {
      do {
        if (!str(r, key, sizeof key) || !eat(r, ':') || !entry_member(r, key, &e)) return fail(r);
      } while (eat(r, ','));
      if (!eat(r, '}')) return fail(r);
    }
    if (!fn(ctx, &e)) return false;
  } while (eat(r, ','));
  return eat(r, ']') || fail(r);
}

bool json_bench_entries(const char *text, size_t len, bool (*fn)(void *ctx, const bench_entry *e),
                        void *ctx, size_t *err_offset) {
  jr r = {text, text + len, text, true};
  char key[64];
  bool found = false;
  if (!eat(&r, '{')) fail(&r);
  while (r.ok && !eat(&r, '}')) {
    if (found && !eat(&r, ',')) fail(&r);
    if (r.ok && (!str(&r, key, sizeof key) || !eat(&r, ':'))) fail(&r);
    if (r.ok && strcmp(key, "benchmarks") == 0) {
      if (!entries(&r, fn, ctx)) return *err_offset = (size_t)(r.p - r.start), false;
    } else if (r.ok) {
      skip_value(&r, 1);
    }
    found = true;
  }
  ws(&r);
  if (r.ok && r.p != r.end) fail(&r);
  *err_offset = (size_t)(r.p - r.start);
  return r.ok;
}
