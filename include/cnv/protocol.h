/* libcnv protocol: invocation parser, capability ids, version/feature negotiation, frames,
 * anti-replay window.
 *
 * Synchronization table (who may call what at the same time):
 *   cnv_parse_invocation, cnv_invocation_init, cnv_invocation_id, cnv_capability_*,
 *   cnv_negotiate, cnv_capabilities_*, cnv_negotiated_*, cnv_frame_config_default,
 *   cnv_frame_config_from, cnv_frame_encoded_bound, cnv_frame_encode, cnv_frame_decode,
 *   cnv_frame_open, cnv_frame_decoder_buffer_size
 *                              any threads: pure functions of their arguments (each call owns
 *                              its output objects; share none of them between concurrent calls).
 *   cnv_frame_decoder_init/_feed/_reset
 *                              one thread per decoder object (it holds a stream's state).
 *   cnv_replay_init/_check/_update
 *                              one thread per window object (it holds a direction's state).
 * Ownership: the caller owns every buffer. Parser slices and decoded frames point into the
 * caller's input (zero-copy) and are valid while that input is. Nothing here allocates except
 * Zstd compression/decompression inside libzstd. Nothing aborts or prints.
 * Grammar: docs/grammar.md. Wire format: docs/wire-format.md. Decisions: docs/protocol.md. */
#ifndef CNV_PROTOCOL_H
#define CNV_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==================================================================================== */
/* Invocation parser (ABNF and error rules in docs/grammar.md)                          */

/* A view of caller bytes: never NUL-terminated, never owned. */
typedef struct cnv_slice {
  const char *ptr;
  size_t len;
} cnv_slice;

/* What one argument token was. */
typedef enum cnv_arg_kind {
  CNV_ARG_POSITIONAL = 0, /* bare word or quoted string; value only */
  CNV_ARG_LONG_VALUE = 1, /* --name=value or --name value; name and value */
  CNV_ARG_LONG_BOOL = 2,  /* --name with no value (schema or position says boolean); name only */
  CNV_ARG_SHORT = 3       /* -x; name is the one letter */
} cnv_arg_kind;

/* How an argument's value was written (cnv_arg.quoted). */
typedef enum cnv_arg_quoting {
  CNV_QUOTE_NONE = 0,   /* a bare token */
  CNV_QUOTE_STRING = 1, /* '..' or ".." (no escapes; the slice excludes the quotes) */
  CNV_QUOTE_LITERAL = 2 /* --name:LEN=BYTES: exactly LEN raw bytes, any byte values */
} cnv_arg_quoting;

typedef struct cnv_arg {
  cnv_slice name;  /* flag name without dashes; empty for positionals */
  cnv_slice value; /* value bytes, quotes excluded; empty for booleans and short flags */
  uint32_t offset; /* byte offset of the token's first byte in the line */
  uint8_t kind;    /* a cnv_arg_kind */
  uint8_t quoted;  /* a cnv_arg_quoting: how the value was written */
  uint16_t reserved;
} cnv_arg;

/* Bounds of one parse. Zero fields take the defaults below. */
typedef struct cnv_parse_limits {
  size_t max_input;  /* longest accepted line in bytes (default CNV_PARSE_DEFAULT_MAX_INPUT) */
  uint32_t max_args; /* most arguments (default: the array capacity); never above capacity */
} cnv_parse_limits;

#define CNV_PARSE_DEFAULT_MAX_INPUT 4096u
/* Hard ceiling on max_input: offsets are 32-bit. */
#define CNV_PARSE_MAX_INPUT UINT32_MAX

/* ---- Typed arguments (docs/grammar.md, "Typed arguments") ----
 * A capability may declare its arguments: each a long flag with a type. The parser then
 * treats boolean ones as boolean flags (`--flag word` is the flag, then a positional), and
 * cnv_schema_check says whether a parsed invocation fits: every flag declared, required ones
 * present, a repeated one only where allowed, each value of its type. */
typedef enum cnv_arg_type {
  CNV_ARGT_STRING = 1,  /* any bytes (a literal carries quotes, newlines, NULs) */
  CNV_ARGT_INTEGER = 2, /* decimal int64: -?[0-9]+, no leading zeros, no '+' */
  CNV_ARGT_NUMBER = 3,  /* a JSON number (RFC 8259 grammar), finite as a double */
  CNV_ARGT_BOOLEAN = 4, /* --name alone (true), --name=true, --name=false */
  CNV_ARGT_ENUM = 5     /* one of enum_values, byte for byte */
} cnv_arg_type;

