/* Status codes of the protocol module (parser, capability ids, negotiation, frames, replay
 * window): -200 .. -299.
 * Append new codes with the next free value in this range; never renumber. */
/* Retired (the generic code replaces them; the values are never reused): EFRAME_BUFFER -241. */
#ifndef CNV_STATUS_CODES_PROTOCOL_H
#define CNV_STATUS_CODES_PROTOCOL_H
#define CNV_STATUS_PROTOCOL(X)                                                                  \
  X(EPARSE_EMPTY_PATH, -200, "parse: empty line or empty capability path")                      \
  X(EPARSE_PATH_SEGMENT, -201, "parse: empty path segment (leading, trailing or double dot)")   \
  X(EPARSE_PATH_CHAR, -202, "parse: path byte outside [a-z0-9_-] and '.'")                      \
  X(EPARSE_PATH_DEPTH, -203, "parse: capability path has more than 8 segments")                 \
  X(EPARSE_PATH_LONG, -204, "parse: capability path longer than 255 bytes")                     \
  X(EPARSE_UNTERMINATED_QUOTE, -205, "parse: quoted string has no closing quote")               \
  X(EPARSE_FLAG_NO_NAME, -206, "parse: flag with no name ('-' or '--=')")                       \
  X(EPARSE_FLAG_NAME_CHAR, -207, "parse: flag name byte outside [A-Za-z0-9_-]")                 \
  X(EPARSE_SHORT_FLAG, -208, "parse: a short flag is one letter (-x)")                          \
  X(EPARSE_TOO_MANY_ARGS, -209, "parse: more arguments than the limit")                         \
  X(EPARSE_INPUT_LONG, -210, "parse: line longer than the input limit")                         \
  X(EPARSE_BAD_BYTE, -211, "parse: control byte in the line")                                   \
  X(EPARSE_QUOTE_IN_WORD, -212, "parse: quote character inside a bare word")                    \
  X(EPARSE_AFTER_QUOTE, -213, "parse: closing quote not followed by a space or the end")        \
  X(EPARSE_VERSION, -214, "id: expected path@MAJOR.MINOR.PATCH, canonical 0..65535")            \
  X(EPROTO_NO_COMMON_VERSION, -220, "negotiation: no protocol version with a shared major")     \
  X(EPROTO_NO_COMMON_COMPRESSION, -221, "negotiation: no compression both sides offer")         \
  X(EPROTO_VERSION_LIST, -222, "capabilities: version list empty or longer than 8")             \
  X(EPROTO_COMPRESSION_LIST, -223, "caps: compression list empty, long, unknown or repeated")   \
  X(EPROTO_LIMIT, -224, "capabilities: a limit is zero or above the frame maximum")             \
  X(EPROTO_MALFORMED, -225, "capabilities/negotiation payload malformed or wrong length")       \
  X(EPROTO_REJECTED, -226, "negotiation result not within what this side offered")              \
  X(EFRAME_MAGIC, -230, "frame: bad magic byte")                                                \
  X(EFRAME_VERSION, -231, "frame: unsupported wire format version")                             \
  X(EFRAME_TYPE, -232, "frame: unknown message type")                                           \
  X(EFRAME_FLAGS, -233, "frame: reserved flag bits set or unknown compression")                 \
  X(EFRAME_OVERSIZE, -234, "frame: payload longer than the negotiated maximum")                 \
  X(EFRAME_CHECKSUM, -235, "frame: XXH3-64 trailer does not match")                             \
  X(EFRAME_TRUNCATED, -236, "frame: incomplete, more bytes needed")                             \
  X(EFRAME_NO_CHECKSUM, -237, "frame: checksum negotiated but the frame has no trailer")        \
  X(EFRAME_BOMB, -238, "frame: declared decompressed size over the bound")                      \
  X(EFRAME_DECOMPRESS, -239, "frame: compressed payload corrupt or size mismatch")              \
  X(EFRAME_COMPRESS, -240, "frame: compression failed")                                         \
  X(EREPLAY_DUPLICATE, -242, "replay window: sequence number already accepted")                 \
  X(EREPLAY_TOO_OLD, -243, "replay window: sequence number below the window")                   \
  X(EPARSE_LITERAL_LENGTH, -244, "parse: literal length not canonical decimal or past the end") \
  X(EPARSE_AFTER_LITERAL, -245, "parse: literal not followed by a space or the end")            \
  X(ESCHEMA_INVALID, -246, "schema: bad argument spec (name, type, duplicate, enum, bounds)")   \
  X(EARG_UNKNOWN, -247, "arguments: flag not declared by the capability's schema")              \
  X(EARG_MISSING, -248, "arguments: a required argument is missing")                            \
  X(EARG_TYPE, -249, "arguments: a value does not have its argument's type")                    \
  X(EARG_ENUM, -250, "arguments: value not one of the argument's allowed values")               \
  X(EARG_REPEATED, -251, "arguments: given more than once but not declared repeated")           \
  X(EARG_POSITIONAL, -252, "arguments: positional or short argument where only flags are declared")
#endif
