/* Child-process runner for the cnv tool's tests. */
#include <dirent.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_run.h"

static char dir[64];

const char *cli_tmpdir(void) {
  strcpy(dir, "/tmp/cnv-cli-test-XXXXXX");
  if (!mkdtemp(dir) || chdir(dir) != 0) abort();
  return dir;
}

void cli_tmpdir_remove(void) {
  char cmd[128];
  if (chdir("/") != 0) abort();
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) abort();
}

bool cli_slurp(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
  buf[n] = '\0';
  if (f) fclose(f);
  return f != NULL;
}

pid_t cli_start(const char *out_path, const char *const *args) {
  const char *argv[64] = {CNV_CLI_PATH};
  size_t n = 1;
  for (; args[n - 1] && n < 63; n++) argv[n] = args[n - 1];
  argv[n] = NULL;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) abort();
  if (pid == 0) {
    int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(".err", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(126);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  return pid;
}

void cli_wait(cli_result *r, pid_t pid, const char *out_path) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) abort();
  r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (strcmp(out_path, "/dev/full") == 0)
    r->out[0] = '\0';
  else
    cli_slurp(out_path, r->out, sizeof r->out);
  cli_slurp(".err", r->err, sizeof r->err);
}

void cli_run_to(cli_result *r, const char *out_path, const char *const *args) {
  cli_wait(r, cli_start(out_path, args), out_path);
}

void cli_run(cli_result *r, const char *const *args) { cli_run_to(r, ".out", args); }

bool cli_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

const char *cli_leftover(void) {
  static char name[256];
  DIR *d = opendir(".");
  if (!d) abort();
  const char *found = NULL;
  for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
    if (strstr(e->d_name, ".tmp-") || strstr(e->d_name, ".old-")) {
      snprintf(name, sizeof name, "%s", e->d_name);
      found = name;
    }
  }
  closedir(d);
  return found;
}

bool cli_make_demo_agent(cli_result *r) {
  static const char *const root[] = {"token", "keygen", "--out", "root", NULL};
  static const char *const agent[] = {"token", "keygen", "--out", "agent", NULL};
  static const char *const mint[] = {"token", "mint", "--key", "root.key", "--audience", "agent.pub",
                                     "--allow", "demo.*", "--effects", "read_only", "--out", "agent.tok",
                                     NULL};
  const char *const *const steps[] = {root, agent, mint};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    cli_run(r, steps[i]);
    if (r->status != 0) return false;
  }
  return true;
}
