// Writing the shipped profiles and suites into a workspace (ecluse init), never over a file.
#include <ecluse/core/fs.hpp>
#include <ecluse/sandbox/profile.hpp>

#include "embedded.hpp"

namespace ecluse::sandbox {

Result<std::size_t> write_defaults(const std::filesystem::path& dir) {
  std::size_t written = 0;
  for (const auto& f : detail::embedded_files()) {
    const auto target = dir / std::string(f.path);
    std::error_code ec;
    if (std::filesystem::exists(target, ec)) {
      continue;
    }
    ECLUSE_CHECK(fs::make_dirs(target.parent_path(), reason::k_workspace_io));
    ECLUSE_CHECK(fs::write_file_atomic(target, f.content, reason::k_workspace_io));
    ++written;
  }
  return written;
}

}  // namespace ecluse::sandbox
