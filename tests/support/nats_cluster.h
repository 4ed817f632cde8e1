/* Test support: 1 to 5 nats-server processes on loopback with JetStream, clustered when there
 * are several, for the tests and benchmarks of the nats module. Each server gets free ports (a
 * client port, a monitoring port and, in a cluster, a route port), the name nI and the store
 * directory TMP/nI under a fresh temporary directory; start returns once every server accepts
 * clients and reports JetStream healthy (in a cluster: in contact with a meta leader).
 *
 * nats-server is $CNV_NATS_SERVER when that is set, else /usr/sbin/nats-server (where Debian's
 * package puts it, off most PATHs), else the first one on PATH; when there is none, start fails with a message naming the Debian package
 * nats-server (scripts/deps --test installs it).
 *
 * Nothing is left behind: every server is started with the parent-death signal SIGKILL (it
 * dies with the process, or rather with the thread, that started it: start clusters from the
 * main thread or from one that outlives them); the clusters still running when the process
 * exits are stopped by an atexit handler (a cmocka test that fails mid-way still gets its
 * servers killed and its directories removed), and a small reaper process per cluster removes
 * the directory when the process dies any other way (a crash, SIGKILL, a ctest timeout). No framework: plain C, POSIX. Not thread-safe:
 * one thread drives a cluster. Link with tests/support/nats_cluster.c (the CMake target
 * cnv_test_nats_cluster). */
#ifndef CNV_TEST_NATS_CLUSTER_H
#define CNV_TEST_NATS_CLUSTER_H

#include <stdbool.h>
#include <sys/types.h>

#define NATS_CLUSTER_MAX 5

typedef struct nats_cluster nats_cluster;

/* Starts n servers (1..NATS_CLUSTER_MAX) and waits until they are ready (up to 60 s). Returns
 * 0 and *out, or -1 with nothing left running and nats_cluster_error() saying why. */
int nats_cluster_start(int n, nats_cluster **out);
/* Why the last call that failed failed (static storage; "" when none did). */
const char *nats_cluster_error(void);
/* The number of servers. */
int nats_cluster_size(const nats_cluster *c);
/* Server i's client URL, "nats://127.0.0.1:PORT" (owned by c; the same after a restart). */
const char *nats_cluster_url(const nats_cluster *c, int i);
/* Every server's client URL, comma-separated (owned by c). */
const char *nats_cluster_urls(const nats_cluster *c);
/* Server i's monitoring (HTTP) port. */
int nats_cluster_monitor_port(const nats_cluster *c, int i);
/* One client connection of a server as its /connz reports it. */
typedef struct nats_cluster_conn {
  long long in_msgs; /* messages the client published */
  long long subs;    /* subscriptions it holds */
} nats_cluster_conn;
/* Server i's client connections (at most cap of them into out, in the server's order), from
 * its monitoring port's /connz: their number, or -1 when the server does not answer. */
int nats_cluster_connz(const nats_cluster *c, int i, nats_cluster_conn *out, int cap);
/* Server i's process id, or -1 while it is killed. */
pid_t nats_cluster_pid(const nats_cluster *c, int i);
/* The temporary directory holding the servers' store directories and logs (TMP/nI.log); a
 * test may put its own files there: stop removes it all. */
const char *nats_cluster_dir(const nats_cluster *c);
/* SIGKILLs server i and reaps it. 0, or -1 (i out of range, or not running). */
int nats_cluster_kill(nats_cluster *c, int i);
/* Starts server i again (killed before) with the same ports, name and store directory, and
 * waits until it is ready again (in a cluster: back in contact with the meta leader). 0, or
 * -1 with nats_cluster_error() saying why (the server is then killed again). */
int nats_cluster_restart(nats_cluster *c, int i);
/* Kills every server (SIGKILL), reaps them, removes the temporary directory, frees c. NULL
 * ignored. */
void nats_cluster_stop(nats_cluster *c);
/* Whether a process with that id still runs (exists and is not a zombie), for tests that
 * check that nothing is left behind. */
bool nats_cluster_pid_alive(pid_t pid);

#endif
