#include <toolcommon/program.hpp>

namespace toolcommon {

Program program_for(const char* argv0, std::string_view tool) {
  std::string_view base = argv0 ? std::string_view(argv0) : std::string_view();
  if (const auto slash = base.rfind('/'); slash != std::string_view::npos) base.remove_prefix(slash + 1);
  const bool fsnotify = base.starts_with("fsnotify");
  Program p;
  p.name = std::string(fsnotify ? "fsnotify" : "inotify") + std::string(tool);
  // Inode marks: what an fsnotifywait without -S watches (upstream's default too).
  if (fsnotify) p.default_backend = libwatch::BackendKind::fanotify_inode;
  return p;
}

}  // namespace toolcommon
