/* Fault injection for the fault tests: an LD_PRELOAD library that makes chosen libc calls fail
 * the way the system makes them fail, without changing the system.
 *
 * Configured by the environment of the process it is preloaded into (read once, at load):
 *   FAULT_ADD_WATCH_ENOSPC_AFTER=N  inotify_add_watch() succeeds N times, then fails with ENOSPC
 *   FAULT_INIT_ERRNO=E              inotify_init() and inotify_init1() fail with errno E (a number)
 *   FAULT_READ_EINTR=1              every other read() of an inotify descriptor fails with EINTR
 *                                   before reading anything
 *   FAULT_WRITE_STDOUT=E            write() to fd 1 fails with errno E (a number) once
 *   FAULT_WRITE_AFTER=BYTES         ... bytes have been written to fd 1 (default 0); the write
 *                                   that crosses the limit is cut short at it, as a full disk does
 *   FAULT_CHMOD_ON_OPEN=ROOT:DIR    when ROOT is opened as a directory (openat/open/opendir, any
 *                                   number of trailing '/'), chmod(DIR, 0) right after: DIR turns
 *                                   unreadable in the middle of a walk of ROOT
 *   FAULT_LOG=FILE                  one line per injected fault ("add_watch ENOSPC", "read EINTR",
 *                                   ...), appended, so that a test can check the fault happened
 * Only calls made through the PLT are seen: glibc's stdio writes and opendir()'s own open are not.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static long add_watch_limit = -1; /* -1: no fault */
static atomic_long add_watch_calls;
static int init_errno;
static int read_eintr;
static int write_errno;
static long write_after;
static atomic_long written;
static atomic_int write_failed;
static char chmod_root[4096];
static char chmod_dir[4096];
static atomic_int chmod_done;
static char log_path[4096];

#define MAX_INOTIFY_FDS 64
static atomic_int inotify_fds[MAX_INOTIFY_FDS];
static atomic_long read_calls;

static ssize_t (*real_read)(int, void*, size_t);
static ssize_t (*real_write)(int, const void*, size_t);
static int (*real_inotify_init)(void);
static int (*real_inotify_init1)(int);
static int (*real_inotify_add_watch)(int, const char*, uint32_t);
static int (*real_openat)(int, const char*, int, ...);
static int (*real_open)(const char*, int, ...);
static DIR* (*real_opendir)(const char*);

static void resolve(void) {
  if (real_read) return;
  real_read = (ssize_t(*)(int, void*, size_t))dlsym(RTLD_NEXT, "read");
  real_write = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
  real_inotify_init = (int (*)(void))dlsym(RTLD_NEXT, "inotify_init");
  real_inotify_init1 = (int (*)(int))dlsym(RTLD_NEXT, "inotify_init1");
  real_inotify_add_watch = (int (*)(int, const char*, uint32_t))dlsym(RTLD_NEXT, "inotify_add_watch");
  real_openat = (int (*)(int, const char*, int, ...))dlsym(RTLD_NEXT, "openat");
  real_open = (int (*)(const char*, int, ...))dlsym(RTLD_NEXT, "open");
  real_opendir = (DIR * (*)(const char*)) dlsym(RTLD_NEXT, "opendir");
}

/* Calls may come before the constructor (other libraries' initialisers): resolve on demand. */
#define REAL(f) (resolve(), real_##f)

