// bench_micro: Google Benchmark micro-benchmarks of the per-event hot paths.
//
//   bench_micro [--results=FILE] [Google Benchmark flags]
//
// Rendering an event (default format, --format, CSV), building a watched path from the tree
// (WatchTable::append_path), relabelling a subtree (WatchTable::move), and inotifywatch's counting
// of an event (Stats::record). Every benchmark reports
// "allocs" (operator new calls per iteration, counted by the replaced operator new below). After
// the benchmarks, a deterministic check renders events the way the tool's loop does (into a
// reused buffer) and writes "micro<TAB>ours<TAB>NAME<TAB>allocations per event" to FILE for
// bench_report: the target is no heap allocation per event.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "watch_table.hpp"

#include "format.hpp"  // tools/inotifywait (inotifywait_core)
#include "stats.hpp"   // tools/inotifywatch (inotifywatch_core)

// ---- allocation counting ----------------------------------------------------------------------

namespace {
std::atomic<unsigned long long> g_allocs{0};

void* counted_alloc(std::size_t n, std::size_t align = 0) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p =
      align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align) : std::malloc(n);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

using inotifywait::EventView;
using inotifywait::Format;
using libwatch::WatchId;
using libwatch::WatchTable;

// A typical event of the drain workload.
const EventView kEvent{"/dev/shm/bench-tree/s1/", "f0001234", IN_CLOSE_WRITE, 0};
const EventView kDirEvent{"/dev/shm/bench-tree/d3/d7/", "d2", IN_CREATE | IN_ISDIR, 0};

// The output buffer as the tool keeps it: reserved once, written out and cleared at 64 KiB.
struct OutBuffer {
  std::string buf;
  OutBuffer() { buf.reserve(128 * 1024); }
  std::string& get() {
    if (buf.size() >= 64 * 1024) buf.clear();
    return buf;
  }
};

void report_allocs(benchmark::State& state, unsigned long long before) {
  state.counters["allocs"] =
      benchmark::Counter(static_cast<double>(g_allocs.load() - before), benchmark::Counter::kAvgIterations);
}

void render_loop(benchmark::State& state, Format& f, const EventView& ev) {
  OutBuffer out;
  f.render(ev, out.get());  // warm: %T cache, buffer
  unsigned long long before = g_allocs.load();
  for (auto _ : state) {
    f.render(ev, out.get());
    benchmark::DoNotOptimize(out.buf.data());
  }
  report_allocs(state, before);
}

void BM_RenderDefault(benchmark::State& state) {
  Format f = Format::default_format();
  render_loop(state, f, state.range(0) ? kDirEvent : kEvent);
}
BENCHMARK(BM_RenderDefault)->Arg(0)->Arg(1)->ArgName("dir");

void BM_RenderFormat(benchmark::State& state) {
  Format f = Format::custom("%w%f %e %c", false, "");
  render_loop(state, f, kEvent);
}
BENCHMARK(BM_RenderFormat);

void BM_RenderFormatTime(benchmark::State& state) {
  Format f = Format::custom("%T %w%f %Xe", false, "%Y-%m-%d %H:%M:%S");
  render_loop(state, f, kEvent);
}
BENCHMARK(BM_RenderFormatTime);

void BM_RenderCsv(benchmark::State& state) {
  Format f = Format::csv();
  render_loop(state, f, kEvent);
}
BENCHMARK(BM_RenderCsv);

// A root and a chain of `depth` directories below it (names like the ones mktree makes).
WatchId build_chain(WatchTable& t, int depth) {
  WatchId id = t.add_root(1, "/dev/shm/bench-tree", true);
  for (int i = 0; i < depth; ++i) id = t.add_child(2 + i, id, "d" + std::to_string(i % 10));
  return id;
}

void BM_AppendPath(benchmark::State& state) {
  WatchTable t;
  WatchId leaf = build_chain(t, static_cast<int>(state.range(0)));
  std::string out;
  out.reserve(4096);
  t.append_path(leaf, out);
  unsigned long long before = g_allocs.load();
  for (auto _ : state) {
    out.clear();
    t.append_path(leaf, out);
    benchmark::DoNotOptimize(out.data());
  }
  report_allocs(state, before);
}
BENCHMARK(BM_AppendPath)->Arg(1)->Arg(5)->Arg(16)->ArgName("depth");

