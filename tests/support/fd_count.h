/* Test support: how many descriptors this process has open, for tests that check nothing is
 * left behind (compare a count before with one after). Header only, no dependencies. */
#ifndef CNV_TEST_FD_COUNT_H
#define CNV_TEST_FD_COUNT_H

#include <dirent.h>

/* Open descriptors of this process (the entries of /proc/self/fd, less the one reading it);
 * -1 when that directory cannot be read. */
static inline int tfd_count(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] != '.') n++;
  }
  closedir(d);
  return n - 1; /* the directory's own descriptor */
}

#endif
