// Thin adapter: runs the C cases registered through cnv_bench.h under Google Benchmark and,
// after the normal report, prints each `<case>` with our figure, every peer's and the ratio.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cnv_bench.h"

struct cnv_bench_state {
  benchmark::State *gb;
  uint64_t iterations;
  int64_t arg;
};

namespace {

struct Case {
  std::string name;
  cnv_bench_fn fn;
  int threads;
  int64_t arg;
};

std::vector<Case> &registry() {
  static std::vector<Case> cases;
  return cases;
}

// Collects items/s per `<case>/<impl>` (the median when repetitions are asked for).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run> &runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run &r : runs) {
      if (r.error_occurred) continue;
      bool aggregate = r.run_type == Run::RT_Aggregate;
      if (aggregate && r.aggregate_name != "median") continue;
      auto it = r.counters.find("items_per_second");
      if (it == r.counters.end()) continue;
      std::string name = r.run_name.function_name;
      if (!aggregate && medians_.count(name)) continue;
      (aggregate ? medians_ : singles_)[name] = it->second.value;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::map<std::string, double> all = singles_;
    for (auto &kv : medians_) all[kv.first] = kv.second;
    std::map<std::string, std::map<std::string, double>> by_case;
    for (auto &kv : all) {
      size_t slash = kv.first.find('/');
      if (slash == std::string::npos) continue;
      // `<case>/<impl>/<size>` (the graph cases): impls compare at the same size, so the size
      // joins the case (`graph_reach/1000`).
      std::string c = kv.first.substr(0, slash), impl = kv.first.substr(slash + 1);
      size_t more = impl.find('/');
      if (more != std::string::npos) {
        std::string size = impl.substr(more + 1);
        if (!size.empty() && size.find_first_not_of("0123456789") == std::string::npos) {
          c += "/" + size;
          impl.resize(more);
        }
      }
      by_case[c][impl] = kv.second;
    }
    std::printf("\n%-32s %-14s %14s %-14s %14s %8s\n", "case", "ours", "items/s", "peer",
                "items/s", "ratio");
    for (auto &c : by_case) {
      for (auto &ours : c.second) {
        if (ours.first.rfind("cnv", 0) != 0) continue;
        bool peers = false;
        for (auto &peer : c.second) {
          if (peer.first.rfind("cnv", 0) == 0 || peer.second <= 0) continue;
          std::printf("%-32s %-14s %14.4g %-14s %14.4g %7.2fx\n", c.first.c_str(),
                      ours.first.c_str(), ours.second, peer.first.c_str(), peer.second,
                      ours.second / peer.second);
          peers = true;
        }
        // A case with no peer (a value such as idle_cpu) is shown too, as `cnv bench` does.
        if (!peers)
          std::printf("%-32s %-14s %14.4g %-14s %14s %8s\n", c.first.c_str(), ours.first.c_str(),
                      ours.second, "-", "-", "-");
      }
    }
  }

 private:
  std::map<std::string, double> singles_, medians_;
};

// Google Benchmark's CSVReporter writes its header (the counter columns) when the first case
// is reported and aborts when a later case adds a counter the header lacks (the serve_echo_p1
// cases' p50_us and p99_us). This one keeps every run and hands them all over at the end, so
// the header lists every counter; a row without one leaves its cell empty.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" // CSVReporter: still in 1.7, Debian 12's
class WholeCSVReporter : public benchmark::CSVReporter {
 public:
  void ReportRuns(const std::vector<Run> &runs) override { runs_.insert(runs_.end(), runs.begin(), runs.end()); }
  void Finalize() override {
    if (!runs_.empty()) CSVReporter::ReportRuns(runs_);
    CSVReporter::Finalize();
  }

 private:
  std::vector<Run> runs_;
};
#pragma GCC diagnostic pop

} // namespace

extern "C" {

void cnv_bench_register(const char *name, cnv_bench_fn fn, int threads, int64_t arg) {
  registry().push_back(Case{name, fn, threads < 1 ? 1 : threads, arg});
}

int cnv_bench_keep_running(cnv_bench_state *st) {
  if (!st->gb->KeepRunning()) return 0;
  st->iterations++;
  return 1;
}

int cnv_bench_keep_running_batch(cnv_bench_state *st, uint64_t n) {
  if (!st->gb->KeepRunningBatch(static_cast<benchmark::IterationCount>(n))) return 0;
  st->iterations += n;
  return 1;
}

uint64_t cnv_bench_iterations(const cnv_bench_state *st) { return st->iterations; }
void cnv_bench_set_items_processed(cnv_bench_state *st, int64_t items) {
  st->gb->SetItemsProcessed(items);
}
void cnv_bench_set_counter(cnv_bench_state *st, const char *name, double value) {
  st->gb->counters[name] = benchmark::Counter(value);
}
// SetItemsProcessed stores items under "items_per_second" with kIsRate (divided by the time
// at the end); without the flag the figure is reported as given.
void cnv_bench_set_rate(cnv_bench_state *st, double per_second) {
  st->gb->counters["items_per_second"] = benchmark::Counter(per_second);
}
void cnv_bench_set_value(cnv_bench_state *st, double value, const char *unit) {
  st->gb->counters["items_per_second"] = benchmark::Counter(value);
  st->gb->SetLabel(unit);
}
int cnv_bench_thread_index(const cnv_bench_state *st) { return st->gb->thread_index(); }
int cnv_bench_threads(const cnv_bench_state *st) { return st->gb->threads(); }
int64_t cnv_bench_arg(const cnv_bench_state *st) { return st->arg; }
void cnv_bench_pause_timing(cnv_bench_state *st) { st->gb->PauseTiming(); }
void cnv_bench_resume_timing(cnv_bench_state *st) { st->gb->ResumeTiming(); }
void cnv_bench_skip_with_error(cnv_bench_state *st, const char *message) {
  st->gb->SkipWithError(message);
}

} // extern "C"

int main(int argc, char **argv) {
  for (const Case &c : registry()) {
    auto *b = benchmark::RegisterBenchmark(c.name.c_str(), [c](benchmark::State &gb) {
      cnv_bench_state st{&gb, 0, c.arg};
      c.fn(&st);
    });
    b->UseRealTime();
    if (c.threads > 1) b->Threads(c.threads);
  }
  // Read the output formats before Initialize, which removes the flags it consumes: the
  // ratio table is console text and must not be mixed into JSON or CSV on stdout, and CSV
  // goes through WholeCSVReporter (on stdout, or into --benchmark_out's file).
  bool console = true, csv = false, out = false, out_csv = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a.rfind("--benchmark_format=", 0) == 0) {
      console = a == "--benchmark_format=console";
      csv = a == "--benchmark_format=csv";
    }
    if (a.rfind("--benchmark_out=", 0) == 0) out = a.size() > sizeof "--benchmark_out=" - 1;
    if (a.rfind("--benchmark_out_format=", 0) == 0) out_csv = a == "--benchmark_out_format=csv";
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  WholeCSVReporter csv_reporter, csv_file_reporter;
  // A null reporter is Google Benchmark's own for the format asked.
  benchmark::BenchmarkReporter *display = nullptr;
  if (console) display = &reporter;
  if (csv) display = &csv_reporter;
  benchmark::RunSpecifiedBenchmarks(display, out && out_csv ? &csv_file_reporter : nullptr);
  benchmark::Shutdown();
  return 0;
}
