/* What the node's state half and the admin share about records (records.c): sizes, the
 * signer checks that need no runtime, signing, and the JetStream status mapping. */
#ifndef CNV_NATS_RECORDS_H
#define CNV_NATS_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include <cnv/nats.h>

/* Largest record value: header, signer, signature, a CNV_SW_MAX_TOKEN token and a
 * CNV_SW_MAX_BODY body, with room to spare; larger values are refused unread. */
#define NATSN_MAX_RECORD (CNV_SW_MAX_TOKEN + CNV_SW_MAX_BODY + 512u)
/* A GRANT body: epoch (u32, little-endian) || recipient (32) || sealed swarm key. */
#define NATSN_GRANT_BODY (4u + CNV_SW_KEY_BYTES + CNV_SW_GRANT_BYTES)
/* The one raw key of the bucket: the first node's public key, written with kvStore_Create. */
#define NATSN_GENESIS_KEY "genesis"
/* Nodes in a status view (a node's, the admin's); later ones are not tracked. */
#define NATSN_MAX_PEERS 1024u
/* Largest root token natsn_root_token writes (one link, one pattern). */
#define NATSN_ROOT_TOKEN_MAX 512u

/* Clocks in milliseconds. */
uint64_t natsn_now_ms(void);  /* CLOCK_REALTIME */
uint64_t natsn_mono_ms(void); /* CLOCK_MONOTONIC */

/* Whether every link of token allows CNV_NATS_SERVE_CAPABILITY and none forbids it: CNV_OK,
 * CNV_ENATS_NOT_AUTHORIZED, a decode error, CNV_ENOMEM. The chain itself is not verified. */
CNV_NODISCARD cnv_status natsn_token_allows_serve(const uint8_t *token, size_t token_len);
/* Whether token is one link that signer issued to itself (a root's record token: verifying it
 * proves signer is a trust root). CNV_OK or CNV_ENATS_NOT_AUTHORIZED, a decode error. */
CNV_NODISCARD cnv_status natsn_token_is_root(const uint8_t signer[CNV_SW_KEY_BYTES], const uint8_t *token, size_t token_len);
/* Mints the token a root signs its records with: one link from the root to itself, allowing
 * swarm.serve in swarm, no expiry. */
CNV_NODISCARD cnv_status natsn_root_token(uint64_t swarm, const uint8_t sk[CNV_SW_SECRET_BYTES], uint8_t *out, size_t cap,
                                          size_t *len);
/* Signs a record of kind for id (its key name into key) with sk and token into buf
 * (NATSN_MAX_RECORD bytes), *len its size. */
CNV_NODISCARD cnv_status natsn_record_sign(uint64_t swarm, cnv_sw_record_kind kind, const uint8_t id[32],
                                           const uint8_t sk[CNV_SW_SECRET_BYTES], const uint8_t *token, size_t token_len,
                                           const void *body, size_t body_len, char key[CNV_SW_KV_KEY_MAX], uint8_t *buf,
                                           size_t *len);
/* The 32-byte id a record's key name must carry (its body for TRUST, REVOKE, the recipient for
 * GRANT, the signer for JOIN and NODE), with the body's length checked: CNV_ESW_MALFORMED. */
CNV_NODISCARD cnv_status natsn_record_id(const cnv_sw_record *rec, const uint8_t **id);
/* CNV_OK when key is the name the record's id gives (else CNV_ESW_PROOF, or id's errors). */
CNV_NODISCARD cnv_status natsn_record_check_name(const char *key, const cnv_sw_record *rec);
/* NATS_OK -> CNV_OK, NATS_TIMEOUT -> CNV_ENATS_TIMEOUT, else CNV_ENATS_JETSTREAM. */
CNV_NODISCARD cnv_status natsn_kv_status(natsStatus ns);
/* Whether a status record (interval, phase) seen at seen_ms is live at now (ms, one clock):
 * written within 3 of its intervals and not a Shutdown record. */
bool natsn_status_live(const cnv_sw_node_status *st, uint64_t seen_ms, uint64_t now);

#endif
