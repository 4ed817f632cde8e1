/* Standalone (no cmocka) differential test of the NEON path for aarch64, run under qemu by
 * scripts/neon-test: every NEON kernel against its scalar twin, bit for bit. Prints
 * "N passed, M failed" last and exits non-zero on any failure. */
#include <stdio.h>

#include "simd_compare.h"

int main(void) {
  const cnv_simd_kernels *ref = NULL, *neon = NULL;
  simd_cmp_report r = {0, 0, NULL};
  if (cnv_simd_kernels_get(CNV_SIMD_SCALAR, &ref) != CNV_OK ||
      cnv_simd_kernels_get(CNV_SIMD_NEON, &neon) != CNV_OK) {
    printf("NEON path not runnable here (runnable mask 0x%x)\n0 passed, 1 failed\n",
           cnv_simd_runnable());
    return 1;
  }
  printf("active path: %s\n", cnv_simd_path_name(cnv_simd_active_path()));
  simd_cmp_all(ref, neon, &r);
  simd_cmp_known_answers(ref, &r);
  if (r.failed) printf("first failure: %s\n", r.first_failure);
  printf("%u passed, %u failed\n", r.passed, r.failed);
  return r.failed ? 1 : 0;
}
