/* Server lists into nats.c's options (servers.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "servers.h"

natsStatus natsn_set_servers(natsOptions *o, const char *list) {
  char *copy = strdup(list);
  if (!copy) return NATS_NO_MEMORY;
  const char *urls[NATSN_MAX_SERVERS];
  int count = 0;
  bool more = false;
  for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (!*tok) continue;
    if (count == NATSN_MAX_SERVERS) {
      more = true;
      break;
    }
    urls[count++] = tok;
  }
  natsStatus s = count && !more ? natsOptions_SetServers(o, urls, count) : NATS_INVALID_ARG;
  free(copy);
  return s;
}
