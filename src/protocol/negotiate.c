/* Capabilities checks and negotiation (docs/wire-format.md): highest shared version within one major,
 * intersected features (implemented bits only), smaller limits, first shared compression by
 * local preference. */
#include <cnv/protocol.h>

static int version_cmp(cnv_proto_version a, cnv_proto_version b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  return 0;
}

static bool compression_known(uint8_t c) { return c <= CNV_COMPRESS_ZSTD; }

static bool compression_listed(const cnv_capabilities *caps, uint8_t c) {
  for (unsigned i = 0; i < caps->n_compression; i++)
    if (caps->compression[i] == c) return true;
  return false;
}

static cnv_status compression_list_check(const cnv_capabilities *caps) {
  if (caps->n_compression == 0 || caps->n_compression > CNV_PROTO_MAX_COMPRESSIONS)
    return CNV_EPROTO_COMPRESSION_LIST;
  for (unsigned i = 0; i < caps->n_compression; i++) {
    if (!compression_known(caps->compression[i])) return CNV_EPROTO_COMPRESSION_LIST;
    for (unsigned j = 0; j < i; j++)
      if (caps->compression[j] == caps->compression[i]) return CNV_EPROTO_COMPRESSION_LIST;
  }
  return CNV_OK;
}

cnv_status cnv_capabilities_check(const cnv_capabilities *caps) {
  if (!caps) return CNV_EINVAL;
  if (caps->n_versions == 0 || caps->n_versions > CNV_PROTO_MAX_VERSIONS)
    return CNV_EPROTO_VERSION_LIST;
  cnv_status st = compression_list_check(caps);
  if (st != CNV_OK) return st;
  if (caps->max_message_size == 0 || caps->max_message_size > CNV_FRAME_MAX_PAYLOAD ||
      caps->max_concurrent_calls == 0)
    return CNV_EPROTO_LIMIT;
  if (caps->checksum > 1) return CNV_EPROTO_MALFORMED;
  return CNV_OK;
}

/* Highest version both speak: for each same-major pair, the lower of the two is spoken by
 * both; the answer is the highest such. */
static bool best_version(const cnv_capabilities *a, const cnv_capabilities *b,
                         cnv_proto_version *out) {
  bool found = false;
  for (unsigned i = 0; i < a->n_versions; i++) {
    for (unsigned j = 0; j < b->n_versions; j++) {
      cnv_proto_version va = a->versions[i], vb = b->versions[j];
      if (va.major != vb.major) continue;
      cnv_proto_version both = version_cmp(va, vb) <= 0 ? va : vb;
      if (!found || version_cmp(both, *out) > 0) *out = both;
      found = true;
    }
  }
  return found;
}

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

cnv_status cnv_negotiate(const cnv_capabilities *local, const cnv_capabilities *peer,
                         cnv_negotiated *out) {
  if (!local || !peer || !out) return CNV_EINVAL;
  cnv_status st = cnv_capabilities_check(local);
  if (st == CNV_OK) st = cnv_capabilities_check(peer);
  if (st != CNV_OK) return st;
  cnv_negotiated r = {{0, 0, 0}, 0, 0, 0, 0, 0};
  if (!best_version(local, peer, &r.version)) return CNV_EPROTO_NO_COMMON_VERSION;
  unsigned k = 0;
  while (k < local->n_compression && !compression_listed(peer, local->compression[k])) k++;
  if (k == local->n_compression) return CNV_EPROTO_NO_COMMON_COMPRESSION;
  r.compression = local->compression[k];
  r.checksum = (uint8_t)(local->checksum | peer->checksum);
  r.features = local->features & peer->features & CNV_FEAT_IMPLEMENTED;
  r.max_message_size = min32(local->max_message_size, peer->max_message_size);
  r.max_concurrent_calls = min32(local->max_concurrent_calls, peer->max_concurrent_calls);
  *out = r;
  return CNV_OK;
}

static bool version_spoken(const cnv_capabilities *caps, cnv_proto_version v) {
  for (unsigned i = 0; i < caps->n_versions; i++)
    if (caps->versions[i].major == v.major && version_cmp(v, caps->versions[i]) <= 0) return true;
  return false;
}

cnv_status cnv_negotiated_check(const cnv_capabilities *local, const cnv_negotiated *result) {
  if (!local || !result || cnv_capabilities_check(local) != CNV_OK) return CNV_EINVAL;
  bool ok = version_spoken(local, result->version) &&
            (result->features & ~(local->features & CNV_FEAT_IMPLEMENTED)) == 0 &&
            result->max_message_size >= 1 && result->max_message_size <= local->max_message_size &&
            result->max_concurrent_calls >= 1 &&
            result->max_concurrent_calls <= local->max_concurrent_calls &&
            compression_listed(local, result->compression) && result->checksum <= 1 &&
            result->checksum >= local->checksum;
  return ok ? CNV_OK : CNV_EPROTO_REJECTED;
}