#define CNV_ARGF_REQUIRED 0x1u /* must appear at least once */
#define CNV_ARGF_REPEATED 0x2u /* may appear more than once (a list, in line order) */
#define CNV_ARGF_MIN 0x4u      /* INTEGER: min applies; STRING: min is the fewest bytes */
#define CNV_ARGF_MAX 0x8u      /* INTEGER: max applies; STRING: max is the most bytes */

#define CNV_SCHEMA_MAX_ARGS 64u  /* most typed arguments in one schema */
#define CNV_SCHEMA_MAX_ENUM 256u /* most values of one enum */

/* One declared argument. Every pointer must stay valid as long as the schema is used (a
 * runtime keeps the schema pointer while the capability is registered). */
typedef struct cnv_arg_spec {
  const char *name;               /* NUL-terminated flag name without dashes (flag-name grammar) */
  const char *description;        /* NUL-terminated UTF-8 or NULL */
  uint8_t type;                   /* a cnv_arg_type */
  uint8_t flags;                  /* CNV_ARGF_* */
  uint16_t n_enum;                /* ENUM: entries in enum_values (1..CNV_SCHEMA_MAX_ENUM) */
  const char *const *enum_values; /* ENUM: NUL-terminated, distinct, non-empty values */
  int64_t min, max;               /* bounds, inclusive, where CNV_ARGF_MIN / CNV_ARGF_MAX say so */
} cnv_arg_spec;

#define CNV_SCHEMA_CLOSED 0x1u /* refuse flags not in args[] (CNV_EARG_UNKNOWN) and any
                                  positional or short argument (CNV_EARG_POSITIONAL) */

/* Optional per-capability schema. bool_flags (the older form, names without dashes) and the
 * BOOLEAN entries of args are the boolean flags: `--flag word` parses as the boolean --flag
 * followed by the positional `word`. A schema with only bool_flags checks nothing. */
typedef struct cnv_parse_schema {
  const cnv_slice *bool_flags;
  size_t n_bool_flags;
  const cnv_arg_spec *args; /* typed arguments, NULL when n_args is 0 */
  size_t n_args;            /* at most CNV_SCHEMA_MAX_ARGS */
  uint32_t flags;           /* CNV_SCHEMA_* */
} cnv_parse_schema;

/* Checks that a schema is well formed: n_args <= CNV_SCHEMA_MAX_ARGS, every name a valid
 * flag name and distinct (from each other and from bool_flags), a known type, known flag
 * bits, MIN/MAX only on INTEGER and STRING with min <= max (and min >= 0 for STRING), ENUM
 * with 1..CNV_SCHEMA_MAX_ENUM distinct non-empty values (and only ENUM with values).
 * *bad_arg (may be NULL) gets the index of the first bad entry. Errors: CNV_EINVAL (NULL
 * schema, NULL args with n_args > 0), CNV_ESCHEMA_INVALID. Pure; thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_schema_validate(const cnv_parse_schema *schema, size_t *bad_arg);

/* One parsed line. The caller sets args/capacity (cnv_invocation_init); the parser fills the
 * rest. On error, error_offset is the byte offset of the offending byte (or of the start of
 * the argument that did not fit), path is empty, and the other fields are unspecified. */
typedef struct cnv_invocation {
  cnv_slice path;            /* capability path, validated (docs/grammar.md) */
  cnv_arg *args;             /* caller array, filled in line order */
  uint32_t capacity;         /* entries in args */
  uint32_t count;            /* entries filled */
  uint32_t terminator_index; /* args[terminator_index..] came after `--`; == count when none */
  uint8_t has_terminator;    /* 1 when the line held the `--` terminator */
  size_t error_offset;       /* where parsing failed; 0 on success */
} cnv_invocation;

/* Points inv at the caller's args array of `capacity` entries. Returns CNV_EINVAL on NULL
 * inv, or NULL args with a non-zero capacity. Not thread-safe on one inv. */
CNV_API CNV_NODISCARD cnv_status cnv_invocation_init(cnv_invocation *inv, cnv_arg *args, uint32_t capacity);

