/* bench_mktree ROOT NDIRS FILES_PER_DIR FANOUT
 *
 * Creates a balanced tree of NDIRS directories under ROOT (ROOT itself not counted), FANOUT
 * subdirectories per directory, numbered breadth first: directory k (1..NDIRS) is child number
 * (k-1) % FANOUT of directory (k-1) / FANOUT (0 is ROOT), named d<(k-1) % FANOUT>. Every directory,
 * ROOT included, gets FILES_PER_DIR empty files file0, file1, ...  Prints the path of the last,
 * deepest directory relative to ROOT ("d9/d9/d9/d9/d9"). With FANOUT 10, 100,000 directories are
 * five levels deep. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long fanout;

/* The path of directory k relative to ROOT, written to out (which must hold PATH_MAX bytes). */
static size_t rel_path(unsigned long k, char* out) {
  if (k == 0) {
    out[0] = '\0';
    return 0;
  }
  size_t n = rel_path((k - 1) / fanout, out);
  return n + (size_t)sprintf(out + n, "%sd%lu", n ? "/" : "", (k - 1) % fanout);
}

static void make_files(int dfd, unsigned long files, const char* where) {
  for (unsigned long f = 0; f < files; ++f) {
    char name[32];
    snprintf(name, sizeof name, "file%lu", f);
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      fprintf(stderr, "bench_mktree: %s/%s: %s\n", where, name, strerror(errno));
      exit(1);
    }
    close(fd);
  }
}

static unsigned long parse(const char* s) {
  char* end = NULL;
  unsigned long v = strtoul(s, &end, 10);
  if (*s == '\0' || *end != '\0') {
    fprintf(stderr, "bench_mktree: bad number '%s'\n", s);
    exit(2);
  }
  return v;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: bench_mktree ROOT NDIRS FILES_PER_DIR FANOUT\n");
    return 2;
  }
  const char* root = argv[1];
  unsigned long ndirs = parse(argv[2]), files = parse(argv[3]);
  fanout = parse(argv[4]);
  if (fanout < 2) {
    fprintf(stderr, "bench_mktree: FANOUT must be at least 2\n");
    return 2;
  }
  if (mkdir(root, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "bench_mktree: %s: %s\n", root, strerror(errno));
    return 1;
  }
  int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) {
    fprintf(stderr, "bench_mktree: %s: %s\n", root, strerror(errno));
    return 1;
  }
  make_files(rfd, files, root);
  static char rel[4096];
  for (unsigned long k = 1; k <= ndirs; ++k) {
    rel_path(k, rel);
    if (mkdirat(rfd, rel, 0755) != 0 && errno != EEXIST) {
      fprintf(stderr, "bench_mktree: %s/%s: %s\n", root, rel, strerror(errno));
      return 1;
    }
    if (files) {
      int dfd = openat(rfd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0) {
        fprintf(stderr, "bench_mktree: %s/%s: %s\n", root, rel, strerror(errno));
        return 1;
      }
      make_files(dfd, files, rel);
      close(dfd);
    }
  }
  rel_path(ndirs, rel);
  printf("%s\n", rel);
  return 0;
}
