// Helpers for the inotifywait tests: readiness by watch count, shell actions.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "support.hpp"

namespace iwtest {

// The program under test: inotifywait, or the one IWTEST_PROGRAM names (fsnotifywait: the same
// tests with fanotify as the default backend, registered in tests/inotifywait/CMakeLists.txt).
std::string program();

// Number of inotify watches and fanotify inode marks the process holds right now (from
// /proc/<pid>/fdinfo).
int inotify_watches(pid_t pid);

// Waits until the process holds at least n inotify watches or fanotify marks (a fact, for runs where
// "Watches established." is not printed: -q, -s). False if the deadline passes first.
bool wait_watches(testsupport::Process& p, int n, std::chrono::milliseconds timeout = testsupport::kDeadline);

// Waits until the process holds at most n inotify watches (watches were dropped).
bool wait_watches_at_most(testsupport::Process& p, int n, std::chrono::milliseconds timeout = testsupport::kDeadline);

// True once the process has ended (a zombie not yet reaped counts as ended).
bool ended(pid_t pid);

// After SIGSTOP: waits until every thread of the process is stopped.
bool wait_stopped(pid_t pid, std::chrono::milliseconds timeout = testsupport::kDeadline);

// Runs a /bin/sh script in dir; fails the test if it does not exit 0.
void sh(const std::string& dir, const std::string& script);

}  // namespace iwtest