/* Parses one invocation line (a trailing "\n" or "\r\n" is accepted and not part of any
 * slice). Zero-copy and allocation-free: every slice points into `line`. limits and schema
 * may be NULL (defaults; no boolean flags). Thread-safe for distinct inv objects.
 * Errors (inv->error_offset says where): CNV_EINVAL (NULL line with len > 0, NULL inv),
 * CNV_EPARSE_INPUT_LONG, CNV_EPARSE_EMPTY_PATH, CNV_EPARSE_PATH_SEGMENT, CNV_EPARSE_PATH_CHAR,
 * CNV_EPARSE_PATH_DEPTH, CNV_EPARSE_PATH_LONG, CNV_EPARSE_UNTERMINATED_QUOTE,
 * CNV_EPARSE_FLAG_NO_NAME, CNV_EPARSE_FLAG_NAME_CHAR, CNV_EPARSE_SHORT_FLAG,
 * CNV_EPARSE_TOO_MANY_ARGS, CNV_EPARSE_BAD_BYTE, CNV_EPARSE_QUOTE_IN_WORD,
 * CNV_EPARSE_AFTER_QUOTE, CNV_EPARSE_LITERAL_LENGTH, CNV_EPARSE_AFTER_LITERAL.
 * Literal values: `--name:LEN=` followed by exactly LEN bytes (LEN canonical decimal, no
 * leading zeros, at most the bytes left in the line) carries any bytes, controls and a
 * final "\n" included; the value slice is those bytes (quoted == CNV_QUOTE_LITERAL). The
 * literal must be followed by a space, a tab or the end of the line (an optional final
 * "\n" or "\r\n" after it ends the line as usual). The form is a flag's only: before it, a
 * ':' after a flag name was CNV_EPARSE_FLAG_NAME_CHAR, so no line that parsed before means
 * something else now. After the `--` terminator it is an ordinary positional word. */
CNV_API CNV_NODISCARD cnv_status cnv_parse_invocation(const char *line, size_t len,
                                                      const cnv_parse_limits *limits,
                                                      const cnv_parse_schema *schema, cnv_invocation *inv);

/* Checks a successfully parsed invocation against a validated schema (cnv_schema_validate):
 * each typed argument's occurrences (CNV_ARG_LONG_VALUE, or CNV_ARG_LONG_BOOL for BOOLEAN)
 * against its type, bounds, REQUIRED and REPEATED; with CNV_SCHEMA_CLOSED, no other
 * arguments. *bad_arg (may be NULL) gets the index in inv->args of the offending argument,
 * or inv->count for a missing one. Errors: CNV_EINVAL (NULL), CNV_EARG_UNKNOWN,
 * CNV_EARG_POSITIONAL, CNV_EARG_MISSING, CNV_EARG_REPEATED, CNV_EARG_TYPE (a value not of
 * the type; a BOOLEAN written --name=VALUE other than true/false; a flag that needs a value
 * given none), CNV_EARG_ENUM, CNV_ERANGE (an INTEGER out of min..max, a STRING's length out
 * of min..max). Pure, allocation-free; thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_schema_check(const cnv_parse_schema *schema, const cnv_invocation *inv,
                                                  size_t *bad_arg);

/* Index of the first argument at or after *index that is the long flag `name` (len bytes),
 * stored back in *index. Errors: CNV_EINVAL (NULL), CNV_ENOTFOUND (none; *index unchanged). */
CNV_API CNV_NODISCARD cnv_status cnv_invocation_find(const cnv_invocation *inv, const char *name, size_t len,
                                                     uint32_t *index);

/* Typed readers of one argument's value (the rules of cnv_arg_type). cnv_arg_bool reads a
 * CNV_ARG_LONG_BOOL as true. Errors: CNV_EINVAL (NULL), CNV_EARG_TYPE (not that type),
 * CNV_ERANGE (an integer outside int64). */
CNV_API CNV_NODISCARD cnv_status cnv_arg_int(const cnv_arg *arg, int64_t *out);
CNV_API CNV_NODISCARD cnv_status cnv_arg_number(const cnv_arg *arg, double *out);
CNV_API CNV_NODISCARD cnv_status cnv_arg_bool(const cnv_arg *arg, bool *out);

/* ---- Line builder: writes an invocation line that parses back to exactly its parts ----
 * Every string value goes in the literal form (--name:LEN=BYTES), so no byte of it (quotes,
 * spaces, newlines, NUL, "--") can end it early, add an argument or change the path. The
 * builder writes into the caller's buffer, allocates nothing, and never writes a cut line:
 * a call that does not fit writes nothing, returns CNV_EFULL and leaves the line as it was.
 * One thread per builder. */
typedef struct cnv_line_builder {
  char *buf;
  size_t cap;
  size_t len;
} cnv_line_builder;

/* Starts a line with a capability path (validated as cnv_capability_path_check).
 * Errors: CNV_EINVAL (NULL b, NULL buf with cap > 0, NULL path), the path errors, CNV_EFULL. */
CNV_API CNV_NODISCARD cnv_status cnv_line_init(cnv_line_builder *b, char *buf, size_t cap, const char *path,
                                               size_t path_len);
/* Appends `--name:LEN=VALUE` (any value bytes). Errors: CNV_EINVAL (NULL b, NULL value with
 * len > 0, NULL name), CNV_EPARSE_FLAG_NO_NAME / CNV_EPARSE_FLAG_NAME_CHAR (name not a flag
 * name), CNV_EFULL. */
