/* The REPLY subject of a request, "cnv.S.s.SID.r.R" (cnv_sw_subject_session, CNV_SW_SESS_REPLY:
 * SID in lowercase hex, R in decimal), made and read on the request path without a format
 * string: the client writes one per send, the node reads one per request. Both start from a
 * prefix cnv_sw_subject_session made once (the session's "cnv.S.s.SID." at the handshake, the
 * swarm's "cnv.S.s." at node create); only the tail "r.R" is spelled here too, and
 * tests/nats_reply compares the whole with cnv_sw_subject_session's. */
#ifndef CNV_NATS_REPLY_H
#define CNV_NATS_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnv/swarmwire.h>

/* Writes the REPLY subject of request reqid (not CNV_SW_ANY_REQUEST) of the session whose
 * prefix "cnv.S.s.SID." (prefix_len bytes) is given into out (cap bytes, NUL included).
 * false when it does not fit. Pure. */
bool natsn_reply_write(const char *prefix, size_t prefix_len, uint64_t reqid, char *out, size_t cap);

/* Whether reply is exactly the REPLY subject of request reqid of some session of the swarm
 * whose prefix "cnv.S.s." (prefix_len bytes) is given, and that session's id into sid (written
 * also when the answer is false). Pure. */
bool natsn_reply_read(const char *prefix, size_t prefix_len, const char *reply, uint64_t reqid,
                      uint8_t sid[CNV_SW_SID_BYTES]);

#endif
