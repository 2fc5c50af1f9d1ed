/* bench_floor DIR: the floor for recursive setup, for comparison only.
 *
 * The least a recursive watcher can do: one thread, for each directory openat(), add the watch
 * (IN_ALL_EVENTS, by path), getdents64() it, close; no table, no lstat(). It speaks like
 * inotifywait on stderr ("Watches established.") and then sleeps without reading events, so that
 * bench_run measures it exactly as it measures the tools. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
  unsigned long long d_ino;
  long long d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static int ifd;
static char buf[64 * 1024];
static char path[8192];
static unsigned long watches;

static void walk(int pfd, const char* name, size_t len) {
  int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  if (inotify_add_watch(ifd, path, IN_ALL_EVENTS | IN_ONLYDIR) < 0) {
    fprintf(stderr, "bench_floor: %s: %s\n", path, strerror(errno));
    exit(1);
  }
  ++watches;
  /* Subdirectory names of this directory, collected before recursing (buf is shared). */
  char* names = NULL;
  size_t used = 0, cap = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      struct linux_dirent64* d = (struct linux_dirent64*)(buf + off);
      off += d->d_reclen;
      if (d->d_type != DT_DIR || strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
      size_t l = strlen(d->d_name) + 1;
      if (used + l > cap) {
        cap = (used + l) * 2;
        names = realloc(names, cap);
        if (!names) exit(1);
      }
      memcpy(names + used, d->d_name, l);
      used += l;
    }
  }
  for (size_t i = 0; i < used;) {
    const char* child = names + i;
    size_t l = strlen(child);
    path[len] = '/';
    memcpy(path + len + 1, child, l + 1);
    walk(fd, child, len + 1 + l);
    path[len] = '\0';
    i += l + 1;
  }
  free(names);
  close(fd);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: bench_floor DIR\n");
    return 2;
  }
  ifd = inotify_init1(IN_CLOEXEC);
  if (ifd < 0) return 1;
  fputs("Setting up watches.\n", stderr);
  size_t len = strlen(argv[1]);
  memcpy(path, argv[1], len + 1);
  walk(AT_FDCWD, argv[1], len);
  fputs("Watches established.\n", stderr);
  for (;;) pause();
}
