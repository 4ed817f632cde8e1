/* A small strict JSON reader for Google Benchmark's JSON output: just enough to walk the
 * "benchmarks" array and read a few string and number members of each entry. */
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

/* Parses a whole JSON document and calls fn for each object of the top-level "benchmarks"
 * array. Returns false on malformed JSON (with *err_offset set) or when fn returns false. */
bool json_bench_entries(const char *text, size_t len, bool (*fn)(void *ctx, const bench_entry *e),
                        void *ctx, size_t *err_offset);

#endif
