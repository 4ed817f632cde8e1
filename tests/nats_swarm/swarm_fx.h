/* The swarm tests' fixture: 3 clustered nats-servers (tests/support/nats_cluster.h), keys and
 * tokens made with `cnv token` (a root; nodes a..e allowed swarm.serve in the swarm; agents
 * ag1..ag3 allowed demo.*, test.* and pin.* with effects read_only|mutate_state), and
 * `cnv serve --nats` nodes as child processes with the test plugin (plugin_mark.c: test.mark
 * writes one line per run into a shared file, pin.NODE.echo is served by node NODE alone). The library client (cnv_nats_client_*) runs in
 * the test process for load. Include after <cmocka.h>. */
#ifndef CNV_TESTS_NATS_SWARM_FX_H
#define CNV_TESTS_NATS_SWARM_FX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cnv/nats.h>

#include "support/nats_cluster.h"

#define SFX_NODES 5   /* a, b, c, d, e */
#define SFX_SWARM 17u /* the swarm id */

typedef struct sfx_node {
  char name[2]; /* "a".. */
  pid_t pid;    /* -1 while not running */
  char pk_hex[65];
} sfx_node;

typedef struct sfx {
  nats_cluster *nc;
  char dir[64]; /* the test's folder (the current directory): keys, tokens, node output */
  sfx_node node[SFX_NODES];
  char mark[128]; /* the plugin's shared file of runs */
} sfx;

/* Starts the cluster (3 servers), makes the folder (chdir into it) with every key and token.
 * False, with the reason on stderr, when something fails. */
bool sfx_setup(sfx *f);
/* Kills every node (SIGKILL), stops the cluster, removes the folder. */
void sfx_teardown(sfx *f);
/* Starts node i (`cnv serve --nats ALL --swarm SFX_SWARM --key NAME.key --token NAME.tok
 * --trust root.pub --once all --replicas 3 --plugin ...`) and waits for its `joined swarm`
 * line (up to 60 s). False, with its stderr printed, when it exits first or is late. */
bool sfx_node_start(sfx *f, int i);
/* Starts node i as sfx_node_start does but presenting the token file tok, expecting it to
 * refuse: returns its exit status (its stderr in err_text, cap bytes), or -1 when it joined
 * the swarm (it is killed then), died of a signal or did not end in 60 s. */
int sfx_node_refused(sfx *f, int i, const char *tok, char *err_text, size_t cap);
/* SIGKILLs node i and reaps it. */
void sfx_node_kill(sfx *f, int i);
/* The client of agent `agent` ("ag1"..) connected to servers (a URL or a comma-separated list);
 * NULL with *st the reason. */
cnv_nats_client *sfx_client(const char *servers, const char *agent, cnv_status *st);
/* Reads hex from a file written by `cnv token` into out (exactly n bytes) or (n == 0) up to
 * cap bytes, *len the size; false when it cannot. */
bool sfx_read_hex(const char *path, uint8_t *out, size_t cap, size_t *len);

/* One call of a load: what its callback saw. */
typedef struct sfx_slot {
  unsigned completions; /* callbacks run for it: must end at 1 */
  cnv_status status;
  int32_t done;
  uint32_t attempts;
  char result[32];
} sfx_slot;
/* Runs n calls through c, line i made by line(i, buf, cap) (returns its length), with at most
 * window unanswered; after every poll calls tick(tick_ctx, completions so far) when tick is not
 * NULL (a test kills or restarts something mid-run from there). Fills slots[0..n). Polls until
 * every accepted call completed. Returns the number of submits refused and polls failed (each
 * fatal to a test: the client saw a call not accepted). */
typedef size_t (*sfx_line_fn)(size_t i, char *buf, size_t cap);
typedef void (*sfx_tick_fn)(void *ctx, size_t completed);
unsigned sfx_load(cnv_nats_client *c, size_t n, size_t window, sfx_line_fn line, sfx_slot *slots, sfx_tick_fn tick,
                  void *tick_ctx);

/* The plugin's runs of key `key` (whole line "KEY NODE"): how many, and into nodes (cap
 * bytes) the nodes' names in the order they ran. */
unsigned sfx_runs(const sfx *f, const char *key, char *nodes, size_t cap);
/* For keys PREFIX0 .. PREFIX(n-1): counts[i] the runs of PREFIXi and who[i] the nodes that ran
 * it (up to 3, in order). Returns the lines of the file that name none of them. */
typedef char sfx_who[4];
unsigned sfx_runs_indexed(const sfx *f, const char *prefix, size_t n, unsigned *counts, sfx_who *who);

#endif