CNV_API CNV_NODISCARD cnv_status cnv_line_add_string(cnv_line_builder *b, const char *name, size_t name_len,
                                                     const char *value, size_t len);
/* Appends `--name=DECIMAL`. Errors as cnv_line_add_string. */
CNV_API CNV_NODISCARD cnv_status cnv_line_add_int(cnv_line_builder *b, const char *name, size_t name_len,
                                                  int64_t value);
/* Appends `--name=NUMBER`: the shortest "%.17g" spelling that reads back as the same double
 * and is a JSON number. Errors as cnv_line_add_string, CNV_ERANGE (NaN or infinite). */
CNV_API CNV_NODISCARD cnv_status cnv_line_add_number(cnv_line_builder *b, const char *name, size_t name_len,
                                                     double value);
/* Appends `--name=true` or `--name=false`. Errors as cnv_line_add_string. */
CNV_API CNV_NODISCARD cnv_status cnv_line_add_bool(cnv_line_builder *b, const char *name, size_t name_len,
                                                   bool value);

/* ==================================================================================== */
/* Capability paths and ids (docs/contract.md; vectors in tests/vectors/capability_ids.txt) */

#define CNV_PATH_MAX_LEN 255u
#define CNV_PATH_MAX_SEGMENTS 8u

typedef struct cnv_id128 {
  uint64_t low64;  /* XXH128_hash_t.low64 */
  uint64_t high64; /* XXH128_hash_t.high64 */
} cnv_id128;

/* Checks a capability path: 1-8 non-empty segments of [a-z0-9_-] joined by '.', at most 255
 * bytes. err_offset (may be NULL) receives the offending byte's offset on error.
 * Errors: CNV_EINVAL (NULL path with len > 0), CNV_EPARSE_EMPTY_PATH, CNV_EPARSE_PATH_SEGMENT,
 * CNV_EPARSE_PATH_CHAR, CNV_EPARSE_PATH_DEPTH, CNV_EPARSE_PATH_LONG. Thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_capability_path_check(const char *path, size_t len, size_t *err_offset);

/* Capability id: XXH3-64 (seed 0) of the path bytes after validation. Errors: those of
 * cnv_capability_path_check, CNV_EINVAL (NULL out). Thread-safe, allocation-free. */
CNV_API CNV_NODISCARD cnv_status cnv_capability_id(const char *path, size_t len, uint64_t *out);

/* 128-bit capability id: XXH3-128 (seed 0) of the path bytes. Errors as cnv_capability_id. */
CNV_API CNV_NODISCARD cnv_status cnv_capability_id128(const char *path, size_t len, cnv_id128 *out);

/* Versioned id of "path@MAJOR.MINOR.PATCH" (decimal, 0..65535, no leading zeros, so each
 * version has one spelling): XXH3-64 of exactly those bytes, '@' and dots included.
 * Errors: those of cnv_capability_path_check for the part before '@', CNV_EPARSE_VERSION
 * (missing '@', bad or non-canonical number), CNV_EINVAL (NULL out). */
CNV_API CNV_NODISCARD cnv_status cnv_capability_id_versioned(const char *text, size_t len, uint64_t *out);

/* 128-bit form of cnv_capability_id_versioned (XXH3-128 of the same bytes). */
CNV_API CNV_NODISCARD cnv_status cnv_capability_id128_versioned(const char *text, size_t len, cnv_id128 *out);

/* Capability id of a successfully parsed invocation's path: XXH3-64 only, because
 * cnv_parse_invocation already validated the path (the runtime's line -> parse -> id step
 * pays for validation once). Same value as cnv_capability_id on the path. The caller must not
 * have changed inv->path since the parse. Errors: CNV_EINVAL (NULL, or an empty path: not a
 * successful parse). Thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_invocation_id(const cnv_invocation *inv, uint64_t *out);

/* ==================================================================================== */
/* Versions, features, capabilities, negotiation (docs/wire-format.md)                  */

typedef struct cnv_proto_version {
  uint16_t major, minor, patch;
} cnv_proto_version;

/* The eleven assigned feature bits. A bit is advertised and agreed only when libcnv has
 * the code behind it: those are CNV_FEAT_IMPLEMENTED. The others are reserved: their values
 * stay assigned to the same meaning and are never reused, but negotiation never agrees to
 * them (they are treated as unknown bits are, see cnv_negotiate) until the code exists.
 * Which is which, and why: docs/protocol.md "Feature bits". */
