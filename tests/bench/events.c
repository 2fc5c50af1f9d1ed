/* bench_events: the event generators of the benchmark suite (scripts/bench).
 *
 *   bench_events prepare DIR                 create DIR and its subdirectories s0..s3
 *   bench_events mixed DIR OPS RATE          OPS operations of five events each (bench_common.h);
 *                                            RATE events per second, 0 = as fast as possible
 *   bench_events race DIR TRIALS GAP_US      TRIALS times: mkdir -p DIR/t<i>/a/b/c, then
 *                                            creat DIR/t<i>/a/b/c/f; GAP_US microseconds between
 *
 * The directories are held with O_PATH descriptors, which generate no events of their own, so
 * the watcher sees exactly the events listed in bench_common.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"

static void die(const char* what, const char* path) {
  fprintf(stderr, "bench_events: %s %s: %s\n", what, path, strerror(errno));
  exit(1);
}

static unsigned long parse_ulong(const char* s, const char* what) {
  char* end = NULL;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno != 0) {
    fprintf(stderr, "bench_events: bad %s '%s'\n", what, s);
    exit(2);
  }
  return v;
}

static void make_dir(const char* path) {
  if (mkdir(path, 0755) != 0 && errno != EEXIST) die("mkdir", path);
}

static int prepare(const char* dir) {
  make_dir(dir);
  char path[4096];
  for (unsigned long i = 0; i < BENCH_SUBDIRS; ++i) {
    char sub[32];
    bench_subdir_name(sub, sizeof sub, i);
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    make_dir(path);
  }
  return 0;
}

static void add_ns(struct timespec* t, long long ns) {
  long long total = (long long)t->tv_nsec + ns;
  t->tv_sec += (time_t)(total / 1000000000LL);
  t->tv_nsec = (long)(total % 1000000000LL);
}

static int mixed(const char* dir, unsigned long ops, unsigned long rate) {
  int dfd[BENCH_SUBDIRS];
  char path[4096];
  for (unsigned long i = 0; i < BENCH_SUBDIRS; ++i) {
    char sub[32];
    bench_subdir_name(sub, sizeof sub, i);
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    dfd[i] = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd[i] < 0) die("open", path);
  }
  /* Paced: operation i is due at start + i * 5 / rate seconds; sleep only when ahead, so the
   * events come in small bursts at the requested average rate. */
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  const long long ns_per_op = rate ? (long long)(1e9 * BENCH_EVENTS_PER_OP / (double)rate) : 0;
  struct timespec due = start;
  for (unsigned long op = 0; op < ops; ++op) {
    if (rate && op % 16 == 0) {
      due = start;
      add_ns(&due, ns_per_op * (long long)op);
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
    }
    char name[32];
    bench_file_name(name, sizeof name, op);
    int d = dfd[op % BENCH_SUBDIRS];
    int fd = openat(d, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644); /* CREATE, OPEN */
    if (fd < 0) die("create", name);
    if (write(fd, "x", 1) != 1) die("write", name);     /* MODIFY */
    close(fd);                                          /* CLOSE_WRITE */
    if (unlinkat(d, name, 0) != 0) die("unlink", name); /* DELETE */
  }
  return 0;
}

static int race(const char* dir, unsigned long trials, unsigned long gap_us) {
  char path[4096];
  for (unsigned long i = 0; i < trials; ++i) {
    /* mkdir -p t<i>/a/b/c: every level is new. */
    int n = snprintf(path, sizeof path, "%s/t%05lu", dir, i);
    make_dir(path);
    static const char* const parts[] = {"/a", "/b", "/c"};
    for (int p = 0; p < 3; ++p) {
      n += snprintf(path + n, sizeof path - (size_t)n, "%s", parts[p]);
      make_dir(path);
    }
    snprintf(path + n, sizeof path - (size_t)n, "/f");
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) die("creat", path);
    close(fd);
    if (gap_us) {
      struct timespec ts = {(time_t)(gap_us / 1000000), (long)(gap_us % 1000000) * 1000};
      nanosleep(&ts, NULL);
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "prepare") == 0) return prepare(argv[2]);
  if (argc == 5 && strcmp(argv[1], "mixed") == 0)
    return mixed(argv[2], parse_ulong(argv[3], "OPS"), parse_ulong(argv[4], "RATE"));
  if (argc == 5 && strcmp(argv[1], "race") == 0)
    return race(argv[2], parse_ulong(argv[3], "TRIALS"), parse_ulong(argv[4], "GAP_US"));
  fprintf(stderr,
          "usage: bench_events prepare DIR\n"
          "       bench_events mixed DIR OPS RATE\n"
          "       bench_events race DIR TRIALS GAP_US\n");
  return 2;
}
