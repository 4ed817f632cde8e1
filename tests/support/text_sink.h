/* Test support: a fixed buffer that the text export callbacks (Prometheus text, reports)
 * write into, kept NUL-terminated. Header only, no dependencies. */
#ifndef CNV_TEST_TEXT_SINK_H
#define CNV_TEST_TEXT_SINK_H

#include <stddef.h>
#include <string.h>

typedef struct text_sink {
  char text[65536];
  size_t len; /* set to 0 before the first write */
} text_sink;

/* The export callback (ctx: a text_sink): appends the bytes; 1 (stop) when they would not fit
 * with the NUL, which the export reports as its failure. */
static inline int text_sink_put(void *ctx, const char *data, size_t len) {
  text_sink *t = ctx;
  if (len >= sizeof t->text - t->len) return 1;
  memcpy(t->text + t->len, data, len);
  t->len += len;
  t->text[t->len] = '\0';
  return 0;
}

#endif