#define CNV_FEAT_STREAMING (UINT32_C(1) << 0)     /* reserved: no streamed call or result */
#define CNV_FEAT_TRACING (UINT32_C(1) << 1)       /* W3C traceparent travels with a call */
#define CNV_FEAT_CERTIFICATES (UINT32_C(1) << 2)  /* reserved: keys are raw Ed25519, no certs */
#define CNV_FEAT_DELEGATION (UINT32_C(1) << 3)    /* signed attenuate-only token chains */
#define CNV_FEAT_POLICY (UINT32_C(1) << 4)        /* reserved: no policy engine */
#define CNV_FEAT_COMPOSITION (UINT32_C(1) << 5)   /* reserved: no capability composition */
#define CNV_FEAT_SIMD (UINT32_C(1) << 6)          /* SIMD kernels behind one dispatcher */
#define CNV_FEAT_PHASES (UINT32_C(1) << 7)        /* phase machine, breaker, coordinator */
#define CNV_FEAT_ASYNC_RUNTIME (UINT32_C(1) << 8) /* asynchronous calls with completions */
#define CNV_FEAT_VERIFICATION (UINT32_C(1) << 9)  /* reserved: nothing beyond token checks */
#define CNV_FEAT_TELEMETRY (UINT32_C(1) << 10)    /* counters, histograms, Prometheus/JSON */
/* Every assigned value, reserved ones included: not an offer (offer CNV_FEAT_IMPLEMENTED). */
#define CNV_FEAT_ALL (UINT32_C(0x7FF))
/* The bits with code behind them: what a side offers, and the most a negotiation result
 * can carry. */
#define CNV_FEAT_IMPLEMENTED                                                                           \
  (CNV_FEAT_TRACING | CNV_FEAT_DELEGATION | CNV_FEAT_SIMD | CNV_FEAT_PHASES | CNV_FEAT_ASYNC_RUNTIME | \
   CNV_FEAT_TELEMETRY)
/* Reserved values: assigned, nothing behind them yet. */
#define CNV_FEAT_RESERVED (CNV_FEAT_ALL & ~CNV_FEAT_IMPLEMENTED)

typedef enum cnv_compression {
  CNV_COMPRESS_NONE = 0,
  CNV_COMPRESS_LZ4 = 1,
  CNV_COMPRESS_ZSTD = 2
} cnv_compression;

#define CNV_PROTO_MAX_VERSIONS 8u
#define CNV_PROTO_MAX_COMPRESSIONS 3u
/* Largest frame payload any side may announce (1 GiB). */
#define CNV_FRAME_MAX_PAYLOAD (UINT32_C(1) << 30)

/* What one side offers. A listed version M.m.p means "speaks M.x.y for every x.y <= m.p". */
typedef struct cnv_capabilities {
  cnv_proto_version versions[CNV_PROTO_MAX_VERSIONS];
  uint8_t n_versions;                              /* 1..CNV_PROTO_MAX_VERSIONS */
  uint8_t compression[CNV_PROTO_MAX_COMPRESSIONS]; /* cnv_compression, preference order */
  uint8_t n_compression;                           /* 1..CNV_PROTO_MAX_COMPRESSIONS, no repeats */
  uint8_t checksum;                                /* 1: this side wants the XXH3-64 trailer */
  uint32_t features;                               /* CNV_FEAT_* bits; bits outside CNV_FEAT_IMPLEMENTED are carried, ignored */
  uint32_t max_message_size;                       /* 1..CNV_FRAME_MAX_PAYLOAD bytes */
  uint32_t max_concurrent_calls;                   /* >= 1 */
} cnv_capabilities;

/* What both sides use after negotiation. */
typedef struct cnv_negotiated {
  cnv_proto_version version;
  uint8_t compression; /* cnv_compression */
  uint8_t checksum;    /* 1: every frame carries the trailer */
  uint32_t features;
  uint32_t max_message_size;
  uint32_t max_concurrent_calls;
} cnv_negotiated;

/* Checks one side's capabilities. Errors: CNV_EINVAL (NULL), CNV_EPROTO_VERSION_LIST,
 * CNV_EPROTO_COMPRESSION_LIST, CNV_EPROTO_LIMIT, CNV_EPROTO_MALFORMED (checksum not 0 or 1).
 * Thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_capabilities_check(const cnv_capabilities *caps);

/* Negotiates: the highest version both speak (same major; see docs/protocol.md), features =
 * intersection within CNV_FEAT_IMPLEMENTED (an unknown or reserved bit is dropped, never an
 * error, so a newer peer still negotiates), limits = the smaller of each, compression = the
 * first of local's preferences that peer also lists, checksum when either side asks for it.
 * Errors: those of cnv_capabilities_check (either side), CNV_EPROTO_NO_COMMON_VERSION,
 * CNV_EPROTO_NO_COMMON_COMPRESSION. Thread-safe, allocation-free. */
CNV_API CNV_NODISCARD cnv_status cnv_negotiate(const cnv_capabilities *local, const cnv_capabilities *peer,
                                               cnv_negotiated *out);

