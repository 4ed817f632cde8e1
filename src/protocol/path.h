/* Capability path validation shared by the parser and the id functions (SPEC §0). */
#ifndef CNV_PROTOCOL_PATH_H
#define CNV_PROTOCOL_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnv/status.h>

/* Validates path[0..len): CNV_OK, or the first error in byte order with *err_offset set.
 * Fast accept path (a byte-class loop); the exact scan runs only once something is wrong. */
cnv_status cnv__path_check(const char *path, size_t len, size_t *err_offset);

/* Longest path the SIMD accept paths classify in one step. */
#define CNV__PATH_SHORT_MAX 31u

/* Scalar twin of the SIMD accept paths: true when path[0..len) is a valid path of
 * 1..CNV__PATH_SHORT_MAX bytes.
 * False says only "not accepted here" (longer, or invalid); callers then run the exact check. */
bool cnv__path_valid_short(const char *path, size_t len);

/* cnv_capability_id on any CPU (portable check, then XXH3-64); the SIMD paths hand it every
 * input their one-step check does not accept, so it also names the errors. */
cnv_status cnv__capability_id_portable(const char *path, size_t len, uint64_t *out);

#if defined(__x86_64__)
/* AVX-512 (F+BW+VL, BMI2) version of cnv__path_valid_short, bit for bit. Reads only
 * path[0..len) (masked loads). Call only when the CPU has those extensions. */
bool cnv__path_valid_avx512(const char *path, size_t len);
/* cnv_capability_id on a CPU with AVX-512 F+BW+VL and BMI2. Correct from load time on;
 * cnv__capid_avx512_init (run by the dispatcher) only keeps its constants out of reach of
 * constant folding. */
cnv_status cnv__capability_id_avx512(const char *path, size_t len, uint64_t *out);
void cnv__capid_avx512_init(void);
/* AVX2 (+BMI2, POPCNT) version of cnv__path_valid_short for 8..CNV__PATH_SHORT_MAX bytes
 * (false below 8: those go to the exact check), bit for bit otherwise. Reads only
 * path[0..len) (overlapping windows). Call only when the CPU has those extensions. */
bool cnv__path_valid_avx2(const char *path, size_t len);
/* cnv_capability_id on a CPU with AVX2, BMI2 and POPCNT. */
cnv_status cnv__capability_id_avx2(const char *path, size_t len, uint64_t *out);
#endif

#endif
