/* libcnv crdt: shared swarm state as conflict-free replicated data types, delta-state.
 *
 * Types: G-Counter, PN-Counter, an add-wins OR-Set without permanent tombstones (dots and a
 * causal context, as in ORSWOT / delta-state CRDTs: a removed element's dots are dropped
 * and the causal context remembers that they were seen), LWW register, MV register and
 * version vectors. Every type is one opaque cnv_crdt with a type tag.
 *
 * Deltas: every mutator takes an optional delta accumulator (a cnv_crdt of the same type,
 * made with cnv_crdt_create): the mutation's delta is joined into it, so a replica ships the
 * small delta, not its whole state. cnv_crdt_merge joins a state or a delta into a state
 * (commutative, associative, idempotent); merging a delta gives the same state as merging
 * the full state it came from.
 *
 * Replicas: a replica id is a non-zero 64-bit number, stable per node (derived from its key,
 * so restarts reuse it). A state keeps one entry per replica that mutated it; a delta holds
 * only the entries its mutations touched, so messages do not grow with the number of
 * replicas. Retirement (cnv_crdt_retire, docs/crdt.md) removes a departed replica's entries.
 *
 * Encoding: canonical binary (docs/crdt.md): equal states encode to equal bytes; decoders
 * reject malformed input with CNV_ECRDT_MALFORMED, never read out of bounds, and bound what
 * they allocate by the input's length.
 *
 * Thread-safety: a cnv_crdt is not thread-safe: one thread at a time (the replicator takes
 * a lock around its own states). Pure functions allocate only the objects they create. */
#ifndef CNV_CRDT_H
#define CNV_CRDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNV_CRDT_MAX_ELEM 255u          /* bytes of one OR-Set element or register value */
#define CNV_CRDT_MAX_ENCODED (1u << 24) /* largest encoding decode accepts */

typedef enum cnv_crdt_type {
  CNV_CRDT_GCOUNTER = 1,
  CNV_CRDT_PNCOUNTER = 2,
  CNV_CRDT_ORSET = 3,
  CNV_CRDT_LWW = 4,
  CNV_CRDT_MVREG = 5,
  CNV_CRDT_VCLOCK = 6
} cnv_crdt_type;

typedef struct cnv_crdt cnv_crdt;

/* Lowercase name of a type ("orset"), "unknown" otherwise. Static string; pure. */
CNV_API const char *cnv_crdt_type_name(int type);

/* Order of two version vectors (cnv_crdt_compare). */
typedef enum cnv_crdt_order {
  CNV_CRDT_EQUAL = 0,
  CNV_CRDT_BEFORE = 1, /* a < b */
  CNV_CRDT_AFTER = 2,  /* a > b */
  CNV_CRDT_CONCURRENT = 3
} cnv_crdt_order;

/* Creates an empty value of type that mutates as replica (replica 0: a value that is only
 * merged into, e.g. a delta accumulator or a received state). Errors: CNV_EINVAL (NULL
 * out), CNV_ERANGE (unknown type), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_create(int type, uint64_t replica, cnv_crdt **out);
/* Frees c (NULL ignored). */
CNV_API void cnv_crdt_destroy(cnv_crdt *c);
/* c's type (cnv_crdt_type), 0 for NULL. */
CNV_API int cnv_crdt_type_of(const cnv_crdt *c);
/* A deep copy that mutates as replica. Errors: CNV_EINVAL, CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_clone(const cnv_crdt *c, uint64_t replica, cnv_crdt **out);
/* Joins src (a state or a delta) into dst. Errors: CNV_EINVAL (NULL, types differ),
 * CNV_ENOMEM (dst is unchanged then). */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_merge(cnv_crdt *dst, const cnv_crdt *src);
