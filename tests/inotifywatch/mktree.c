/* mktree: create a directory tree of given fan-outs quickly (for setup-time measurements).
 *   mktree ROOT N1 [N2 ...]   creates ROOT/d0..d(N1-1)/d0..d(N2-1)/...
 * mktree /dev/shm/t 100 100 10 makes 110,100 directories. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int levels;
static long fanout[16];
static long made;

static int build(char* path, size_t len, int level) {
  if (level == levels) return 0;
  for (long i = 0; i < fanout[level]; ++i) {
    int n = snprintf(path + len, 4096 - len, "/d%ld", i);
    if (n < 0 || (size_t)n >= 4096 - len) return -1;
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
      perror(path);
      return -1;
    }
    ++made;
    if (build(path, len + (size_t)n, level + 1) != 0) return -1;
  }
  path[len] = '\0';
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3 || argc - 2 > 16) {
    fprintf(stderr, "usage: %s ROOT N1 [N2 ...]\n", argv[0]);
    return 2;
  }
  levels = argc - 2;
  for (int i = 0; i < levels; ++i) fanout[i] = strtol(argv[i + 2], NULL, 10);
  char path[4096];
  snprintf(path, sizeof path, "%s", argv[1]);
  if (mkdir(path, 0755) != 0 && errno != EEXIST) {
    perror(path);
    return 1;
  }
  if (build(path, strlen(path), 0) != 0) return 1;
  printf("%ld\n", made);
  return 0;
}
