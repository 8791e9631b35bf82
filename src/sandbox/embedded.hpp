// The project's sandbox/ data, embedded in the binary at build time (cmake/EmbedSandbox.cmake).
#pragma once

#include <span>
#include <string_view>

namespace ecluse::sandbox::detail {

struct EmbeddedFile {
  std::string_view path;     // relative to sandbox/: "profiles/default.json", …
  std::string_view content;  // the file's bytes
};

std::span<const EmbeddedFile> embedded_files();

}  // namespace ecluse::sandbox::detail
