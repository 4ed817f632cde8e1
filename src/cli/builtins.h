/* What a runtime of the cnv tool starts with, shared by `cnv serve` and `cnv mcp serve`: the
 * --trust roots and --revoked hashes, the built-in demos (each with a typed schema, a title
 * and a description) and the capabilities of the --plugin libraries.
 *
 *   demo.echo  {text: STRING, required}                       read_only|idempotent
 *              answers the text (text result)
 *   demo.sleep {ms: INTEGER, required, 0..30000}               read_only
 *              sleeps ms milliseconds, reporting progress (elapsed ms of ms) about every
 *              50 ms; returns early (CNV_ERT_CANCELLED) when cancelled; answers nothing
 *   demo.fail  {} closed                                       read_only
 *              fails with CNV_EIO (its result says so)
 *   demo.types {s: STRING required, i: INTEGER, n: NUMBER, b: BOOLEAN,
 *               e: ENUM red|green|blue, tags: STRING repeated} closed, read_only|idempotent
 *              answers a JSON object (CNV_CONTENT_JSON) of exactly the arguments it got,
 *              tags as an array in line order; strings byte for byte (quotes, newlines,
 *              NUL, non-ASCII); a string that is not UTF-8 fails with CNV_EINVAL.
 *   demo.count {key: STRING, required, 1..64 bytes} closed     mutate_state
 *              counts its runs per key in this process (up to 1024 keys; another one
 *              fails with CNV_EFULL) and answers the key's new count as decimal text: an
 *              effect a retry must not repeat (the swarm's exactly-once path runs it). */
#ifndef CNV_CLI_BUILTINS_H
#define CNV_CLI_BUILTINS_H

#include <stdbool.h>

#include "cli.h"
#include "cnv/runtime.h"

/* Registers the built-in demos on rt (before start). Prints the error and returns false on
 * failure. */
bool cli_builtins_register(cnv_runtime *rt);

/* Adds every --trust root and every hash of every --revoked file of cmd to rt. Prints the
 * error and returns false on the first failure. */
bool cli_trust_load(cli_cmd *cmd, cnv_runtime *rt);

/* Loads every --plugin of cmd (dlopen, never unloaded) and calls its CNV_PLUGIN_ENTRY on rt.
 * Prints the error ("--plugin: ...") and returns false on the first failure. */
bool cli_plugins_load(cli_cmd *cmd, cnv_runtime *rt);

#endif
