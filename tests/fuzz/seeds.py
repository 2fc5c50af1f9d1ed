#!/usr/bin/env python3
"""Writes the hand-made seed inputs of each fuzz target into corpus/<target>/seed-*.

The corpus directories also hold inputs found by fuzzing (minimised with `scripts/fuzz --merge`);
this script only (re)writes the seed-* files. Input layouts are described in each fuzz_*.cpp."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def z(*texts):
    return b"".join(t.encode("utf-8", "surrogateescape") if isinstance(t, str) else t for t in texts)


def nul(*fields):
    return b"\0".join(f.encode() if isinstance(f, str) else f for f in fields)


def u32(v):
    return struct.pack(">I", v)


def write(target, seeds):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith("seed-"):
            os.unlink(os.path.join(d, name))
    for i, s in enumerate(seeds):
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(s)


IN_CREATE, IN_ISDIR, IN_CLOSE_WRITE, IN_MOVED_FROM, IN_Q_OVERFLOW = 0x100, 0x40000000, 0x8, 0x40, 0x4000


def event(path, name, mask, cookie=0):
    return nul(path, name) + b"\0" + u32(mask) + u32(cookie)


formats = [
    ("%w %,e %f", ""), ("%w%f%0", ""), ("[%w][%f][%e][%:e][%Xe][%c][%%][%z][%0][%n][%we][%.e%T]", "%Y"),
    ("%:e|%Xe|%%e|%%%e|% e|%e%", ""), ("abc%", ""), ("%T", ""), ("%T %w", "%H:%M:%S"), ("%%T", "x"),
    ("%", ""), ("", ""), ("%e%", ""), ("%ee", ""), ("%c%c", ""), ("%" + "X" * 300 + "e", ""),
]
seeds = []
for i, (f, t) in enumerate(formats):
    flags = bytes([i & 1])
    seeds.append(flags + nul(f, t) + b"\0" + event("d/", "a", IN_CREATE) + event("d/sub/", "x,y \"z\"\n", IN_MOVED_FROM | IN_ISDIR, 0xf43c)
                 + event("", "", IN_Q_OVERFLOW) + event(" lead/", "trail ", 0))
write("format", seeds)

write("csv", [b"", b"plain", b"a,b", b'say "hi"', b" lead", b"trail ", b"multi\nline", b'","', b"\xff\xfe", b" "])

write("events", [u32(0x100) + b"," + x for x in [
    b"create", b"CREATE", b"modify,", b",modify", b"a,,b", b"", b",", b"close", b"move", b"all_events",
    b"isdir,oneshot,q_overflow,ignored", b"Close_Write,close_nowrite", b"modify,foo", b"unmount,delete_self,move_self",
]] + [u32(0xffffffff) + b":", u32(0) + b" ", u32(0x40000fff) + b","])

write("fromfile", [bytes([0]) + x for x in [
    b"d\n", b"d1\nd2\n@d1/x\n", b"\n\n@\n", b"a" * 5000 + b"\n", b"x\0y\nz\n", b"no-newline-at-end", b"@\n@@x\n",
]] + [bytes([2]) + nul("op1", "@op2") + b"\0" + b"f\n"])

wait_argvs = [
    ["-m", "-r", "d"], ["-mrq", "d"], ["-t5", "d"], ["-t", "-5", "d"], ["-t", "4294967296", "d"], ["--timeout=", "d"],
    ["-e", "modify,foo", "d"], ["--format", "%w%f", "--no-newline", "d"], ["--format", "%T", "d"],
    ["--timefmt", "%Y", "d"], ["-c", "--format", "x", "d"], ["-d", "d"], ["-d", "-o", "out", "d"],
    ["--exclude", "x", "--include", "y", "d"], ["--exclude", "(", "d"], ["--fromfile", "-", "--fromfile", "x"],
    ["-o", "a", "-o", "b"], ["--mon", "d"], ["--ex", "d"], ["--e", "x"], ["-x"], ["--help"], ["-h"], ["--filename"],
    ["--", "-m"], ["-"], [], ["--format=%e", "--no-newline"], ["-qq", "-e", "", "d"],
]
watch_argvs = [
    ["-r", "d"], ["-z", "-a", "modify", "d"], ["-d", "close", "d"], ["-d", "move", "d"], ["-a", "modify,access", "d"],
    ["-a", "total", "-a", "total"], ["-d", "x", "-a", "y"], ["-e", "modify", "-a", "access", "d"], ["--live", "d"],
    ["--live=0.5", "d"], ["--live=0", "d"], ["--live=1e3", "d"], ["--live", "2", "d"], ["-v", "-t", "3", "d"],
    ["--i", "x"], ["--f", "x"], ["-a"], ["--help"], ["-a", "ignored", "-e", "ignored", "d"],
]
write("cli_inotifywait", [bytes([i & 1]) + nul(*a) for i, a in enumerate(wait_argvs)])
write("cli_inotifywatch", [bytes([i & 1]) + nul(*a) for i, a in enumerate(watch_argvs)])
write("getopt", [bytes([(i & 1)]) + nul(*a) for i, a in enumerate(wait_argvs)] +
      [bytes([2 | (i & 1)]) + nul(*a) for i, a in enumerate(watch_argvs)] +
      [bytes([0]) + nul("--=x"), bytes([0]) + nul("-", "--", "-m"), bytes([2]) + nul("--live=", "--li")])

# watch_table: op bytes (see fuzz_watch_table.cpp); a few hand-written sequences.
wt = [
    bytes([0, 1, 0, 1]) + bytes([1, 0, 1, 1, 1, 0, 2, 1, 1, 1, 0, 3]) + bytes([3, 1, 0, 4]) + bytes([4, 1]) + bytes([6, 0]),
    bytes([0, 1, 1, 1]) + bytes([1, 0, 1, 2]) * 6 + bytes([7, 3, 0, 1, 2]) + bytes([5, 2]) + bytes([3, 3, 1, 0]),
    bytes([0, 0xf5, 1, 1]) + bytes([1, 0, 0xf1, 200, 0]) * 4 + bytes([3, 2, 0, 0xf0, 255]) * 30,
    bytes([0, 1, 2, 1, 0, 0xe5, 0, 3, 1]) + bytes([2, 0, 1, 5, 2, 1, 1, 6]) * 3 + bytes([4, 0, 6, 0]),
]
write("watch_table", wt)

# watcher: op bytes (see fuzz_watcher.cpp): mkdir, rename, rm -r, out, in, read.
write("watcher", [
    bytes([0, 0, 0, 0, 0, 1, 2, 1, 0, 6, 3, 1, 4, 1, 5, 0, 0, 6, 2, 2, 1]),
    bytes([1, 0, 1, 1, 1, 0, 2, 2, 0, 2, 3, 1, 6, 2, 1, 2]),
    bytes([0, 0, 0, 4, 1, 5, 0, 1, 0]),
    bytes([0, 0, 1, 0, 0, 1, 2, 1, 1, 2, 3, 2, 3, 1]),
    bytes([1, 0, 1, 2, 1, 0, 4, 1, 0, 5, 1, 1, 6]),
])
