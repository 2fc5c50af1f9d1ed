/* What the event generator (events.c) and the measurement program (run.cpp) agree on: the
 * "mixed" workload and the exact lines inotifywait prints for it in its default format.
 *
 * One operation on file i creates, writes, closes and deletes DIR/s<i % 4>/f<i>, which gives five
 * events whose masks differ from one to the next, so the kernel merges none of them (inotify(7):
 * only an event identical to the last queued one is merged). */
#ifndef LIBWATCH_BENCH_COMMON_H
#define LIBWATCH_BENCH_COMMON_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define BENCH_SUBDIRS 4
#define BENCH_EVENTS_PER_OP 5

/* Event names in the order the operation produces them, as the default format prints them. */
static const char* const bench_op_event_names[BENCH_EVENTS_PER_OP] = {"CREATE", "OPEN", "MODIFY", "CLOSE_WRITE,CLOSE",
                                                                      "DELETE"};

static inline void bench_subdir_name(char* buf, size_t size, unsigned long op) {
  snprintf(buf, size, "s%lu", op % BENCH_SUBDIRS);
}

static inline void bench_file_name(char* buf, size_t size, unsigned long op) { snprintf(buf, size, "f%07lu", op); }

/* Bytes of the default-format lines ("%w %,e %f\n") for operations [0, ops) when the watched
 * operand was given as dir (no trailing slash). */
static inline unsigned long long bench_expected_bytes(const char* dir, unsigned long ops) {
  unsigned long long total = 0;
  size_t dir_len = strlen(dir);
  for (unsigned long op = 0; op < ops; ++op) {
    char sub[32], name[32];
    bench_subdir_name(sub, sizeof sub, op);
    bench_file_name(name, sizeof name, op);
    for (int e = 0; e < BENCH_EVENTS_PER_OP; ++e)
      total += dir_len + 1 + strlen(sub) + 1 + 1 + strlen(bench_op_event_names[e]) + 1 + strlen(name) + 1;
  }
  return total;
}

#endif