/* Checks a negotiation result a peer sent against what local offered: the version, features
 * (within local's offer and CNV_FEAT_IMPLEMENTED), limits and compression must all be ones
 * local offered. Errors: CNV_EINVAL, CNV_EPROTO_REJECTED. Thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_negotiated_check(const cnv_capabilities *local,
                                                      const cnv_negotiated *result);

/* Payload codecs for the capabilities / negotiation request (cnv_capabilities) and the
 * negotiation response (cnv_negotiated) messages; layouts in docs/wire-format.md. All four
 * are pure and allocation-free; the caller owns every buffer. */
#define CNV_CAPS_MAX_ENCODED \
  (1u + 6u * CNV_PROTO_MAX_VERSIONS + 12u + 1u + 1u + CNV_PROTO_MAX_COMPRESSIONS)
#define CNV_NEGOTIATED_ENCODED 20u
/* Encodes caps (checked first with cnv_capabilities_check) into out: at most
 * CNV_CAPS_MAX_ENCODED bytes, exactly what *written says. Errors: CNV_EINVAL (NULL
 * argument), the cnv_capabilities_check errors, CNV_ERANGE (cap too small; nothing
 * written). */
CNV_API CNV_NODISCARD cnv_status cnv_capabilities_encode(const cnv_capabilities *caps, void *out, size_t cap,
                                                         size_t *written);
/* Decodes exactly len bytes into *out (written only on success); the result passes
 * cnv_capabilities_check. Errors: CNV_EINVAL (NULL out, or NULL in with len > 0),
 * CNV_EPROTO_MALFORMED (counts out of range, or len not the size the counts give), the
 * cnv_capabilities_check errors. */
CNV_API CNV_NODISCARD cnv_status cnv_capabilities_decode(const void *in, size_t len, cnv_capabilities *out);
/* Encodes neg into out: exactly CNV_NEGOTIATED_ENCODED bytes, *written set to that. The
 * fields are written as they are (no check: cnv_negotiated_decode validates them).
 * Errors: CNV_EINVAL (NULL argument), CNV_ERANGE (cap < CNV_NEGOTIATED_ENCODED; nothing
 * written). */
CNV_API CNV_NODISCARD cnv_status cnv_negotiated_encode(const cnv_negotiated *neg, void *out, size_t cap,
                                                       size_t *written);
/* Decodes exactly CNV_NEGOTIATED_ENCODED bytes into *out (written only on success).
 * Errors: CNV_EINVAL (NULL out, or NULL in with len > 0), CNV_EPROTO_MALFORMED (len not
 * CNV_NEGOTIATED_ENCODED, unknown compression, checksum not 0/1, max_message_size 0 or above
 * CNV_FRAME_MAX_PAYLOAD, max_concurrent_calls 0, a feature bit outside CNV_FEAT_IMPLEMENTED:
 * unknown or reserved, no negotiation could have agreed to it). To check the result against
 * what was offered, use cnv_negotiated_check. */
CNV_API CNV_NODISCARD cnv_status cnv_negotiated_decode(const void *in, size_t len, cnv_negotiated *out);

/* ==================================================================================== */
/* Frames (docs/wire-format.md): 16-byte LE header, payload, optional XXH3-64 trailer    */

typedef enum cnv_msg_type {
  CNV_MSG_CAPABILITIES = 1,
  CNV_MSG_NEGOTIATION_REQUEST = 2,
  CNV_MSG_NEGOTIATION_RESPONSE = 3,
  CNV_MSG_INVOCATION = 4,
  CNV_MSG_RESPONSE = 5,
  CNV_MSG_HEARTBEAT = 6,
  CNV_MSG_ERROR = 7,
  CNV_MSG_SHUTDOWN = 8,
  /* Session messages (include/cnv/session.h, docs/session.md). The frame codec above
   * (cnv_frame_encode, cnv_frame_decode, the incremental decoder) handles types 1..8 only and
   * refuses these with CNV_EFRAME_TYPE: the session module reads and writes its own frames. */
  CNV_MSG_HELLO = 9,
  CNV_MSG_HELLO_REPLY = 10,
  CNV_MSG_AUTH = 11,
  CNV_MSG_READY = 12,
  CNV_MSG_CANCEL = 13,
  CNV_MSG_REKEY = 14,
  /* Sealed, both ways: an opaque payload the session reports and never reads (CRDT
   * replication messages, include/cnv/crdt_session.h). The last type the 4-bit field holds. */
  CNV_MSG_REPLICATION = 15
} cnv_msg_type;

