/* A `cnv serve --plugin` library for the tests: registers plugin.hello, which answers
 * "hello from a plugin". It links nothing: the cnv tool exports libcnv's symbols. */
#include <string.h>

#include <cnv/runtime.h>
#include <cnv/server.h>

static cnv_status hello(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  (void)call;
  static const char text[] = "hello from a plugin";
  return cnv_runtime_result_write(r, text, sizeof text - 1);
}

__attribute__((visibility("default"))) cnv_status cnv_plugin_register(cnv_runtime *rt);

cnv_status cnv_plugin_register(cnv_runtime *rt) {
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = hello};
  return cnv_runtime_register(rt, "plugin.hello", strlen("plugin.hello"), &spec);
}

/* The entry has the documented type (a mismatch does not compile). */
__attribute__((unused)) static const cnv_plugin_register_fn entry_type_check = cnv_plugin_register;
