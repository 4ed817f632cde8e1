/* Temporary files in flight and the signal handler that removes them (cli.h). The handler
 * reads only lock-free atomic flags, the paths they publish and a volatile sig_atomic_t, and
 * calls only async-signal-safe functions (unlink, kill, sigaction, raise). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define CLI_TMP_SLOTS 8

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the handler may only touch lock-free atomics");

static struct {
  char path[CLI_TMP_PATH_CAP];
  atomic_int live; /* 1 while path names a temporary file to remove */
} slots[CLI_TMP_SLOTS];
static volatile sig_atomic_t child; /* a child to pass the signal on to, 0 for none */

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_STOP (sizeof stop_signals / sizeof stop_signals[0])

void cli_cleanup_now(void) {
  for (int i = 0; i < CLI_TMP_SLOTS; i++) {
    /* Acquire: pairs with cli_tmp_create's release store, so the path read is the one
     * published (the handler may run on any thread). */
    if (atomic_load_explicit(&slots[i].live, memory_order_acquire)) unlink(slots[i].path);
  }
}

/* Removes the temporary files, passes the signal to the child, and dies of the signal (it is
 * blocked while the handler runs, so the raise takes effect on return, by default action). */
static void on_stop(int signo) {
  int saved = errno;
  cli_cleanup_now();
  pid_t c = (pid_t)child;
  if (c > 0) kill(c, signo);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  if (sigaction(signo, &sa, NULL) != 0) _exit(128 + signo);
  raise(signo);
  errno = saved;
}

bool cli_signals_init(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = SIG_IGN;
  bool ok = sigaction(SIGPIPE, &sa, NULL) == 0;
  sa.sa_handler = on_stop;
  for (size_t i = 0; i < N_STOP; i++) {
    ok = ok && sigaddset(&sa.sa_mask, stop_signals[i]) == 0;
  }
  for (size_t i = 0; ok && i < N_STOP; i++) ok = sigaction(stop_signals[i], &sa, NULL) == 0;
  if (!ok) cli_fail("cannot install the signal handlers: %s", strerror(errno));
  return ok;
}

bool cli_signals_block(sigset_t *old) {
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < N_STOP; i++) sigaddset(&set, stop_signals[i]);
  if (sigprocmask(SIG_BLOCK, &set, old) == 0) return true;
  cli_fail("cannot block signals: %s", strerror(errno));
  return false;
}

bool cli_signals_restore(const sigset_t *old) {
  if (sigprocmask(SIG_SETMASK, old, NULL) == 0) return true;
  cli_fail("cannot unblock signals: %s", strerror(errno));
  return false;
}

bool cli_signals_default(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = SIG_DFL;
  bool ok = sigaction(SIGPIPE, &sa, NULL) == 0;
  for (size_t i = 0; ok && i < N_STOP; i++) ok = sigaction(stop_signals[i], &sa, NULL) == 0;
  return ok;
}

int cli_tmp_create(char *tmpl, int *slot) {
  *slot = -1;
  if (strlen(tmpl) >= CLI_TMP_PATH_CAP) return errno = ENAMETOOLONG, -1;
  sigset_t old;
  if (!cli_signals_block(&old)) return -1;
  int fd = mkostemp(tmpl, O_CLOEXEC);
  int err = errno;
  for (int i = 0; fd >= 0 && i < CLI_TMP_SLOTS && *slot < 0; i++) {
    /* Relaxed: only this (main) thread sets or clears live; the signals are blocked here. */
    if (atomic_load_explicit(&slots[i].live, memory_order_relaxed)) continue;
    memcpy(slots[i].path, tmpl, strlen(tmpl) + 1);
    /* Release: the path is whole before a handler (in any thread) sees live set. */
    atomic_store_explicit(&slots[i].live, 1, memory_order_release);
    *slot = i;
  }
  if (fd >= 0 && *slot < 0) {
    close(fd);
    unlink(tmpl);
    fd = -1, err = EMFILE;
  }
  bool unblocked = cli_signals_restore(&old);
  if (fd >= 0 && !unblocked) {
    close(fd);
    cli_cleanup_forget(*slot);
    unlink(tmpl);
    *slot = -1;
    fd = -1, err = errno;
  }
  errno = err;
  return fd;
}

void cli_cleanup_forget(int slot) {
  /* Relaxed: clearing publishes nothing; a handler that still sees 1 unlinks a name that the
   * caller is about to rename or remove anyway. */
  if (slot >= 0 && slot < CLI_TMP_SLOTS) atomic_store_explicit(&slots[slot].live, 0, memory_order_relaxed);
}

void cli_cleanup_child(int pid) { child = pid; }