static void note(const char* what) {
  if (!log_path[0]) return;
  int fd = REAL(openat)(AT_FDCWD, log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char line[256];
  int n = snprintf(line, sizeof line, "%s\n", what);
  if (n > 0) REAL(write)(fd, line, (size_t)n);
  close(fd);
}

static long env_long(const char* name, long dflt) {
  const char* v = getenv(name);
  return v && *v ? strtol(v, NULL, 10) : dflt;
}

__attribute__((constructor)) static void faultshim_init(void) {
  resolve();
  add_watch_limit = env_long("FAULT_ADD_WATCH_ENOSPC_AFTER", -1);
  init_errno = (int)env_long("FAULT_INIT_ERRNO", 0);
  read_eintr = (int)env_long("FAULT_READ_EINTR", 0);
  write_errno = (int)env_long("FAULT_WRITE_STDOUT", 0);
  write_after = env_long("FAULT_WRITE_AFTER", 0);
  const char* c = getenv("FAULT_CHMOD_ON_OPEN");
  if (c) {
    const char* colon = strrchr(c, ':');
    if (colon && (size_t)(colon - c) < sizeof chmod_root) {
      memcpy(chmod_root, c, (size_t)(colon - c));
      chmod_root[colon - c] = 0;
      snprintf(chmod_dir, sizeof chmod_dir, "%s", colon + 1);
    }
  }
  const char* l = getenv("FAULT_LOG");
  if (l) snprintf(log_path, sizeof log_path, "%s", l);
  for (int i = 0; i < MAX_INOTIFY_FDS; ++i) atomic_store(&inotify_fds[i], -1);
}

static void remember_inotify_fd(int fd) {
  if (fd < 0) return;
  for (int i = 0; i < MAX_INOTIFY_FDS; ++i) {
    int expect = -1;
    if (atomic_compare_exchange_strong(&inotify_fds[i], &expect, fd)) return;
  }
}

static int is_inotify_fd(int fd) {
  for (int i = 0; i < MAX_INOTIFY_FDS; ++i)
    if (atomic_load(&inotify_fds[i]) == fd) return 1;
  return 0;
}

int inotify_init(void) {
  if (init_errno) {
    note("inotify_init errno");
    errno = init_errno;
    return -1;
  }
  int fd = REAL(inotify_init)();
  remember_inotify_fd(fd);
  return fd;
}

int inotify_init1(int flags) {
  if (init_errno) {
    note("inotify_init1 errno");
    errno = init_errno;
    return -1;
  }
  int fd = REAL(inotify_init1)(flags);
  remember_inotify_fd(fd);
  return fd;
}

int inotify_add_watch(int fd, const char* path, uint32_t mask) {
  if (add_watch_limit >= 0 && atomic_fetch_add(&add_watch_calls, 1) >= add_watch_limit) {
    note("add_watch ENOSPC");
    errno = ENOSPC;
    return -1;
  }
  return REAL(inotify_add_watch)(fd, path, mask);
}

ssize_t read(int fd, void* buf, size_t n) {
  if (read_eintr && is_inotify_fd(fd) && (atomic_fetch_add(&read_calls, 1) & 1) == 0) {
    note("read EINTR");
    errno = EINTR;
    return -1;
  }
  return REAL(read)(fd, buf, n);
}

ssize_t __read_chk(int fd, void* buf, size_t n, size_t buflen) {
  (void)buflen;
  return read(fd, buf, n);
}

/* fd 1, or another open file description of the same file (inotifywait writes to a pipe through
 * its own non-blocking one, opened from /proc/self/fd/1). */
static int is_stdout(int fd) {
  if (fd == 1) return 1;
  struct stat a, b;
  return fstat(fd, &a) == 0 && fstat(1, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

ssize_t write(int fd, const void* buf, size_t n) {
  if (write_errno && is_stdout(fd)) {
    if (atomic_load(&write_failed)) {
      errno = write_errno;
      return -1;
    }
    long before = atomic_load(&written);
    if (before >= write_after) {
      atomic_store(&write_failed, 1);
      note("write errno");
      errno = write_errno;
      return -1;
    }
    if (before + (long)n > write_after) n = (size_t)(write_after - before); /* cut short, like a full disk */
    ssize_t r = REAL(write)(fd, buf, n);
    if (r > 0) atomic_fetch_add(&written, r);
    return r;
  }
  return REAL(write)(fd, buf, n);
}

static int same_dir(const char* path) {
  size_t a = strlen(path), b = strlen(chmod_root);
  while (a > 1 && path[a - 1] == '/') --a;
  while (b > 1 && chmod_root[b - 1] == '/') --b;
  return a == b && memcmp(path, chmod_root, a) == 0;
}

static void maybe_chmod(const char* path, int ok) {
  if (ok && chmod_root[0] && same_dir(path) && !atomic_exchange(&chmod_done, 1)) {
    if (chmod(chmod_dir, 0) == 0) note("chmod 0");
  }
}

int openat(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  int fd = REAL(openat)(dirfd, path, flags, mode);
  if (dirfd == AT_FDCWD || path[0] == '/') maybe_chmod(path, fd >= 0 && (flags & O_DIRECTORY));
  return fd;
}

int openat64(int dirfd, const char* path, int flags, ...) __attribute__((alias("openat")));

int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  int fd = REAL(open)(path, flags, mode);
  maybe_chmod(path, fd >= 0 && (flags & O_DIRECTORY));
  return fd;
}

int open64(const char* path, int flags, ...) __attribute__((alias("open")));

DIR* opendir(const char* path) {
  DIR* d = REAL(opendir)(path);
  maybe_chmod(path, d != NULL);
  return d;
}
