/* The nats module's server lists: "nats://HOST:PORT[,nats://HOST:PORT...]" as nats.c's options
 * take them (natsOptions_SetURL takes one URL; a list goes through natsOptions_SetServers). */
#ifndef CNV_NATS_SERVERS_H
#define CNV_NATS_SERVERS_H

#include <nats/nats.h>

/* Most servers one list names. */
#define NATSN_MAX_SERVERS 64

/* Sets o's servers from a comma-separated list (empty elements skipped). NATS_OK, or
 * NATS_INVALID_ARG (no server, more than NATSN_MAX_SERVERS), NATS_NO_MEMORY, or what
 * natsOptions_SetServers returns. Thread-safe (o is the caller's). */
natsStatus natsn_set_servers(natsOptions *o, const char *list);

#endif
