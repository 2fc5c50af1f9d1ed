#include <toolcommon/program.hpp>

namespace toolcommon {

void apply_backend_option(libwatch::BackendKind& backend, char option) noexcept {
  using libwatch::BackendKind;
  if (option == 'S') backend = BackendKind::fanotify_filesystem;
  if (backend == BackendKind::fanotify_filesystem) return;
  backend = option == 'I' ? BackendKind::inotify : BackendKind::fanotify_inode;
}

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
