/* JSON numbers <-> doubles, independent of the process locale: strtod and snprintf follow
 * LC_NUMERIC (a host that set a locale with a decimal comma would read "1.5" as 1), so both
 * run under the C locale, switched for the calling thread only (uselocale) and back. */
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "typed.h"

/* The C locale object: glibc and musl hand out one static object (no allocation), and
 * freelocale on it does nothing; elsewhere it is a real object, freed after use. */
static locale_t c_locale_enter(locale_t *old) {
  locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  if (c != (locale_t)0) *old = uselocale(c);
  return c;
}

static void c_locale_leave(locale_t c, locale_t old) {
  uselocale(old);
  freelocale(c);
}

static bool digit(char c) { return c >= '0' && c <= '9'; }

/* RFC 8259: number = [ minus ] int [ frac ] [ exp ]; int = zero / ( digit1-9 *DIGIT );
 * frac = "." 1*DIGIT; exp = ( "e" / "E" ) [ "-" / "+" ] 1*DIGIT. */
static bool json_number(const char *s, size_t len) {
  size_t i = 0;
  if (i < len && s[i] == '-') i++;
  if (i < len && s[i] == '0') {
    i++;
  } else {
    if (i == len || !digit(s[i])) return false;
    while (i < len && digit(s[i])) i++;
  }
  if (i < len && s[i] == '.') {
    if (++i == len || !digit(s[i])) return false;
    while (i < len && digit(s[i])) i++;
  }
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    if (i == len || !digit(s[i])) return false;
    while (i < len && digit(s[i])) i++;
  }
  return i == len;
}

cnv_status cnv__read_number(const char *s, size_t len, double *out) {
  if (!json_number(s, len)) return CNV_EARG_TYPE;
  if (len > CNV__NUMBER_MAX_TEXT) return CNV_ERANGE;
  char buf[CNV__NUMBER_MAX_TEXT + 1];
  memcpy(buf, s, len);
  buf[len] = '\0';
  locale_t old = (locale_t)0, c = c_locale_enter(&old);
  if (c == (locale_t)0) return CNV_ENOMEM;
  double v = strtod(buf, NULL); /* the grammar above is a subset of strtod's: it reads all */
  c_locale_leave(c, old);
  if (!isfinite(v)) return CNV_ERANGE;
  *out = v;
  return CNV_OK;
}

cnv_status cnv__format_number(double v, char *out, size_t *len) {
  if (!isfinite(v)) return CNV_ERANGE;
  locale_t old = (locale_t)0, c = c_locale_enter(&old);
  if (c == (locale_t)0) return CNV_ENOMEM;
  /* The shortest text, not the fewest digits: %g switches to fixed notation as the
   * precision grows past the exponent, so %.17g of 12345678901234568 (17 bytes) is shorter
   * than %.16g's 1.234567890123457e+16. %.17g always reads back (17 significant digits tell
   * every double apart), so a spelling is always found. %g of a finite double is a JSON
   * number: an optional '-', a digit before any '.', digits after it, an exponent e[+-]DD. */
  char text[CNV__NUMBER_TEXT_CAP];
  size_t best = SIZE_MAX;
  for (int p = 1; p <= 17; p++) {
    size_t n = (size_t)snprintf(text, sizeof text, "%.*g", p, v);
    if (n >= best) continue;
    double back = strtod(text, NULL);
    if (back != v || signbit(back) != signbit(v)) continue; /* -0 keeps its sign */
    memcpy(out, text, n + 1);
    best = n;
  }
  c_locale_leave(c, old);
  *len = best;
  return CNV_OK;
}
