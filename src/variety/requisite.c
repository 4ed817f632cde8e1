/* Requisite variety (Ashby): deficit = disturbance - regulator, in bits, floored at 0. */
#include <math.h>

#include <cnv/variety.h>

static int valid_bits(double v) { return isfinite(v) && v >= 0.0; }

cnv_status cnv_variety_requisite(double regulator_bits, double disturbance_bits,
                                 double threshold_bits, cnv_requisite *out) {
  if (out == NULL) return CNV_EINVAL;
  if (!valid_bits(regulator_bits) || !valid_bits(disturbance_bits) || !valid_bits(threshold_bits))
    return CNV_ERANGE;
  double deficit = disturbance_bits - regulator_bits;
  out->regulator_bits = regulator_bits;
  out->disturbance_bits = disturbance_bits;
  out->deficit_bits = deficit > 0.0 ? deficit : 0.0;
  out->exceeded = out->deficit_bits > threshold_bits;
  return CNV_OK;
}
