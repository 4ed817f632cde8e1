/* Runs the built-in scenario and writes its Prometheus metrics to stdout (for promtool). */
#include <stdio.h>

#include <cnv.h>

static int out(void *ctx, const char *data, size_t len) {
  (void)ctx;
  return fwrite(data, 1, len, stdout) == len ? 0 : 1;
}

int main(void) {
  cnv_scenario_config c;
  cnv_scenario_config_default(&c);
  c.count = 2000;
  c.metrics = out;
  cnv_scenario_report r;
  cnv_status st = cnv_scenario_run(&c, &r);
  if (st != CNV_OK) fprintf(stderr, "scenario: %s\n", cnv_status_name(st));
  return st == CNV_OK ? 0 : 1;
}
