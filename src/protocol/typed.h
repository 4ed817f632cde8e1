/* Typed arguments: helpers shared by the schema checks, the typed readers and the line
 * builder (docs/grammar.md, "Typed arguments"). */
#ifndef CNV_PROTOCOL_TYPED_H
#define CNV_PROTOCOL_TYPED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnv/status.h>

/* Longest NUMBER spelling the readers convert (a longer one is CNV_ERANGE); the builder
 * writes at most 24 bytes. */
#define CNV__NUMBER_MAX_TEXT 512u

/* Longest number the builder writes ("-2.2250738585072014e-308" is 24 bytes), plus a NUL. */
#define CNV__NUMBER_TEXT_CAP 32u

/* The flag-name rule, ( ALPHA / DIGIT ) *( ALPHA / DIGIT / "-" / "_" ): CNV_OK,
 * CNV_EPARSE_FLAG_NO_NAME (empty) or CNV_EPARSE_FLAG_NAME_CHAR. */
static inline cnv_status cnv__flag_name_check(const char *s, size_t len) {
  if (len == 0) return CNV_EPARSE_FLAG_NO_NAME;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    bool alnum = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    if (!alnum && (i == 0 || (c != '-' && c != '_'))) return CNV_EPARSE_FLAG_NAME_CHAR;
  }
  return CNV_OK;
}

/* INTEGER: -?(0|[1-9][0-9]*) within int64 ("-0" reads as 0). CNV_EARG_TYPE, CNV_ERANGE. */
CNV_NODISCARD cnv_status cnv__read_int(const char *s, size_t len, int64_t *out);

/* NUMBER: the RFC 8259 number grammar, converted in the C locale, finite. CNV_EARG_TYPE,
 * CNV_ERANGE (beyond the double range, or longer than CNV__NUMBER_MAX_TEXT bytes),
 * CNV_ENOMEM (no C locale object; glibc and musl never fail here). */
CNV_NODISCARD cnv_status cnv__read_number(const char *s, size_t len, double *out);

/* BOOLEAN value bytes: "true" or "false". CNV_EARG_TYPE. */
CNV_NODISCARD cnv_status cnv__read_bool(const char *s, size_t len, bool *out);

/* Writes the shortest text among the "%.<p>g" spellings (p = 1..17) of a finite v that
 * strtod reads back as v (the sign of zero included), in the C locale, NUL-terminated, into out[CNV__NUMBER_TEXT_CAP]; *len gets its length.
 * CNV_ERANGE (NaN, infinite), CNV_ENOMEM (no C locale object). */
CNV_NODISCARD cnv_status cnv__format_number(double v, char *out, size_t *len);

#endif