/* True when a and b hold the same state (same type and value, causal context included). */
CNV_API bool cnv_crdt_equal(const cnv_crdt *a, const cnv_crdt *b);
/* Empties a delta accumulator after it was shipped. */
CNV_API void cnv_crdt_clear(cnv_crdt *c);
/* True when c holds nothing (an empty delta). */
CNV_API bool cnv_crdt_is_empty(const cnv_crdt *c);

/* Canonical encoding: *len bytes written into out (cap). Errors: CNV_EINVAL, CNV_EFULL (cap
 * too small; *len then says how much is needed). */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_encode(const cnv_crdt *c, uint8_t *out, size_t cap, size_t *len);
/* Decodes a value (mutating as replica). Errors: CNV_EINVAL (NULL), CNV_ECRDT_MALFORMED (any
 * malformed input: unknown type, truncation, trailing bytes, non-canonical order, counts
 * past the input, zero replica ids), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_decode(const uint8_t *in, size_t len, uint64_t replica, cnv_crdt **out);

/* Counters. G-Counter: inc only (n >= 0 as uint64). PN-Counter: add any int64. value: the
 * sum, as int64 for both. Errors: CNV_EINVAL (NULL, wrong type, a replica-0 value mutated,
 * a delta of another type, a replica that c lists as retired), CNV_EOVERFLOW (a mutation
 * whose value would leave int64: nothing changes), CNV_ENOMEM (nothing changes). The other
 * mutators below have the same argument errors. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_gcounter_inc(cnv_crdt *c, uint64_t n, cnv_crdt *delta);
CNV_API CNV_NODISCARD cnv_status cnv_crdt_pncounter_add(cnv_crdt *c, int64_t n, cnv_crdt *delta);
CNV_API CNV_NODISCARD cnv_status cnv_crdt_counter_value(const cnv_crdt *c, int64_t *out);

/* Add-wins OR-Set of byte strings (1..CNV_CRDT_MAX_ELEM bytes). A concurrent add and remove
 * of the same element leaves it present. Errors: as the counters, CNV_ERANGE (element
 * length). */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_orset_add(cnv_crdt *c, const void *elem, size_t len, cnv_crdt *delta);
CNV_API CNV_NODISCARD cnv_status cnv_crdt_orset_remove(cnv_crdt *c, const void *elem, size_t len, cnv_crdt *delta);
/* contains: whether elem is present; size: the element count. Both read only (any threads
 * at once with no mutator) and answer false / 0 for NULL c or a c that is not an OR-Set. */
CNV_API bool cnv_crdt_orset_contains(const cnv_crdt *c, const void *elem, size_t len);
CNV_API size_t cnv_crdt_orset_size(const cnv_crdt *c);
/* Calls fn for each element, in canonical (bytewise) order; fn returning non-zero stops. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_orset_each(const cnv_crdt *c,
                                                     int (*fn)(void *ctx, const void *elem, size_t len), void *ctx);

/* LWW register: the write with the largest (timestamp, replica) wins (the same pair twice:
 * the bytewise larger value); a set that loses leaves the state as it was. value: 0 ..
 * CNV_CRDT_MAX_ELEM bytes. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_lww_set(cnv_crdt *c, const void *value, size_t len, uint64_t timestamp,
                                                  cnv_crdt *delta);
/* *value points into c (valid until c changes); *len 0 and CNV_ENOTFOUND when never set. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_lww_get(const cnv_crdt *c, const void **value, size_t *len,
                                                  uint64_t *timestamp);

/* MV register: a set overwrites the values this replica has seen; concurrent sets all stay. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_mvreg_set(cnv_crdt *c, const void *value, size_t len, cnv_crdt *delta);
/* Calls fn for each current value in bytewise order (a value set concurrently by two
 * replicas shows once); fn returning non-zero stops. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_mvreg_each(const cnv_crdt *c,
                                                     int (*fn)(void *ctx, const void *value, size_t len), void *ctx);

/* Version vectors. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_vclock_tick(cnv_crdt *c, cnv_crdt *delta);
/* replica's entry (0 when absent or c is not a VCLOCK); UINT64_MAX for a retired replica. */
CNV_API uint64_t cnv_crdt_vclock_get(const cnv_crdt *c, uint64_t replica);
/* Order of two version vectors. Errors: CNV_EINVAL (NULL, not VCLOCK). */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_compare(const cnv_crdt *a, const cnv_crdt *b, int *order);