#define CNV_FRAME_HEADER_SIZE 16u
#define CNV_FRAME_TRAILER_SIZE 8u
#define CNV_FRAME_MAGIC 0xCBu
#define CNV_FRAME_WIRE_VERSION 1u
/* Header flag bits. */
#define CNV_FRAME_FLAG_CHECKSUM 0x0001u      /* an XXH3-64 trailer follows the payload */
#define CNV_FRAME_FLAG_COMPRESS_MASK 0x0006u /* (flags >> 1) & 3 is a cnv_compression */
/* The payload is AEAD-sealed by a session (docs/session.md): ciphertext then a 16-byte tag, the
 * header as associated data, never compressed, no trailer. The frame codec above refuses it
 * (CNV_EFRAME_FLAGS): only a session opens sealed frames. */
#define CNV_FRAME_FLAG_SEALED 0x0008u
/* Bytes before the compressed data of a compressed payload (u32 LE decompressed size). */
#define CNV_FRAME_RAW_SIZE_PREFIX 4u

/* How to encode and what to accept; fill from a cnv_negotiated (cnv_frame_config_from). */
typedef struct cnv_frame_config {
  uint32_t max_payload; /* largest payload (on the wire, and decompressed) */
  uint8_t compression;  /* cnv_compression used by encode */
  uint8_t checksum;     /* encode adds the trailer; decode rejects frames without it */
} cnv_frame_config;

/* A decoded frame. payload points into the decoded bytes (zero-copy); for a compressed frame
 * it is the compressed form: use cnv_frame_open to get the plain bytes. */
typedef struct cnv_frame {
  const uint8_t *payload;
  uint32_t payload_len;
  uint16_t flags;
  uint8_t type; /* cnv_msg_type */
  uint8_t reserved;
  uint64_t correlation_id;
} cnv_frame;

/* Defaults before negotiation: 64 KiB payloads, no compression, no checksum. */
CNV_API cnv_frame_config cnv_frame_config_default(void);
/* Frame configuration for a negotiation result. */
CNV_API cnv_frame_config cnv_frame_config_from(const cnv_negotiated *neg);

/* Worst-case encoded size of a frame with `payload_len` payload bytes under cfg.
 * Errors: CNV_EINVAL, CNV_EFRAME_OVERSIZE (payload_len > cfg->max_payload). */
CNV_API CNV_NODISCARD cnv_status cnv_frame_encoded_bound(const cnv_frame_config *cfg, size_t payload_len,
                                                         size_t *out);

/* Encodes one frame into out (cap bytes; must not overlap payload), compressing the payload
 * when cfg says so and that makes it smaller.
 * A payload that does not shrink (or that the codec refuses) is sent plain.
 * Errors: CNV_EINVAL (NULL, bad cfg), CNV_EFRAME_TYPE, CNV_EFRAME_OVERSIZE, CNV_ERANGE
 * (cap too small: use cnv_frame_encoded_bound). Thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_frame_encode(const cnv_frame_config *cfg, uint8_t type,
                                                  uint64_t correlation_id, const void *payload,
                                                  size_t payload_len, void *out, size_t cap, size_t *written);

/* Decodes the frame at the start of buf without copying. *consumed = the frame's size.
 * Errors: CNV_EINVAL, CNV_EFRAME_TRUNCATED (buf holds less than one whole frame; *consumed =
 * bytes needed so far, when known from the header), CNV_EFRAME_MAGIC, CNV_EFRAME_VERSION,
 * CNV_EFRAME_TYPE, CNV_EFRAME_FLAGS, CNV_EFRAME_OVERSIZE, CNV_EFRAME_NO_CHECKSUM,
 * CNV_EFRAME_CHECKSUM. Thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_frame_decode(const cnv_frame_config *cfg, const void *buf, size_t len,
                                                  cnv_frame *out, size_t *consumed);

/* The plain payload of a decoded frame: for an uncompressed frame *data = frame->payload
 * (no copy); for a compressed one the payload is decompressed into scratch (cap bytes) after
 * checking its declared size against cfg->max_payload and cap. Errors: CNV_EINVAL,
 * CNV_EFRAME_BOMB (declared size over the bound), CNV_ERANGE (scratch too small),
 * CNV_EFRAME_DECOMPRESS (corrupt data or size mismatch). Thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_frame_open(const cnv_frame_config *cfg, const cnv_frame *frame,
                                                void *scratch, size_t cap, const uint8_t **data, size_t *len);

/* Incremental decoder: feed bytes in any split; a frame comes out once complete. Frames
 * wholly inside the fed chunk point into it (zero-copy); split frames are reassembled in the
 * caller's buffer. One thread per decoder. */
