#include "iwtest.hpp"

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace iwtest {

std::string program() {
  const char* p = std::getenv("IWTEST_PROGRAM");
  return p && *p ? p : "inotifywait";
}

int inotify_watches(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  int count = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + e->d_name);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("inotify wd:", 0) == 0 || line.rfind("fanotify ino:", 0) == 0) ++count;
  }
  ::closedir(d);
  return count;
}

bool ended(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(stat, s);
  auto close_paren = s.rfind(')');
  return s.empty() || (close_paren != std::string::npos && s.size() > close_paren + 2 && s[close_paren + 2] == 'Z');
}

namespace {
char state_of(const std::string& stat_path) {
  std::ifstream stat(stat_path);
  std::string s;
  std::getline(stat, s);
  auto close_paren = s.rfind(')');
  if (close_paren == std::string::npos || s.size() <= close_paren + 2) return '?';
  return s[close_paren + 2];
}
}  // namespace

bool wait_stopped(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = testsupport::Clock::now() + timeout;
  std::string task = "/proc/" + std::to_string(pid) + "/task";
  while (testsupport::Clock::now() < deadline) {
    bool all = true;
    DIR* d = ::opendir(task.c_str());
    if (!d) return false;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      char st = state_of(task + "/" + e->d_name + "/stat");
      if (st != 'T' && st != 't') all = false;
    }
    ::closedir(d);
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

bool wait_watches(testsupport::Process& p, int n, std::chrono::milliseconds timeout) {
  auto deadline = testsupport::Clock::now() + timeout;
  while (testsupport::Clock::now() < deadline) {
    if (inotify_watches(p.pid()) >= n) return true;
    if (ended(p.pid())) return false;  // an ended process holds no watches
    p.pump(std::chrono::milliseconds(10));
  }
  return false;
}

bool wait_watches_at_most(testsupport::Process& p, int n, std::chrono::milliseconds timeout) {
  auto deadline = testsupport::Clock::now() + timeout;
  while (testsupport::Clock::now() < deadline) {
    if (inotify_watches(p.pid()) <= n) return true;
    p.pump(std::chrono::milliseconds(10));
  }
  return false;
}

void sh(const std::string& dir, const std::string& script) {
  testsupport::Process::Options o;
  o.cwd = dir;
  auto r = testsupport::run({"/bin/sh", "-c", "set -e\n" + script}, o);
  ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << "script failed: " << script << "\n" << r.err;
}

}  // namespace iwtest
