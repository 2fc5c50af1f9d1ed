/* evflood DIR COUNT: queue COUNT inotify events (IN_ATTRIB) for DIR's watchers, fast.
 *
 * The overflow test stops the watcher and needs more events than the kernel queue holds
 * (/proc/sys/fs/inotify/max_queued_events), whatever that limit is on the machine. Two
 * files are chmod'ed in turn: the kernel merges an event only with an identical last
 * queued event (inotify(7)), so alternating names keeps every event. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: evflood DIR COUNT\n");
    return 2;
  }
  char* end = NULL;
  long long count = strtoll(argv[2], &end, 10);
  if (*argv[2] == '\0' || *end != '\0' || count < 0) {
    fprintf(stderr, "evflood: bad COUNT '%s'\n", argv[2]);
    return 2;
  }
  int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    fprintf(stderr, "evflood: %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  const char* names[2] = {"flood-a", "flood-b"};
  for (int i = 0; i < 2; i++) {
    int fd = openat(dir, names[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      fprintf(stderr, "evflood: %s/%s: %s\n", argv[1], names[i], strerror(errno));
      return 1;
    }
    close(fd);
  }
  for (long long n = 0; n < count; n++) {
    /* 0644 and 0640 alternate per file so that every call is a real change */
    mode_t mode = ((n / 2) % 2) ? 0640 : 0644;
    if (fchmodat(dir, names[n % 2], mode, 0) != 0) {
      fprintf(stderr, "evflood: chmod: %s\n", strerror(errno));
      return 1;
    }
  }
  /* leave both files in a known state */
  fchmodat(dir, names[0], 0644, 0);
  fchmodat(dir, names[1], 0644, 0);
  close(dir);
  return 0;
}