// Relabel a directory holding `n` subdirectories (a ten-way tree), back and forth between two
// parents and two names: the cost must not depend on n.
void BM_Move(benchmark::State& state) {
  WatchTable t;
  WatchId root = t.add_root(1, "/dev/shm/bench-tree", true);
  WatchId a = t.add_child(2, root, "a"), b = t.add_child(3, root, "b");
  WatchId big = t.add_child(4, a, "big");
  std::vector<WatchId> ids{big};
  int wd = 5;
  for (std::size_t i = 0; ids.size() < static_cast<std::size_t>(state.range(0)) + 1; ++i)
    ids.push_back(t.add_child(wd++, ids[i / 10], "d" + std::to_string(i % 10)));
  bool there = false;
  unsigned long long before = g_allocs.load();
  for (auto _ : state) {
    bool ok = t.move(big, there ? a : b, there ? "big" : "big-renamed");
    benchmark::DoNotOptimize(ok);
    there = !there;
  }
  report_allocs(state, before);
}
BENCHMARK(BM_Move)->Arg(1000)->Arg(50000)->ArgName("subdirs");

// inotifywatch's per-event work: count one event for a watch (1,000 watches, all with counters).
void BM_InotifywatchRecord(benchmark::State& state) {
  inotifywatch::Stats stats(IN_ALL_EVENTS);
  for (WatchId id = 0; id < 1000; ++id) stats.record(id, IN_MODIFY);
  WatchId id = 0;
  unsigned long long before = g_allocs.load();
  for (auto _ : state) {
    stats.record(id, IN_CLOSE_WRITE);
    id = id == 999 ? 0 : id + 1;
  }
  benchmark::DoNotOptimize(stats.events());
  report_allocs(state, before);
}
BENCHMARK(BM_InotifywatchRecord);

// ---- the allocation check -----------------------------------------------------------------------

double allocs_per_event(Format f, const EventView& ev) {
  OutBuffer out;
  for (int i = 0; i < 1000; ++i) f.render(ev, out.get());  // warm up
  constexpr int kEvents = 100000;
  unsigned long long before = g_allocs.load();
  for (int i = 0; i < kEvents; ++i) f.render(ev, out.get());
  return static_cast<double>(g_allocs.load() - before) / kEvents;
}

double append_path_allocs() {
  WatchTable t;
  WatchId leaf = build_chain(t, 16);
  std::string out;
  out.reserve(4096);
  t.append_path(leaf, out);
  constexpr int kEvents = 100000;
  unsigned long long before = g_allocs.load();
  for (int i = 0; i < kEvents; ++i) {
    out.clear();
    t.append_path(leaf, out);
  }
  return static_cast<double>(g_allocs.load() - before) / kEvents;
}

double inotifywatch_record_allocs() {
  inotifywatch::Stats stats(IN_ALL_EVENTS);
  for (WatchId id = 0; id < 1000; ++id) stats.record(id, IN_MODIFY);  // every watch has its block
  constexpr int kEvents = 100000;
  unsigned long long before = g_allocs.load();
  for (int i = 0; i < kEvents; ++i) stats.record(static_cast<WatchId>(i % 1000), IN_CLOSE_WRITE | IN_ISDIR);
  return static_cast<double>(g_allocs.load() - before) / kEvents;
}

}  // namespace

int main(int argc, char** argv) {
  std::string results;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--results=", 10) == 0)
      results = argv[i] + 10;
    else
      args.push_back(argv[i]);
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  struct Check {
    const char* name;
    double allocs;
  };
  const Check checks[] = {
      {"render default", allocs_per_event(Format::default_format(), kEvent)},
      {"render --format", allocs_per_event(Format::custom("%w%f %e %c", false, ""), kEvent)},
      {"render --format %T", allocs_per_event(Format::custom("%T %w%f %Xe", false, "%Y-%m-%d %H:%M:%S"), kEvent)},
      {"render -c", allocs_per_event(Format::csv(), kEvent)},
      {"append_path", append_path_allocs()},
      {"inotifywatch record", inotifywatch_record_allocs()},
  };
  FILE* f = results.empty() ? nullptr : std::fopen(results.c_str(), "a");
  for (const Check& c : checks) {
    std::printf("allocation check: %-20s %g allocations per event\n", c.name, c.allocs);
    if (f) std::fprintf(f, "micro\tours\t%s\t%g\n", c.name, c.allocs);
  }
  if (f) std::fclose(f);
  return 0;
}
