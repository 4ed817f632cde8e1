/* The mcp module's private declarations: the session, its in-flight calls, the lock-free
 * hand-off from the runtime's workers, and the JSON helpers the method files share. */
#ifndef CNV_MCP_INTERNAL_H
#define CNV_MCP_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <cnv/core.h>
#include <cnv/mcp.h>
#include <cnv/protocol.h>
#include <cnv/runtime.h>

#include "ring.h"

/* JSON-RPC 2.0 error codes (the specification's; MCP uses them as they are). */
#define MCP_PARSE_ERROR (-32700)
#define MCP_INVALID_REQUEST (-32600)
#define MCP_METHOD_NOT_FOUND (-32601)
#define MCP_INVALID_PARAMS (-32602)
#define MCP_INTERNAL_ERROR (-32603)

/* Defaults and ceilings of cnv_mcp_config (documented there). */
#define MCP_DEFAULT_PAGE 100u
#define MCP_MAX_PAGE 1000u
#define MCP_DEFAULT_IN_FLIGHT 64u
#define MCP_MAX_IN_FLIGHT 4096u
#define MCP_DEFAULT_MESSAGE (4u << 20)
/* The builder's buffer: the runtime copies at most 4000 bytes of a line (max_line's
 * ceiling), so a longer line is denied there anyway; this leaves room to say so. */
#define MCP_LINE_CAP 8192u
/* Most arguments one built line can hold (each takes at least "--a=1 ", 6 bytes). */
#define MCP_MAX_ARGS (MCP_LINE_CAP / 6u)
/* Progress records waiting for the session thread, per call slot (at least 64 in all). */
#define MCP_PROGRESS_PER_CALL 2u

typedef enum mcp_state {
  MCP_NEW = 0,         /* nothing but initialize and ping */
  MCP_INITIALIZED = 1, /* initialize answered */
  MCP_CLOSED = 2       /* close called: receive refuses */
} mcp_state;

typedef enum mcp_call_state {
  MCP_CALL_FREE = 0,
  MCP_CALL_RUNNING = 1,  /* submitted, its completion not yet polled */
  MCP_CALL_CANCELLED = 2 /* the client cancelled it: no response when it completes */
} mcp_call_state;

/* One in-flight tools/call. The session thread owns every field but the completion's, which
 * the worker running on_done writes before it publishes the slot's index through the done
 * ring (release); the session reads them after taking the index (acquire). */
typedef struct mcp_call {
  uint32_t state; /* mcp_call_state; session thread only */
  uint32_t gen;   /* bumped at each use, so a stale progress record is recognised */
  json_t *id;     /* the request's id (a reference) */
  json_t *progress_token;
  uint64_t origin;
  uint64_t ticket;
  char tool[CNV_MCP_TOOL_NAME_MAX + 1]; /* the tool's name, for on_call_done */
  /* written by on_done */
  int32_t kind;
  cnv_status status;
  uint32_t content_type;
  size_t result_len;
  uint8_t *result; /* max_result bytes, owned */
} mcp_call;

/* One progress report on its way from a worker to the session thread. */
typedef struct mcp_progress_rec {
  uint64_t correlation; /* slot | gen << 32 */
  double progress;
  double total;
  uint32_t message_len;
  char message[CNV_RT_PROGRESS_MESSAGE_MAX];
} mcp_progress_rec;

struct cnv_mcp_session {
  cnv_runtime *rt;
  uint32_t agent;
  char *server_name;
  char *server_version;
  char *instructions;
  uint32_t page_size;
  uint32_t max_in_flight;
  size_t max_message;
  cnv_mcp_emit_fn emit;
  void *emit_ctx;
  void (*on_call_done)(void *ctx, const char *tool, int kind, cnv_status status);
  void *call_done_ctx;

  uint32_t state; /* mcp_state */
  bool quiet;     /* closing: emit nothing */
  char version[16];
  bool list_armed; /* a tools/list was answered at list_generation */
  uint64_t list_generation;

  uint32_t max_result;
  mcp_call *calls;
  uint32_t *free_slots; /* stack of free slot indices */
  uint32_t n_free;
  uint32_t in_flight; /* slots not free (running or cancelled) */

  mcp_ring done;     /* uint32_t slot indices, from on_done */
  mcp_ring progress; /* mcp_progress_rec, from on_progress */
  int efd;           /* eventfd: a worker pushed something */
  /* completion callbacks still running (they touch the session up to their last
   * instruction): destroy frees nothing before this is 0 */
  _Atomic uint32_t callbacks;

  /* scratch for tools/call: the built line and its parse */
  char *line;
  cnv_arg *args;
};

/* ---- wire.c: messages out ---- */
/* Serialises msg (consumed: its reference is dropped) and emits it unless the session is
 * quiet; a serialisation failure emits a fixed -32603 error instead. */
void mcp_emit(cnv_mcp_session *s, uint64_t origin, json_t *msg);
/* {"jsonrpc":"2.0","id":id,"result":result}; id may be NULL (null); result is consumed. */
void mcp_reply(cnv_mcp_session *s, uint64_t origin, json_t *id, json_t *result);
/* {"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message}}; id may be NULL. */
void mcp_reply_error(cnv_mcp_session *s, uint64_t origin, json_t *id, int code, const char *message);
/* A tools/call result that is an error the model sees: {"content":[{"type":"text",
 * "text":text}],"isError":true}; text must be UTF-8 (it is made by the module). */
json_t *mcp_tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A json string of len bytes, or NULL when they are not valid UTF-8. */
/* json_loadb, refusing first any raw NUL byte (never valid JSON: jansson 2.14 stops at one
 * after a number, so "[2\0 anything]" would load as [2]); such text gets NULL with
 * jerr's code json_error_invalid_syntax. */
json_t *mcp_json_load(const char *text, size_t len, size_t flags, json_error_t *jerr);
json_t *mcp_string(const char *bytes, size_t len);
/* Whether a JSON string's bytes equal text (exact length: an embedded NUL never matches). */
bool mcp_string_is(const json_t *str, const char *text);

/* Whether two request ids name the same request for the client: strings byte for byte,
 * numbers by value (5 and 5.0 are one number in JSON, and one key in a JavaScript client). */
bool mcp_id_equal(const json_t *a, const json_t *b);

/* Whether the negotiated revision is at least rev ("2025-06-18": dates compare as text). */
bool mcp_revision_at_least(const cnv_mcp_session *s, const char *rev);

/* ---- methods ---- */
void mcp_tools_list(cnv_mcp_session *s, uint64_t origin, json_t *id, json_t *params);
void mcp_tools_call(cnv_mcp_session *s, uint64_t origin, json_t *id, json_t *params);
/* Makes the session's descriptor readable (a write to its eventfd): any thread. */
void mcp_session_wake(cnv_mcp_session *s);
void mcp_cancelled(cnv_mcp_session *s, json_t *params);
/* Builds a finished call's response (or nothing when it was cancelled) and frees its slot. */
void mcp_call_finish(cnv_mcp_session *s, uint32_t slot);
/* The inputSchema of a capability (a new object). */
json_t *mcp_input_schema(const cnv_parse_schema *schema);
/* The annotations of an effects set (a new object, all four hints explicit). */
json_t *mcp_annotations(cnv_effects effects, const char *title);
/* Orders two capability paths byte by byte, a prefix first: <0, 0 or >0 (tools/list's
 * cursor and tools/call's lookup walk the capabilities in this order). */
int mcp_path_cmp(const char *a, size_t an, const char *b, size_t bn);

#endif
