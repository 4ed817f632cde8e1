/* Defaults of the node and client configurations (the values each field's comment in
 * include/cnv/nats.h names; zero means "default" everywhere). */
#include <string.h>

#include <cnv/nats.h>

void cnv_nats_node_config_default(cnv_nats_node_config *cfg) {
  if (cfg) memset(cfg, 0, sizeof *cfg);
}

void cnv_nats_client_config_default(cnv_nats_client_config *cfg) {
  if (cfg) memset(cfg, 0, sizeof *cfg);
}
