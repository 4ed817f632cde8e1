/* Status codes of the client module (cnv_client_*): -1100 .. -1199.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_CLIENT_H
#define CNV_STATUS_CODES_CLIENT_H
#define CNV_STATUS_CLIENT(X)                                                          \
  X(ECLIENT_ADDRESS, -1100, "client: malformed address (tcp:HOST:PORT or unix:PATH)") \
  X(ECLIENT_CONNECT, -1101, "client: could not connect to the server")                \
  X(ECLIENT_TIMEOUT, -1102, "client: the server did not answer in time")              \
  X(ECLIENT_DISCONNECTED, -1103, "client: the connection ended before the answer came")
#endif