/* Retires replica from c (every type), as docs/crdt.md describes: the replica has left for
 * good and every live replica has merged its last delta (the replicator decides when); its
 * entries are folded so that the value is unchanged and later merges of older states that
 * still carry the replica cannot count it twice. c keeps the id in its retired set; the
 * delta (optional) receives the whole retired state. Errors: CNV_EINVAL (NULL, replica 0, a
 * delta of another type), CNV_ENOTFOUND (c has no entry of replica, or c is an LWW
 * register, which has none), CNV_ENOMEM (nothing changes). */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_retire(cnv_crdt *c, uint64_t replica, cnv_crdt *delta);
/* Live replica ids the state holds entries of: counter entries, version vector entries,
 * causal context entries; an LWW register: 1 once set. Retired ids are not counted. */
CNV_API size_t cnv_crdt_replicas(const cnv_crdt *c);

/* ------------------------------------------------------------------------------------ */
/* Replication: an anti-entropy loop over a pluggable transport.                         */

/* A transport carries opaque messages between replicas (format: docs/crdt.md
 * "Replication"). send is called from cnv_crdt_repl_tick's thread, under the replicator's
 * lock: it must not call back into the same replicator (queue or publish, then return); msg
 * is valid during the call only. The transport delivers received messages by calling
 * cnv_crdt_repl_receive with the sender's replica id, which it must authenticate (a message
 * is believed to come from `from`). to == 0: every peer; a message to one replica may reach
 * others (a broadcast medium): they ignore it. Returns CNV_OK or an error the replicator
 * counts (send_failed: the message is lost; anti-entropy resends). */
typedef struct cnv_crdt_transport {
  cnv_status (*send)(void *ctx, uint64_t to, const uint8_t *msg, size_t len);
  void *ctx;
} cnv_crdt_transport;

typedef struct cnv_crdt_repl cnv_crdt_repl;

typedef struct cnv_crdt_repl_config {
  uint64_t replica; /* this replica (non-zero) */
  cnv_crdt_transport transport;
  uint32_t resend_ticks; /* ticks after which unacknowledged deltas are sent again; 0: 4 */
  uint32_t max_message;  /* largest message sent or accepted; 0: 1 MiB */
} cnv_crdt_repl_config;

/* Creates a replicator (no values yet: cnv_crdt_repl_add). Errors: CNV_EINVAL (NULL, replica
 * 0, no send), CNV_ERANGE (max_message below 256), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_repl_create(const cnv_crdt_repl_config *cfg, cnv_crdt_repl **out);
/* Frees the replicator and its states. NULL ignored. */
CNV_API void cnv_crdt_repl_destroy(cnv_crdt_repl *r);
/* Adds a named shared value (name: 1..64 bytes) of type; its state is owned by the
 * replicator, read and mutated only through cnv_crdt_repl_update / _read. Every replica that
 * shares it adds it with the same name and type (records for names a replica does not have
 * are skipped). Any thread; blocking. Errors: CNV_EINVAL, CNV_EEXIST, CNV_ERANGE (name
 * length, type), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_repl_add(cnv_crdt_repl *r, const char *name, int type);
/* Runs fn(ctx, state, delta) under the replicator's lock: fn mutates the state passing
 * delta to the mutators; the delta is queued for shipping (sealed at the next tick). fn must
 * not call the replicator. Any thread; blocking. Errors: CNV_EINVAL (NULL), CNV_ENOTFOUND (no
 * such name), what fn returns (a mutator's CNV_EINVAL: this replica's id was retired, see
 * cnv_crdt_repl_rekey). */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_repl_update(cnv_crdt_repl *r, const char *name,
                                                      cnv_status (*fn)(void *ctx, cnv_crdt *state, cnv_crdt *delta),
                                                      void *ctx);
