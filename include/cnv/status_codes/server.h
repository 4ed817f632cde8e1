/* Status codes of the server module (cnv_server_*): -1000 .. -1099.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_SERVER_H
#define CNV_STATUS_CODES_SERVER_H
#define CNV_STATUS_SERVER(X)                                                                 \
  X(ESERVER_ADDRESS, -1000, "server: malformed listen address (tcp:HOST:PORT or unix:PATH)") \
  X(ESERVER_LISTEN, -1001, "server: could not bind or listen on an address")                 \
  X(ESERVER_LIMIT, -1002, "server: a session limit refused the connection")                  \
  X(ESERVER_TIMEOUT, -1003, "server: the peer's handshake or idle timeout passed")
#endif
