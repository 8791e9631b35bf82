// Comparing the drop directory and payload/ with drop.json, before any byte is copied.
#include "payload_scan.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <set>
#include <string_view>

namespace ecluse::intake::detail {

namespace stdfs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 4> k_allowed{
    "drop.json", "drop.json.sig", "payload", "READY"};

std::string quoted(const std::string& s) {
  return json::dump_line(s);
}

}  // namespace

Status check_drop_layout(const stdfs::path& dir) {
  std::error_code ec;
  for (stdfs::directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
    if (ec) {
      break;
    }
    const auto name = it->path().filename().string();
    if (std::find(k_allowed.begin(), k_allowed.end(), name) == k_allowed.end()) {
      return fail(reason::k_intake_unexpected_entry,
                  "drop directory holds unexpected entry " + quoted(name),
                  name);
    }
  }
  if (ec) {
    return fail(reason::k_intake_io,
                "cannot list drop directory '" + dir.string() + "': " + ec.message(),
                dir.string());
  }

  struct stat st {};

  const auto payload = dir / "payload";
  if (::lstat(payload.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return fail(reason::k_intake_missing_payload, "drop has no payload/ directory", "payload");
  }
  return {};
}

Result<PayloadFiles> scan_payload(const stdfs::path& payload, std::uint64_t max_files) {
  PayloadFiles out;
  auto& files = out.files;
  std::error_code ec;
  stdfs::recursive_directory_iterator it(payload, stdfs::directory_options::none, ec);
  for (const stdfs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
    const auto rel = it->path().lexically_relative(payload).generic_string();

    struct stat st {};

    if (::lstat(it->path().c_str(), &st) != 0) {
      return fail(reason::k_intake_io, "cannot read payload entry " + quoted(rel), rel);
    }
    if (S_ISDIR(st.st_mode)) {
      out.dirs.push_back(rel);
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      return fail(reason::k_intake_not_regular,
                  "payload entry " + quoted(rel)
                      + " is not a regular file (symlink, device, fifo or socket)",
                  rel);
    }
    files.emplace(rel, static_cast<std::uint64_t>(st.st_size));
    if (files.size() + out.dirs.size() > max_files) {
      return fail(reason::k_intake_unlisted_file,
                  "payload holds more files than limits.max_artifacts, e.g. " + quoted(rel),
                  rel);
    }
  }
  if (ec) {
    return fail(reason::k_intake_io, "cannot walk payload/: " + ec.message(), "payload");
  }
  return out;
}

namespace {

Status no_stray_directories(const DropManifest& manifest, const std::vector<std::string>& dirs) {
  std::set<std::string_view> needed;
  for (const auto& a : manifest.artifacts) {
    for (auto slash = a.path.find('/'); slash != std::string::npos;
         slash = a.path.find('/', slash + 1)) {
      needed.insert(std::string_view(a.path).substr(0, slash));
    }
  }
  for (const auto& d : dirs) {
    if (!needed.contains(d)) {
      return fail(reason::k_intake_unlisted_file,
                  "payload directory " + quoted(d) + " holds no listed artifact",
                  d);
    }
  }
  return {};
}

}  // namespace

Status match_listing(const DropManifest& manifest, const PayloadFiles& payload) {
  const auto& files = payload.files;
  for (const auto& a : manifest.artifacts) {
    const auto it = files.find(a.path);
    if (it == files.end()) {
      return fail(reason::k_intake_artifact_missing,
                  "artifact " + quoted(a.path) + " is not in payload/",
                  a.path);
    }
    if (it->second != a.size) {
      return fail(reason::k_intake_size_mismatch,
                  "artifact " + quoted(a.path) + " has " + std::to_string(it->second)
                      + " bytes, drop.json says " + std::to_string(a.size),
                  a.path);
    }
  }
  if (files.size() > manifest.artifacts.size()) {
    std::set<std::string_view> listed;
    for (const auto& a : manifest.artifacts) {
      listed.insert(a.path);
    }
    for (const auto& [path, size] : files) {
      if (!listed.contains(path)) {
        return fail(reason::k_intake_unlisted_file,
                    "payload file " + quoted(path) + " is not listed in drop.json",
                    path);
      }
    }
  }
  return no_stray_directories(manifest, payload.dirs);
}

}  // namespace ecluse::intake::detail
