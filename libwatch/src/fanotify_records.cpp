#include "fanotify_records.hpp"

#include <fcntl.h>

#include <cstring>

namespace libwatch {

void parse_fid(const char* p, std::size_t len, bool named, FidInfo& out) {
  constexpr std::size_t kHead = sizeof(fanotify_event_info_header) + sizeof(__kernel_fsid_t);
  if (len < kHead + sizeof(file_handle)) return;
  file_handle fh;
  std::memcpy(&fh, p + kHead, sizeof fh);
  const std::size_t handle_end = kHead + sizeof fh + fh.handle_bytes;
  if (handle_end > len) return;
  out.present = true;
  out.key.assign(p + sizeof(fanotify_event_info_header), sizeof(__kernel_fsid_t));
  out.key.append(reinterpret_cast<const char*>(&fh.handle_type), sizeof fh.handle_type);
  out.key.append(p + kHead + sizeof fh, fh.handle_bytes);
  if (named) out.name = std::string_view(p + handle_end, ::strnlen(p + handle_end, len - handle_end));
}

void parse_record(std::span<const char> record, RecordFids& out) {
  fanotify_event_metadata md;
  if (record.size() < sizeof md) return;
  std::memcpy(&md, record.data(), sizeof md);
  for (std::size_t off = md.metadata_len; off + sizeof(fanotify_event_info_header) <= record.size();) {
    fanotify_event_info_header h;
    std::memcpy(&h, record.data() + off, sizeof h);
    if (h.len < sizeof h || off + h.len > record.size()) break;
    const char* p = record.data() + off;
    switch (h.info_type) {
      case FAN_EVENT_INFO_TYPE_DFID_NAME:
        parse_fid(p, h.len, true, out.dir);
        break;
      case FAN_EVENT_INFO_TYPE_DFID:
        parse_fid(p, h.len, false, out.dir);
        break;
      case FAN_EVENT_INFO_TYPE_FID:
        parse_fid(p, h.len, false, out.object);
        break;
      case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME:
        parse_fid(p, h.len, true, out.from);
        break;
      case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME:
        parse_fid(p, h.len, true, out.to);
        break;
      default:
        break;
    }
    off += h.len;
  }
}

std::optional<Naming> find_naming(std::span<const char> bytes, std::string_view key) {
  while (bytes.size() >= sizeof(fanotify_event_metadata)) {
    fanotify_event_metadata md;
    std::memcpy(&md, bytes.data(), sizeof md);
    if (md.event_len < sizeof md || md.event_len > bytes.size()) break;
    const std::span<const char> record = bytes.first(md.event_len);
    bytes = bytes.subspan(md.event_len);
    if (!(md.mask & FAN_ONDIR) || !(md.mask & (FAN_DELETE | FAN_RENAME))) continue;
    RecordFids f;
    parse_record(record, f);
    if (!f.object.present || f.object.key != key) continue;
    const FidInfo& where = (md.mask & FAN_RENAME) ? f.from : f.dir;
    if (where.present && !where.name.empty()) return Naming{.parent_key = where.key, .name = std::string(where.name)};
  }
  return std::nullopt;
}

}  // namespace libwatch
