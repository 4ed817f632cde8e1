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
#include "cnv/runtime.h"

#endif