/* Runs fn(ctx, state) under the lock for reading; fn must not call the replicator. Any
 * thread; blocking. Errors: CNV_EINVAL (NULL), CNV_ENOTFOUND, what fn returns. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_repl_read(cnv_crdt_repl *r, const char *name,
                                                    cnv_status (*fn)(void *ctx, const cnv_crdt *state), void *ctx);
/* One anti-entropy round: seals each value's updates since the last tick as its next delta
 * (sequence number), sends every known peer the deltas it has not acknowledged (new ones at
 * once, unacknowledged ones again after resend_ticks; the full state to a peer met for the
 * first time once the deltas it lacks are no longer kept, or one further behind than the 64
 * kept per value, or one that asked for it), the acknowledgements due, and broadcasts a
 * digest (each value's last sequence number and a hash of its state) that lets peers ask for
 * what they miss. A peer is known from its first message and forgotten after 8 x
 * resend_ticks ticks of silence. Call periodically. Any thread; blocking. Errors:
 * CNV_EINVAL, CNV_ENOMEM (a delta stays queued for the next tick); send failures are counted,
 * not returned. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_repl_tick(cnv_crdt_repl *r);
/* Hands a received message from replica `from` to the replicator (merges deltas, notes
 * acknowledgements and digests; the answers go at the next tick). Messages addressed to
 * another replica, and this replica's own, are ignored (CNV_OK). Malformed or oversized
 * (> max_message) messages, and deltas whose type differs from the local value's:
 * CNV_ECRDT_MALFORMED, counted, nothing merged. msg is not kept. Any thread; blocking.
 * Errors: CNV_EINVAL (NULL, from 0), CNV_ECRDT_MALFORMED, CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_repl_receive(cnv_crdt_repl *r, uint64_t from, const uint8_t *msg, size_t len);

/* Retires replica (a departed peer, never this replica) from every value: cnv_crdt_retire on
 * each state, its delta queued so that every peer retires it too. The caller decides when
 * (docs/crdt.md "Replication": the nats node retires a node whose status record has been
 * absent for 30 of its intervals). Any thread; blocking. Errors: CNV_EINVAL (NULL, 0, own
 * replica), CNV_ENOMEM; a value without the replica is skipped. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_repl_retire(cnv_crdt_repl *r, uint64_t replica);

/* Makes this replicator mutate as `replica` from now on (its states cloned as that replica;
 * peers meet it as a new peer): for a replica id that was retired (its mutations then fail
 * with CNV_EINVAL). Any thread; blocking. Errors: CNV_EINVAL, CNV_ENOMEM (nothing changed). */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_repl_rekey(cnv_crdt_repl *r, uint64_t replica);

/* A message (the replication format, addressed to every replica) carrying the full state of
 * every value, for an observer that is no peer (`cnv swarm status`): fed to a replicator
 * with cnv_crdt_repl_receive, it merges them. *len bytes into out (cap). Any thread;
 * blocking. Errors: CNV_EINVAL, CNV_EFULL (*len says the size needed), CNV_ENOTFOUND (no
 * value), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_repl_snapshot(cnv_crdt_repl *r, uint8_t *out, size_t cap, size_t *len);

/* Counters (messages and bytes this replicator sent, messages received, of those refused as
 * malformed, sends the transport refused or that could not be built). Relaxed loads: each
 * exact, the set not one instant. Any thread; wait-free. NULL r: zeros. */
typedef struct cnv_crdt_repl_stats {
  uint64_t sent, received, malformed, send_failed, bytes_sent;
} cnv_crdt_repl_stats;
CNV_API void cnv_crdt_repl_stats_get(const cnv_crdt_repl *r, cnv_crdt_repl_stats *out);

#ifdef __cplusplus
}
#endif

#endif
