/* Google Benchmark's JSON output read with jansson (json.h): the whole document is parsed
 * (strictly: RFC 8259, UTF-8, no NUL byte raw or escaped, no duplicate key), then the entries
 * are walked. Numbers
 * are read as doubles (JSON_DECODE_INT_AS_REAL), so no integer is too large. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "json.h"

/* Copies the string member `key` of entry into out (cap bytes); absent is fine. */
static bool member_string(json_t *entry, const char *key, char *out, size_t cap, size_t index, char *err) {
  json_t *v = json_object_get(entry, key);
  if (!v) return true;
  if (!json_is_string(v) || json_string_length(v) >= cap) {
    snprintf(err, JSON_ERROR_CAP, "benchmarks[%zu]: %s is not a string of at most %zu bytes", index, key, cap - 1);
    return false;
  }
  memcpy(out, json_string_value(v), json_string_length(v) + 1);
  return true;
}

static bool read_entry(json_t *entry, size_t index, bench_entry *e, char *err) {
  memset(e, 0, sizeof *e);
  if (!json_is_object(entry)) {
    snprintf(err, JSON_ERROR_CAP, "benchmarks[%zu]: not an object", index);
    return false;
  }
  const char *name_key = json_object_get(entry, "run_name") ? "run_name" : "name";
  if (!member_string(entry, name_key, e->name, sizeof e->name, index, err) ||
      !member_string(entry, "run_type", e->run_type, sizeof e->run_type, index, err) ||
      !member_string(entry, "aggregate_name", e->aggregate, sizeof e->aggregate, index, err))
    return false;
  e->error = json_is_true(json_object_get(entry, "error_occurred"));
  json_t *ips = json_object_get(entry, "items_per_second");
  if (ips) {
    if (!json_is_number(ips)) {
      snprintf(err, JSON_ERROR_CAP, "benchmarks[%zu]: items_per_second is not a number", index);
      return false;
    }
    e->items_per_second = json_number_value(ips);
    e->has_items = true;
  }
  return true;
}

static bool walk(json_t *doc, bool (*fn)(void *ctx, const bench_entry *e), void *ctx, char *err) {
  if (!json_is_object(doc)) {
    snprintf(err, JSON_ERROR_CAP, "not an object");
    return false;
  }
  json_t *list = json_object_get(doc, "benchmarks");
  if (!list) return true;
  if (!json_is_array(list)) {
    snprintf(err, JSON_ERROR_CAP, "benchmarks is not an array");
    return false;
  }
  size_t i;
  json_t *entry;
  json_array_foreach(list, i, entry) {
    bench_entry e;
    if (!read_entry(entry, i, &e, err)) return false;
    if (!fn(ctx, &e)) {
      snprintf(err, JSON_ERROR_CAP, "benchmarks[%zu]: refused", i);
      return false;
    }
  }
  return true;
}

bool json_bench_entries(const char *text, size_t len, bool (*fn)(void *ctx, const bench_entry *e), void *ctx,
                        char err[JSON_ERROR_CAP]) {
  json_error_t je;
  err[0] = '\0';
  /* jansson 2.14 drops a raw NUL right after a number ("[2\0]" loads as [2]): refused here */
  const char *nul = memchr(text, '\0', len);
  if (nul) {
    snprintf(err, JSON_ERROR_CAP, "byte %zu: a NUL byte", (size_t)(nul - text));
    return false;
  }
  json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &je);
  if (!doc) {
    snprintf(err, JSON_ERROR_CAP, "byte %d: %s", je.position, je.text);
    return false;
  }
  bool ok = walk(doc, fn, ctx, err);
  json_decref(doc);
  return ok;
}
