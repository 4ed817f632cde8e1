/* The client's socket helpers: address parsing and a connect bounded by a deadline. */
#ifndef CNV_CLIENT_ADDR_H
#define CNV_CLIENT_ADDR_H

#include <stdint.h>

#include <cnv/status.h>

/* Monotonic clock in nanoseconds. */
uint64_t client_now_ns(void);

/* Milliseconds left until deadline_ns (0 when passed; capped at INT32_MAX). */
int client_ms_left(uint64_t deadline_ns);

/* Opens a non-blocking, close-on-exec socket connected to `address` ("tcp:HOST:PORT" or
 * "unix:PATH") by deadline_ns (TCP_NODELAY set on TCP). *fd gets it. Errors:
 * CNV_ECLIENT_ADDRESS (malformed, a path too long for sun_path), CNV_ECLIENT_CONNECT,
 * CNV_ECLIENT_TIMEOUT, CNV_ENOMEM. */
cnv_status client_connect_addr(const char *address, uint64_t deadline_ns, int *fd);

#endif
