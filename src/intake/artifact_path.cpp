// The artifact path rule of drop.json. Invariant: a path that passes names a location strictly
// inside payload/ on any platform: relative, '/'-separated, no '..', no '.', no empty
// components, no backslash or drive letter, no control characters.
#include <ecluse/intake/drop_manifest.hpp>

namespace ecluse::intake {

namespace {

constexpr std::size_t k_max_path = 4096;
constexpr std::size_t k_max_component = 255;

tl::unexpected<Error> outside(std::string_view path, std::string_view why) {
  return fail(
      reason::k_drop_path_outside,
      "drop.json: artifact path " + json::dump_line(std::string(path)) + " " + std::string(why),
      std::string(path));
}

tl::unexpected<Error> malformed(std::string_view path, std::string_view why) {
  return fail(
      reason::k_drop_bad_path,
      "drop.json: artifact path " + json::dump_line(std::string(path)) + " " + std::string(why),
      std::string(path));
}

bool is_drive_prefix(std::string_view path) {
  const auto letter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  return path.size() >= 2 && letter(path[0]) && path[1] == ':';
}

Status check_component(std::string_view path, std::string_view part) {
  if (part == "..") {
    return outside(path, "climbs out with '..'");
  }
  if (part.empty()) {
    return malformed(path, "has an empty component");
  }
  if (part == ".") {
    return malformed(path, "has a '.' component");
  }
  if (part.size() > k_max_component) {
    return malformed(path, "has a component longer than 255 bytes");
  }
  return {};
}

}  // namespace

Status check_artifact_path(std::string_view path) {
  if (path.empty()) {
    return malformed(path, "is empty");
  }
  if (path.front() == '/') {
    return outside(path, "is absolute");
  }
  if (path.find('\\') != std::string_view::npos) {
    return outside(path, "holds a backslash");
  }
  if (is_drive_prefix(path)) {
    return outside(path, "starts with a drive letter");
  }
  for (const char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return malformed(path, "holds a control character");
    }
  }
  if (path.size() > k_max_path) {
    return malformed(path, "is longer than 4096 bytes");
  }
  std::size_t start = 0;
  for (;;) {
    const auto slash = path.find('/', start);
    ECLUSE_CHECK(check_component(path, path.substr(start, slash - start)));
    if (slash == std::string_view::npos) {
      return {};
    }
    start = slash + 1;
  }
}

}  // namespace ecluse::intake
