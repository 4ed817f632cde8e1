/* The CRDT decoder on arbitrary bytes (every type: the first byte picks it). A value that
 * decodes must re-encode to exactly the input (the encoding is canonical), must equal itself
 * after a clone, merging it with itself or its clone must not change it, and joining it into
 * the empty value gives it back. Aborts otherwise. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/crdt.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cnv_crdt *c = NULL, *k = NULL;
  cnv_status st = cnv_crdt_decode(data, size, 1, &c);
  if (st != CNV_OK) {
    if (c != NULL || (st != CNV_ECRDT_MALFORMED && st != CNV_ENOMEM)) abort();
    return 0;
  }
  size_t len = 0;
  uint8_t *out = malloc(size ? size : 1);
  if (out == NULL) abort();
  if (cnv_crdt_encode(c, out, size, &len) != CNV_OK || len != size || memcmp(out, data, size) != 0) abort();
  if (cnv_crdt_clone(c, 2, &k) != CNV_OK || !cnv_crdt_equal(c, k)) abort();
  if (cnv_crdt_merge(k, c) != CNV_OK || !cnv_crdt_equal(c, k)) abort();
  if (cnv_crdt_merge(c, c) != CNV_OK || !cnv_crdt_equal(c, k)) abort();
  /* Joining it into the empty value of its type gives it back. */
  cnv_crdt *e = NULL;
  if (cnv_crdt_create(cnv_crdt_type_of(c), 0, &e) != CNV_OK || cnv_crdt_merge(e, c) != CNV_OK || !cnv_crdt_equal(e, c))
    abort();
  cnv_crdt_destroy(e);
  free(out);
  cnv_crdt_destroy(k);
  cnv_crdt_destroy(c);
  return 0;
}
