/* The probe module's own private header, included by plain name as a module's are. */
#ifndef CNV_PROBE_H
#define CNV_PROBE_H

#include <stdint.h>

uint32_t cnv_probe_bump(void);

#endif
