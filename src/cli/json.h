/* The reader of Google Benchmark's JSON output (`cnv bench`), on jansson: walks the
 * "benchmarks" array and reads a few string and number members of each entry. */
#ifndef CNV_CLI_JSON_H
#define CNV_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bench_entry {
  char name[256];     /* run_name when present, else name */
  char run_type[32];  /* "iteration" or "aggregate" */
  char aggregate[32]; /* aggregate_name ("median", ...) */
  double items_per_second;
  bool has_items;
  bool error; /* error_occurred was true */
} bench_entry;

#define JSON_ERROR_CAP 200

/* Parses a whole JSON document of len bytes (a NUL byte anywhere, escaped or raw, is
 * malformed; so are duplicate keys and text that is not UTF-8) and calls fn for each object of
 * the top-level object's "benchmarks" array (absent: none). Returns false when the text is
 * not such a document (err, JSON_ERROR_CAP bytes, gets why: "byte N: ..." for a syntax error,
 * "benchmarks[I]: ..." for an entry of the wrong shape) or when fn returns false. */
bool json_bench_entries(const char *text, size_t len, bool (*fn)(void *ctx, const bench_entry *e), void *ctx,
                        char err[JSON_ERROR_CAP]);

#endif
