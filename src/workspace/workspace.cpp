// Creating and opening a workspace.
#include <ecluse/core/fs.hpp>
#include <ecluse/workspace/workspace.hpp>

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <vector>

namespace ecluse::workspace {

namespace {

constexpr std::string_view k_config_file = "ecluse.json";

// The directories init creates, relative to the workspace root; the private ones are for the
// operator's account only.
constexpr std::array<std::string_view, 9> k_dirs{"staging/incoming",
                                                 "quarantine/objects/sha256",
                                                 "quarantine/drops",
                                                 "quarantine/tmp",
                                                 "journal",
                                                 "repos",
                                                 "keys",
                                                 "trust",
                                                 "locks"};
constexpr std::array<std::string_view, 3> k_private_dirs{"keys", "quarantine", "trust"};
// Files that mark a workspace (state.db is created by the first session).
constexpr std::array<std::string_view, 2> k_files{"ecluse.json", "state.db"};

}  // namespace

stdfs::path Workspace::incoming_dir() const {
  const stdfs::path p(m_config.incoming);
  return p.is_absolute() ? p : m_root / p;
}

Result<Workspace> Workspace::open(const stdfs::path& dir) {
  std::error_code ec;
  const auto root = stdfs::absolute(dir, ec);
  const auto config_path = root / k_config_file;
  if (ec || !stdfs::is_regular_file(config_path, ec)) {
    return fail(
        reason::k_workspace_not_found,
        "'" + dir.string() + "' is not an ecluse workspace (no ecluse.json; run 'ecluse init DIR')",
        dir.string());
  }
  ECLUSE_TRY(text,
             fs::read_file_bounded(
                 config_path, 1U << 20U, reason::k_workspace_io, reason::k_workspace_bad_config));
  auto parsed = json::parse_strict(text);
  if (parsed.failure != json::ParseFailure::none) {
    return fail(reason::k_workspace_bad_config,
                "ecluse.json is not valid JSON (" + parsed.detail + ")",
                config_path.string());
  }
  ECLUSE_TRY(config, Config::from_json(parsed.value));
  return Workspace(root, std::move(config));
}

namespace {

Status refuse_existing(const stdfs::path& dir) {
  std::error_code ec;
  std::vector<std::string_view> parts(k_dirs.begin(), k_dirs.end());
  parts.insert(parts.end(), k_files.begin(), k_files.end());
  for (const auto part : parts) {
    if (stdfs::exists(dir / part, ec)) {
      return fail(reason::k_workspace_exists,
                  "'" + dir.string() + "' already holds a workspace ('" + std::string(part)
                      + "' exists); refusing to overwrite it",
                  dir.string());
    }
  }
  return {};
}

Status create_layout(const stdfs::path& dir) {
  for (const auto part : k_dirs) {
    ECLUSE_CHECK(fs::make_dirs(dir / part, reason::k_workspace_io));
  }
  for (const auto part : k_private_dirs) {
    const auto p = dir / part;
    if (::chmod(p.c_str(), 0700) != 0) {
      return fail(
          reason::k_workspace_io, fs::errno_message("cannot restrict", p, errno), p.string());
    }
  }
  return {};
}

}  // namespace

Result<Workspace> init(const stdfs::path& dir) {
  ECLUSE_CHECK(refuse_existing(dir));
  ECLUSE_CHECK(create_layout(dir));
  const Config defaults;
  ECLUSE_CHECK(fs::write_file_atomic(
      dir / k_config_file, json::dump_pretty(defaults.to_json()) + "\n", reason::k_workspace_io));
  return Workspace::open(dir);
}

stdfs::path resolve_dir(const std::string& flag) {
  if (!flag.empty()) {
    return flag;
  }
  const char* env = std::getenv("ECLUSE_WORKSPACE");  // NOLINT(concurrency-mt-unsafe)
  if (env != nullptr && *env != '\0') {
    return env;
  }
  return ".";
}

}  // namespace ecluse::workspace
