/* Typed argument schemas: cnv_schema_validate (is the schema well formed) and
 * cnv_schema_check (does a parsed invocation fit it). docs/grammar.md, "Typed arguments". */
#include <cnv/protocol.h>
#include <string.h>

#include "typed.h"

_Static_assert(CNV_SCHEMA_MAX_ARGS <= 64, "cnv_schema_check keeps one bit per argument");

#define KNOWN_ARGF (CNV_ARGF_REQUIRED | CNV_ARGF_REPEATED | CNV_ARGF_MIN | CNV_ARGF_MAX)
#define KNOWN_SCHEMA_FLAGS CNV_SCHEMA_CLOSED

static bool enum_ok(const cnv_arg_spec *a) {
  if (a->n_enum < 1 || a->n_enum > CNV_SCHEMA_MAX_ENUM || !a->enum_values) return false;
  for (size_t i = 0; i < a->n_enum; i++) {
    if (!a->enum_values[i] || a->enum_values[i][0] == '\0') return false;
    for (size_t j = 0; j < i; j++)
      if (strcmp(a->enum_values[i], a->enum_values[j]) == 0) return false;
  }
  return true;
}

static bool bounds_ok(const cnv_arg_spec *a) {
  bool has_min = a->flags & CNV_ARGF_MIN, has_max = a->flags & CNV_ARGF_MAX;
  if (!has_min && !has_max) return true;
  if (a->type != CNV_ARGT_INTEGER && a->type != CNV_ARGT_STRING) return false;
  if (has_min && has_max && a->min > a->max) return false;
  if (a->type == CNV_ARGT_STRING && ((has_min && a->min < 0) || (has_max && a->max < 0)))
    return false;
  return true;
}

static bool name_taken(const cnv_parse_schema *schema, size_t k) {
  const char *name = schema->args[k].name;
  size_t len = strlen(name);
  for (size_t j = 0; j < k; j++)
    if (strcmp(schema->args[j].name, name) == 0) return true;
  for (size_t j = 0; j < schema->n_bool_flags; j++) {
    const cnv_slice *f = &schema->bool_flags[j];
    if (f->len == len && memcmp(f->ptr, name, len) == 0) return true;
  }
  return false;
}

static bool spec_ok(const cnv_parse_schema *schema, size_t k) {
  const cnv_arg_spec *a = &schema->args[k];
  if (!a->name || cnv__flag_name_check(a->name, strlen(a->name)) != CNV_OK) return false;
  if (a->type < CNV_ARGT_STRING || a->type > CNV_ARGT_ENUM) return false;
  if (a->flags & ~KNOWN_ARGF) return false;
  if (!bounds_ok(a)) return false;
  if (a->type == CNV_ARGT_ENUM ? !enum_ok(a) : (a->n_enum != 0 || a->enum_values != NULL))
    return false;
  return !name_taken(schema, k);
}

cnv_status cnv_schema_validate(const cnv_parse_schema *schema, size_t *bad_arg) {
  if (!schema || (!schema->args && schema->n_args) ||
      (!schema->bool_flags && schema->n_bool_flags))
    return CNV_EINVAL;
  size_t bad = schema->n_args;
  if (schema->n_args > CNV_SCHEMA_MAX_ARGS) {
    bad = CNV_SCHEMA_MAX_ARGS; /* the first entry past the limit */
  } else if (schema->flags & ~KNOWN_SCHEMA_FLAGS) {
    bad = schema->n_args; /* the schema itself, not an entry */
  } else {
    for (bad = 0; bad < schema->n_args && spec_ok(schema, bad); bad++) {
    }
    if (bad == schema->n_args) return CNV_OK;
  }
  if (bad_arg) *bad_arg = bad;
  return CNV_ESCHEMA_INVALID;
}

/* Index of the typed argument named like `a`, or n_args. */
static size_t spec_of(const cnv_parse_schema *schema, const cnv_arg *a) {
  for (size_t k = 0; k < schema->n_args; k++) {
    const char *name = schema->args[k].name;
    if (strncmp(name, a->name.ptr, a->name.len) == 0 && name[a->name.len] == '\0') return k;
  }
  return schema->n_args;
}

static bool in_bounds(const cnv_arg_spec *s, int64_t v) {
  return !((s->flags & CNV_ARGF_MIN) && v < s->min) && !((s->flags & CNV_ARGF_MAX) && v > s->max);
}

/* One occurrence of a typed argument: its value against the spec's type and bounds. */
static cnv_status value_fits(const cnv_arg_spec *s, const cnv_arg *a) {
  bool b;
  if (s->type == CNV_ARGT_BOOLEAN)
    return a->kind == CNV_ARG_LONG_BOOL ? CNV_OK : cnv__read_bool(a->value.ptr, a->value.len, &b);
  if (a->kind != CNV_ARG_LONG_VALUE) return CNV_EARG_TYPE; /* a flag that needs a value */
  const char *v = a->value.ptr;
  size_t len = a->value.len;
  switch (s->type) {
    case CNV_ARGT_INTEGER: {
      int64_t n;
      cnv_status st = cnv__read_int(v, len, &n);
      if (st != CNV_OK) return st;
      return in_bounds(s, n) ? CNV_OK : CNV_ERANGE;
    }
    case CNV_ARGT_NUMBER: {
      double d;
      return cnv__read_number(v, len, &d);
    }
    case CNV_ARGT_ENUM:
      for (size_t i = 0; i < s->n_enum; i++) {
        const char *e = s->enum_values[i];
        if (strlen(e) == len && memcmp(e, v, len) == 0) return CNV_OK;
      }
      return CNV_EARG_ENUM;
    default:                                                   /* CNV_ARGT_STRING: any bytes; bounds on the length */
      return in_bounds(s, (int64_t)len) ? CNV_OK : CNV_ERANGE; /* len < 2^32: a line's bytes */
  }
}

cnv_status cnv_schema_check(const cnv_parse_schema *schema, const cnv_invocation *inv,
                            size_t *bad_arg) {
  if (!schema || !inv || (!schema->args && schema->n_args) || (!inv->args && inv->count))
    return CNV_EINVAL;
  bool closed = schema->flags & CNV_SCHEMA_CLOSED;
  uint64_t seen = 0;
  cnv_status st = CNV_OK;
  size_t i = 0;
  for (; i < inv->count && st == CNV_OK; i++) {
    const cnv_arg *a = &inv->args[i];
    if (a->kind == CNV_ARG_POSITIONAL || a->kind == CNV_ARG_SHORT) {
      if (closed) st = CNV_EARG_POSITIONAL;
      continue;
    }
    size_t k = spec_of(schema, a);
    if (k == schema->n_args) {
      if (closed) st = CNV_EARG_UNKNOWN;
      continue;
    }
    const cnv_arg_spec *s = &schema->args[k];
    if ((seen >> k) & 1u && !(s->flags & CNV_ARGF_REPEATED)) {
      st = CNV_EARG_REPEATED;
      continue;
    }
    seen |= (uint64_t)1 << k;
    st = value_fits(s, a);
  }
  if (st != CNV_OK) {
    if (bad_arg) *bad_arg = i - 1;
    return st;
  }
  for (size_t k = 0; k < schema->n_args; k++) {
    if ((schema->args[k].flags & CNV_ARGF_REQUIRED) && !((seen >> k) & 1u)) {
      if (bad_arg) *bad_arg = inv->count;
      return CNV_EARG_MISSING;
    }
  }
  return CNV_OK;
}