typedef struct cnv_frame_decoder {
  cnv_frame_config cfg;
  uint8_t *buf;     /* caller's reassembly buffer */
  size_t cap;       /* its size: >= 16 + max_payload + 8 */
  size_t have;      /* bytes held of the current partial frame */
  cnv_status error; /* sticky error once the stream is broken */
} cnv_frame_decoder;

/* Bytes a decoder's reassembly buffer needs for cfg. CNV_EINVAL on NULL. */
CNV_API CNV_NODISCARD cnv_status cnv_frame_decoder_buffer_size(const cnv_frame_config *cfg, size_t *out);

/* Initializes dec over the caller's buffer. Errors: CNV_EINVAL, CNV_ERANGE (cap too small). */
CNV_API CNV_NODISCARD cnv_status cnv_frame_decoder_init(cnv_frame_decoder *dec, const cnv_frame_config *cfg,
                                                        void *buf, size_t cap);

/* Feeds up to len bytes; stops after the first complete frame. *consumed = bytes of data used
 * (call again with the rest). CNV_OK: *frame is valid until the next feed or the caller's data
 * changes. CNV_EAGAIN: all data used, no frame complete yet. Any frame error (as
 * cnv_frame_decode, except TRUNCATED) is sticky: later feeds return it until
 * cnv_frame_decoder_reset. CNV_EINVAL on NULL. */
CNV_API CNV_NODISCARD cnv_status cnv_frame_decoder_feed(cnv_frame_decoder *dec, const void *data, size_t len,
                                                        size_t *consumed, cnv_frame *frame);

/* Drops any partial frame and any sticky error. */
CNV_API void cnv_frame_decoder_reset(cnv_frame_decoder *dec);

/* ==================================================================================== */
/* Anti-replay window (RFC 6479 style; docs/protocol.md "Anti-replay window")           */

/* For transports that may reorder or repeat messages (a sealed message over NATS): each
 * message carries a 64-bit sequence number, the sender's counter starting at 1. The receiver
 * accepts a number at most once, and only while it is less than CNV_REPLAY_WINDOW below the
 * highest number accepted so far ("top"):
 *   seq == 0                      never accepted (CNV_ERANGE): 0 is "nothing accepted yet";
 *   seq > top                     accepted; accepting it moves the window up to seq;
 *   top - seq >= CNV_REPLAY_WINDOW too old (CNV_EREPLAY_TOO_OLD), even if never seen;
 *   otherwise                     accepted unless already accepted (CNV_EREPLAY_DUPLICATE).
 * So the window is the CNV_REPLAY_WINDOW numbers top - 1023 .. top, and any order within it
 * is fine. The state is a ring of CNV_REPLAY_BLOCKS 64-bit blocks, one bit per number: the
 * window touches at most 1024 / 64 + 1 = 17 blocks, rounded up to a power of two so that a
 * number's block is a mask. Moving the window clears only the blocks it enters, at most
 * CNV_REPLAY_BLOCKS whatever the jump: every call is O(1) and allocation-free. Once top is
 * UINT64_MAX no number is new any more: a sender starts a new key and window long before.
 * Not thread-safe: one window per receiving direction, one thread at a time on it (then
 * wait-free: bounded steps, no shared state). The caller owns the struct (264 bytes, no
 * pointers: copyable, nothing to destroy). */
#define CNV_REPLAY_WINDOW 1024u
#define CNV_REPLAY_BLOCKS 32u

typedef struct cnv_replay_window {
  uint64_t top;                     /* highest sequence number accepted; 0: none yet */
  uint64_t bits[CNV_REPLAY_BLOCKS]; /* bit (s & 63) of block ((s >> 6) % BLOCKS): s seen */
} cnv_replay_window;

/* Empties w (nothing accepted; top 0). Errors: CNV_EINVAL (NULL w). */
CNV_API CNV_NODISCARD cnv_status cnv_replay_init(cnv_replay_window *w);

/* Would seq be accepted now? Changes nothing: call it before spending work on a message
 * (authenticating it), then cnv_replay_update once it authenticated. CNV_OK: it would.
 * Errors: CNV_EINVAL (NULL w), CNV_ERANGE (seq 0), CNV_EREPLAY_TOO_OLD,
 * CNV_EREPLAY_DUPLICATE. */
CNV_API CNV_NODISCARD cnv_status cnv_replay_check(const cnv_replay_window *w, uint64_t seq);

/* Marks seq accepted, moving the window up when seq > top. Call it only for a message that
 * authenticated: a forged number must not move the window. It checks again (another message
 * may have been accepted since cnv_replay_check) and changes nothing on an error. Errors: as
 * cnv_replay_check. */
CNV_API CNV_NODISCARD cnv_status cnv_replay_update(cnv_replay_window *w, uint64_t seq);

#ifdef __cplusplus
}
#endif

#endif
