/* ledger_append_durable: 64-byte-payload records made durable, per second.
 *
 * cnv: 4 threads append APP records (cnv_ledger_append: a copy into the ledger's lock-free
 * queue) to a ledger opened with sync 1 in a fresh directory on the disk (ledger_env.h); its
 * writer thread takes whole batches, writes them and makes each batch durable with one
 * fdatasync (group commit). A record counts only once durable: after the appending loop,
 * thread 0 waits until the durable count covers the last index any thread got and only then
 * reads the clock, so the figure is records appended / (time from the start barrier until
 * all of them were durable), reported as the case's rate. The mean group commit size (records
 * per fdatasync over the run, from cnv_ledger_stats) is shown as the counter `batch`, and is
 * what the sqlite case batches by when it runs after this one in the same process.
 *
 * sqlite: SQLite (libsqlite3) in WAL mode with synchronous=FULL (the WAL is synced at every
 * commit), one table holding the same records: rowid = the record's index, kind, agent,
 * ticket, time_ms and the 64-byte payload (a BLOB). One thread inserts through one prepared
 * statement, `batch` records per transaction (BEGIN, the inserts, COMMIT): the mean group
 * commit size the cnv case measured earlier in this process, else SQLITE_BATCH. SQLite
 * serializes writers, so one writer thread is its fastest way to commit, with no lock
 * contention; every record counted was committed (the loop ends at a COMMIT). */
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <cnv.h>

#include "../harness/cnv_bench.h"
#include "ledger_env.h"

#define THREADS 4
#define ROUND 256u                /* appends per keep_running_batch call */
#define SQLITE_BATCH 4096u        /* records per transaction when the cnv case has not run first */
#define DURABLE_NS 60000000000ull /* the wait for the last record: far past any group commit */

/* The mean group commit of the cnv runs so far in this process (records and commits). */
static uint64_t measured_records, measured_commits;

static struct {
  char dir[LB_DIR_MAX];
  cnv_ledger *l;
  cnv_ledger_stats before;
  uint64_t t0;
  /* Per thread, written in its loop (so before the harness's end barrier, whose mutex makes
   * them visible to thread 0 after it): records appended, and the last index + 1. */
  struct {
    uint64_t n, end;
  } th[THREADS];
} fx;

/* Thread 0, before the start barrier: the directory and the ledger. 0, or -1 with err. */
static int append_setup(char *err, size_t err_cap) {
  memset(&fx, 0, sizeof fx);
  if (lb_dir_make(fx.dir, 1, err, err_cap) != 0) return -1;
  cnv_status s = lb_ledger_open(fx.dir, 1, &fx.l, NULL);
  if (s != CNV_OK) {
    snprintf(err, err_cap, "cnv_ledger_open: %s", cnv_strerror(s));
    lb_dir_remove(fx.dir);
    fx.l = NULL;
    return -1;
  }
  cnv_ledger_stats_get(fx.l, &fx.before);
  return 0;
}

/* Thread 0, after the end barrier: waits until every appended record is durable, reads the
 * clock, reports, closes the ledger and removes its directory. */
static void append_finish(cnv_bench_state *st) {
  uint64_t n = 0, end = 0;
  for (int i = 0; i < THREADS; i++) {
    n += fx.th[i].n;
    if (fx.th[i].end > end) end = fx.th[i].end;
  }
  int ok = 1;
  if (end > 0) ok = cnv_ledger_wait_durable(fx.l, end - 1, DURABLE_NS) == CNV_OK;
  uint64_t t1 = lb_now_ns();
  cnv_ledger_stats after;
  cnv_ledger_stats_get(fx.l, &after);
  cnv_ledger_close(fx.l);
  fx.l = NULL;
  lb_dir_remove(fx.dir);
  if (!ok || after.error != CNV_OK || after.dropped != 0) {
    cnv_bench_skip_with_error(st, "the appended records did not all become durable");
    return;
  }
  measured_records += after.durable - fx.before.durable;
  measured_commits += after.commits - fx.before.commits;
  cnv_bench_set_counter(st, "batch", lb_mean_batch(&fx.before, &after));
  cnv_bench_set_rate(st, t1 > fx.t0 ? (double)n * 1e9 / (double)(t1 - fx.t0) : 0.0);
}

