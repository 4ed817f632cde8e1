/* Effect flag names: parse and format. The set algebra is inline in cnv/effects.h. */
#include <string.h>

#include <cnv/effects.h>

static const char *const effect_names[16] = {
#define CNV_EFFECT_NAME_(up, low, bit) [bit] = #low,
    CNV_EFFECT_MAP(CNV_EFFECT_NAME_)
#undef CNV_EFFECT_NAME_
};

const char *cnv_effect_name(cnv_effects flag) {
  if (flag == 0 || (flag & (flag - 1)) != 0) return NULL;
  return effect_names[__builtin_ctz(flag)];
}

cnv_status cnv_effect_parse(const char *name, size_t len, cnv_effects *out) {
  if (!name || !out) return CNV_EINVAL;
  for (unsigned bit = 0; bit < 16; bit++) {
    if (strlen(effect_names[bit]) == len && memcmp(effect_names[bit], name, len) == 0) {
      *out = (cnv_effects)(1u << bit);
      return CNV_OK;
    }
  }
  return CNV_EUNKNOWN_FLAG;
}

cnv_status cnv_effects_format(cnv_effects e, char *buf, size_t cap, size_t *needed) {
  if ((!buf && cap) || !needed) return CNV_EINVAL;
  size_t n = 0;
  char tmp[16 * 16 + 8];
  if (e == 0) {
    memcpy(tmp, "none", 4);
    n = 4;
  }
  for (unsigned bit = 0; bit < 16; bit++) {
    if (!(e & (1u << bit))) continue;
    if (n) tmp[n++] = '|';
    size_t l = strlen(effect_names[bit]);
    memcpy(tmp + n, effect_names[bit], l);
    n += l;
  }
  *needed = n;
  if (cap <= n) {
    if (cap) buf[0] = '\0';
    return CNV_ERANGE;
  }
  memcpy(buf, tmp, n);
  buf[n] = '\0';
  return CNV_OK;
}
