/* bench_floor [-m -r] DIR: the floor for recursive setup and for the drain, for comparison only.
 *
 * The least a recursive watcher can do: one thread, for each directory openat(), add the watch
 * (IN_ALL_EVENTS, by path), getdents64() it, close; no table, no lstat(). It speaks like
 * inotifywait on stderr ("Watches established."). Without -m it then sleeps without reading
 * events, so that bench_run measures its setup exactly as it measures the tools'. With -m -r (the
 * drain): it keeps each watch's path (one malloc'd string per wd, looked up by wd) and prints
 * every event in inotifywait's default format, one read() of the queue then one write() of its
 * lines, blocking; no move tracking, no new-directory watches. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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
static int monitor;    /* -m: keep the paths and print events */
static char** wd_path; /* wd -> "DIR/sub/" (monitor only) */
static size_t wd_path_cap;

static void keep_path(int wd, size_t len) {
  if ((size_t)wd >= wd_path_cap) {
    size_t cap = wd_path_cap ? wd_path_cap : 1024;
    while (cap <= (size_t)wd) cap *= 2;
    wd_path = realloc(wd_path, cap * sizeof *wd_path);
    if (!wd_path) exit(1);
    memset(wd_path + wd_path_cap, 0, (cap - wd_path_cap) * sizeof *wd_path);
    wd_path_cap = cap;
  }
  char* p = malloc(len + 2);
  if (!p) exit(1);
  memcpy(p, path, len);
  p[len] = '/';
  p[len + 1] = '\0';
  wd_path[wd] = p;
}

static void walk(int pfd, const char* name, size_t len) {
  int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  int wd = inotify_add_watch(ifd, path, IN_ALL_EVENTS | IN_ONLYDIR);
  if (wd < 0) {
    fprintf(stderr, "bench_floor: %s: %s\n", path, strerror(errno));
    exit(1);
  }
  ++watches;
  if (monitor) keep_path(wd, len);
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

/* Event names in inotifywait's order ("CLOSE_WRITE,CLOSE"). */
static const struct {
  uint32_t mask;
  const char* name;
} names[] = {
    {IN_ACCESS, "ACCESS"},
    {IN_MODIFY, "MODIFY"},
    {IN_ATTRIB, "ATTRIB"},
    {IN_CLOSE_WRITE, "CLOSE_WRITE"},
    {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"},
    {IN_OPEN, "OPEN"},
    {IN_MOVED_FROM, "MOVED_FROM"},
    {IN_MOVED_TO, "MOVED_TO"},
    {IN_CREATE, "CREATE"},
    {IN_DELETE, "DELETE"},
    {IN_DELETE_SELF, "DELETE_SELF"},
    {IN_MOVE_SELF, "MOVE_SELF"},
    {IN_UNMOUNT, "UNMOUNT"},
    {IN_Q_OVERFLOW, "Q_OVERFLOW"},
    {IN_IGNORED, "IGNORED"},
    {IN_CLOSE, "CLOSE"},
    {IN_ISDIR, "ISDIR"},
};

static char* put(char* o, const char* s) {
  size_t l = strlen(s);
  memcpy(o, s, l);
  return o + l;
}

static void write_all(const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(STDOUT_FILENO, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      exit(1);
    }
    p += w;
    n -= (size_t)w;
  }
}

/* One read() of the queue, its lines formatted into out, one write(). */
static void print_events(void) {
  static char ev[64 * 1024] __attribute__((aligned(8)));
  static char out[4 * 64 * 1024 + sizeof path];
  for (;;) {
    ssize_t n = read(ifd, ev, sizeof ev);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) exit(1);
    char* o = out;
    for (ssize_t off = 0; off < n;) {
      const struct inotify_event* e = (const struct inotify_event*)(ev + off);
      off += (ssize_t)(sizeof *e + e->len);
      if (e->wd < 0 || (size_t)e->wd >= wd_path_cap || !wd_path[e->wd]) continue;
      if ((size_t)(out + sizeof out - o) < sizeof path + 512) { /* room for the longest line */
        write_all(out, (size_t)(o - out));
        o = out;
      }
      o = put(o, wd_path[e->wd]);
      *o++ = ' ';
      int first = 1;
      for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
        if (!(e->mask & names[i].mask)) continue;
        if (!first) *o++ = ',';
        o = put(o, names[i].name);
        first = 0;
      }
      *o++ = ' ';
      if (e->len) o = put(o, e->name);
      *o++ = '\n';
    }
    write_all(out, (size_t)(o - out));
  }
}

/* The walk's own opens, reads and closes of the directories it watched: not part of the drain. */
static void discard_queued(void) {
  static char ev[64 * 1024] __attribute__((aligned(8)));
  int flags = fcntl(ifd, F_GETFL);
  fcntl(ifd, F_SETFL, flags | O_NONBLOCK);
  while (read(ifd, ev, sizeof ev) > 0) {
  }
  fcntl(ifd, F_SETFL, flags);
}

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "-m") == 0 && strcmp(argv[2], "-r") == 0) {
    monitor = 1;
    argv += 2;
    argc -= 2;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: bench_floor [-m -r] DIR\n");
    return 2;
  }
  ifd = inotify_init1(IN_CLOEXEC);
  if (ifd < 0) return 1;
  fputs("Setting up watches.\n", stderr);
  size_t len = strlen(argv[1]);
  memcpy(path, argv[1], len + 1);
  walk(AT_FDCWD, argv[1], len);
  if (monitor) discard_queued();
  fputs("Watches established.\n", stderr);
  if (monitor) print_events();
  for (;;) pause();
}
