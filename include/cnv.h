/* libcnv umbrella header: includes every module's public header.
 * Each module adds its one line here, in layer order (lowest first). */
#ifndef CNV_H
#define CNV_H

#include "cnv/core.h"
#include "cnv/status.h"
#include "cnv/simd.h"
#include "cnv/hotpath.h"
#include "cnv/protocol.h"
#include "cnv/delegation.h"
#include "cnv/phases.h"
#include "cnv/telemetry.h"
#include "cnv/variety.h"
#include "cnv/ledger.h"
#include "cnv/crdt.h"
#include "cnv/runtime.h"
#include "cnv/session.h"
#include "cnv/crdt_session.h"
#include "cnv/client.h"
#include "cnv/server.h"
#include "cnv/mcp.h"
#include "cnv/mcp_http.h"
#include "cnv/swarmwire.h"
#include "cnv/nats.h"
#include "cnv/audit.h"
#include "cnv/graph.h"

#endif
