/* Names of record kinds and certificate states, the certificate state machine, and the
 * configuration defaults. */
#include <string.h>

#include <cnv/ledger.h>

const char *cnv_ledger_kind_name(int kind) {
  switch (kind) {
    case CNV_LREC_GENESIS:
      return "genesis";
    case CNV_LREC_CHECKPOINT:
      return "checkpoint";
    case CNV_LREC_CONFIG:
      return "config";
    case CNV_LREC_TRUST:
      return "trust";
    case CNV_LREC_REVOKE:
      return "revoke";
    case CNV_LREC_AGENT:
      return "agent";
    case CNV_LREC_REGISTER:
      return "register";
    case CNV_LREC_PHASE:
      return "phase";
    case CNV_LREC_ADMIT:
      return "admit";
    case CNV_LREC_COMPLETE:
      return "complete";
    case CNV_LREC_APP:
      return "app";
    default:
      return "unknown";
  }
}

const char *cnv_cert_state_name(int state) {
  switch (state) {
    case CNV_CERT_UNCHECKED:
      return "unchecked";
    case CNV_CERT_POLICY_CHECKED:
      return "policy_checked";
    case CNV_CERT_CAPABILITY_CHECKED:
      return "capability_checked";
    case CNV_CERT_VERIFIED:
      return "verified";
    default:
      return "unknown";
  }
}

cnv_status cnv_cert_advance(int *state, int next) {
  if (!state) return CNV_EINVAL;
  /* forward by exactly one: no staying, no skipping, no going back */
  if (*state < CNV_CERT_UNCHECKED || *state >= CNV_CERT_VERIFIED || next != *state + 1) return CNV_ESTATE;
  *state = next;
  return CNV_OK;
}

void cnv_ledger_config_default(cnv_ledger_config *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->segment_bytes = UINT64_C(64) << 20;
  cfg->queue_capacity = 65536;
  cfg->max_batch = 4096;
  cfg->checkpoint_every = 10000;
  cfg->checkpoint_interval_ms = 1000;
  cfg->full_policy = CNV_LEDGER_FULL_BLOCK;
  cfg->sync = 1;
}
