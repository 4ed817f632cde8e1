/* Status codes of the mcp module (MCP front end: sessions, the stdio transport): -1200 ..
 * -1299. Append new codes with the next free value in this range; never renumber. Protocol
 * errors the client caused are JSON-RPC errors on the wire, not statuses. */
#ifndef CNV_STATUS_CODES_MCP_H
#define CNV_STATUS_CODES_MCP_H
#define CNV_STATUS_MCP(X) \
  X(EMCP_TRANSPORT, -1200, "mcp: the transport failed (input or output descriptor closed or broken)")
#endif
