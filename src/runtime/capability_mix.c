/* Variety of the capability stream (every parsed capability id, counted by submit in the
 * variety module's tally) against the regulator's (the registered handlers). */
#include <cnv/variety.h>

#include "core/atomic.h"
#include "rt_internal.h"

cnv_status cnv_runtime_variety_get(cnv_runtime *rt, cnv_runtime_variety *out) {
  if (!rt || !out) return CNV_EINVAL;
  *out = (cnv_runtime_variety){0};
  cnv_variety_tally_stats t;
  cnv_status st = cnv_variety_tally_read(rt->capabilities, &t);
  if (st != CNV_OK) return st;
  out->observations = t.observations;
  out->distinct = t.distinct;
  out->bits = t.bits;
  out->entropy = t.entropy;
  out->regulator_bits = cnv_variety_bits(cnv__load_relaxed(&rt->n_handlers)) /* relaxed: a count */;
  double threshold = rt->cfg.variety_threshold_bits > 0 ? rt->cfg.variety_threshold_bits : 1e300;
  cnv_requisite req;
  st = cnv_variety_requisite(out->regulator_bits, out->bits, threshold, &req);
  if (st != CNV_OK) return st;
  out->deficit_bits = req.deficit_bits;
  out->exceeded = req.exceeded;
  return CNV_OK;
}