static void append_cnv(cnv_bench_state *st) {
  int t = cnv_bench_thread_index(st);
  char err[LB_DIR_MAX + 128];
  if (t == 0 && append_setup(err, sizeof err) != 0) {
    cnv_bench_skip_with_error(st, err);
    return; /* the others find no ledger after the start barrier and append nothing */
  }
  uint8_t payload[LB_PAYLOAD];
  cnv_ledger_entry e;
  lb_entry_init(&e, payload, (uint64_t)t + 1);
  e.agent = (uint32_t)t;
  uint64_t n = 0, index = 0;
  while (cnv_bench_keep_running_batch(st, ROUND)) {
    if (n == 0 && t == 0) fx.t0 = lb_now_ns(); /* every thread has passed the start barrier */
    if (!fx.l) continue;
    for (unsigned i = 0; i < ROUND; i++) {
      e.ticket = n++;
      CNV_BENCH_OK(cnv_ledger_append(fx.l, &e, &index));
    }
    fx.th[t].n = n;
    if (index + 1 > fx.th[t].end) fx.th[t].end = index + 1;
  }
  if (t == 0 && fx.l) append_finish(st);
}

static void append_sqlite(cnv_bench_state *st) {
  char err[LB_DIR_MAX + 128], dir[LB_DIR_MAX], path[LB_DIR_MAX + 16];
  if (lb_dir_make(dir, 1, err, sizeof err) != 0) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  snprintf(path, sizeof path, "%s/ledger.db", dir);
  uint64_t batch = measured_commits ? (measured_records + measured_commits / 2) / measured_commits : SQLITE_BATCH;
  if (batch == 0) batch = 1;
  sqlite3 *db = NULL;
  sqlite3_stmt *ins = NULL;
  const char *setup =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=FULL;"
      "CREATE TABLE rec(idx INTEGER PRIMARY KEY, kind INTEGER, agent INTEGER, ticket INTEGER,"
      " time_ms INTEGER, payload BLOB);";
  int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, setup, NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, "INSERT INTO rec(idx, kind, agent, ticket, time_ms, payload) VALUES(?,?,?,?,?,?)", -1,
                            &ins, NULL);
  /* WAL mode is what the case measures: a database that could not switch to it would not be. */
  sqlite3_stmt *mode = NULL;
  if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &mode, NULL);
  if (rc == SQLITE_OK && (sqlite3_step(mode) != SQLITE_ROW ||
                          strcmp((const char *)sqlite3_column_text(mode, 0), "wal") != 0))
    rc = SQLITE_ERROR;
  sqlite3_finalize(mode);
  if (rc != SQLITE_OK) {
    snprintf(err, sizeof err, "sqlite set-up: %s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_finalize(ins);
    sqlite3_close(db);
    lb_dir_remove(dir);
    cnv_bench_skip_with_error(st, err);
    return;
  }
  uint8_t payload[LB_PAYLOAD];
  cnv_ledger_entry e;
  lb_entry_init(&e, payload, 1);
  uint64_t index = 0;
  int bad = 0;
  while (!bad && cnv_bench_keep_running_batch(st, batch)) {
    bad |= sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK;
    for (uint64_t i = 0; i < batch && !bad; i++, index++) {
      bad |= sqlite3_bind_int64(ins, 1, (sqlite3_int64)index) != SQLITE_OK;
      bad |= sqlite3_bind_int(ins, 2, e.kind) != SQLITE_OK;
      bad |= sqlite3_bind_int64(ins, 3, e.agent) != SQLITE_OK;
      bad |= sqlite3_bind_int64(ins, 4, (sqlite3_int64)index) != SQLITE_OK;
      bad |= sqlite3_bind_int64(ins, 5, (sqlite3_int64)e.time_ms) != SQLITE_OK;
      bad |= sqlite3_bind_blob(ins, 6, payload, LB_PAYLOAD, SQLITE_STATIC) != SQLITE_OK;
      bad |= sqlite3_step(ins) != SQLITE_DONE;
      bad |= sqlite3_reset(ins) != SQLITE_OK;
    }
    bad |= sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
  }
  if (bad) snprintf(err, sizeof err, "sqlite insert: %s", sqlite3_errmsg(db));
  sqlite3_finalize(ins);
  if (sqlite3_close(db) != SQLITE_OK && !bad) {
    bad = 1;
    snprintf(err, sizeof err, "sqlite3_close: %s", sqlite3_errmsg(db));
  }
  lb_dir_remove(dir);
  if (bad) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  cnv_bench_set_counter(st, "batch", (double)batch);
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

/* One constructor for both, cnv first: Google Benchmark runs the cases in the order they were
 * registered, so the sqlite case batches by what the cnv case measured just before. */
__attribute__((constructor)) static void ledger_append_register(void) {
  cnv_bench_register("ledger_append_durable/cnv", append_cnv, THREADS, 0);
  cnv_bench_register("ledger_append_durable/sqlite", append_sqlite, 1, 0);
}
