// Listing incoming/ and fingerprinting a drop directory; I/O errors make a drop unreadable,
// never an exception.
#include "drops.hpp"

#include <ecluse/core/fs.hpp>
#include <ecluse/core/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <system_error>

namespace ecluse::watch::detail {

namespace stdfs = std::filesystem;

std::vector<stdfs::path> drop_dirs(const stdfs::path& incoming) {
  std::vector<stdfs::path> out;
  std::error_code ec;
  for (stdfs::directory_iterator it(incoming, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    std::error_code sec;
    if (name.empty() || name.front() == '.' || !it->is_directory(sec) || it->is_symlink(sec)) {
      continue;
    }
    out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool has_marker(const stdfs::path& dir) {
  struct stat st {};

  return ::lstat((dir / "READY").c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string line_of(const stdfs::path& dir) {
  auto text = fs::read_file_bounded(
      dir / "drop.json", 1U << 20U, reason::k_watch_failed, reason::k_watch_failed);
  if (!text) {
    return {};
  }
  const auto doc = json::parse_strict(*text);
  if (doc.failure != json::ParseFailure::none || !doc.value.is_object()) {
    return {};
  }
  std::string line;
  for (const char* key : {"vendor", "product", "channel"}) {
    const auto it = doc.value.find(key);
    if (it == doc.value.end() || !it->is_string()) {
      return {};
    }
    line += (line.empty() ? "" : "/") + it->get<std::string>();
  }
  return line;
}

namespace {

std::int64_t ctime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
}

}  // namespace

Fingerprint fingerprint(const stdfs::path& dir, std::uint64_t max_entries) {
  Fingerprint fp;

  struct stat top {};

  if (::lstat(dir.c_str(), &top) != 0) {
    fp.readable = false;
    return fp;
  }
  fp.newest_ns = ctime_ns(top);
  std::error_code ec;
  stdfs::recursive_directory_iterator it(dir, stdfs::directory_options::none, ec);
  for (; !ec && it != stdfs::recursive_directory_iterator() && fp.entries < max_entries;
       it.increment(ec)) {
    struct stat st {};

    if (::lstat(it->path().c_str(), &st) != 0) {
      continue;  // gone meanwhile: the next tick sees the change
    }
    ++fp.entries;
    fp.bytes += S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
    fp.newest_ns = std::max(fp.newest_ns, ctime_ns(st));
  }
  fp.readable = !ec;
  return fp;
}

}  // namespace ecluse::watch::detail
