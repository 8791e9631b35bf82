// Opening and creating repositories (with our own object database) and the blob operations.
#include <ecluse/core/fs.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "internal.hpp"

namespace ecluse::repo {

namespace {

constexpr std::size_t k_chunk = std::size_t{1} << 20U;

// Read priorities: packs before loose objects (libgit2's own order); writes go to the
// highest-priority backend that can write.
constexpr int k_pack_priority = 2;
constexpr int k_loose_priority = 1;
constexpr int k_stored_writer_priority = 3;

Status add_backend(git_odb* odb, git_odb_backend* backend, int priority) {
  if (git_odb_add_backend(odb, backend, priority) != 0) {
    auto err = git_fail(reason::k_repo_io, "adding an object database backend");
    backend->free(backend);
    return err;
  }
  return {};
}

Result<GitOdb> make_odb(const stdfs::path& objects, const Options& opts, const stdfs::path& idx) {
  git_odb* raw = nullptr;
  if (git_odb_new(&raw) != 0) {
    return git_fail(reason::k_repo_io, "creating an object database");
  }
  GitOdb odb(raw);
  git_odb_backend* b = nullptr;
  if (git_odb_backend_pack(&b, objects.c_str()) != 0) {
    return git_fail(reason::k_repo_io, "opening packs of '" + objects.string() + "'");
  }
  ECLUSE_CHECK(add_backend(odb.get(), b, k_pack_priority));
  // Level 0 is written by our stored writer; libgit2 then only reads loose objects.
  const int level = opts.compression == 0 ? 1 : opts.compression;
  if (git_odb_backend_loose(&b, objects.c_str(), level, 1, 0, 0) != 0) {
    return git_fail(reason::k_repo_io, "opening loose objects of '" + objects.string() + "'");
  }
  ECLUSE_CHECK(add_backend(odb.get(), b, k_loose_priority));
  if (opts.compression == 0) {
    ECLUSE_TRY(stored, stored_loose_backend(objects));
    ECLUSE_CHECK(add_backend(odb.get(), stored, k_stored_writer_priority));
  }
  if (!idx.empty()) {
    if (git_odb_backend_one_pack(&b, idx.c_str()) != 0) {
      return git_fail(reason::k_repo_bad_bundle, "opening staged pack '" + idx.string() + "'");
    }
    ECLUSE_CHECK(add_backend(odb.get(), b, k_pack_priority));
  }
  return odb;
}

// libgit2 1.5.1 reports a repository owned by another user as GIT_ENOTFOUND ("config value
// 'safe.directory' was not found"): checking first keeps that an I/O error, not a missing repo.
Status check_owners(const stdfs::path& dir) {
  for (const auto& p : {dir, dir / ".git"}) {
    struct stat st {};

    if (::lstat(p.c_str(), &st) == 0 && st.st_uid != ::geteuid()) {
      return fail(reason::k_repo_io, "repository '" + p.string() + "' is owned by another user");
    }
  }
  return {};
}

Status check_owner(const stdfs::path& dir) {
  struct stat st {};

  if (::lstat(dir.c_str(), &st) != 0) {
    return fail(reason::k_repo_io, fs::errno_message("inspecting", dir, errno));
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
    return fail(reason::k_repo_io,
                "repository directory '" + dir.string() + "' is not a directory owned by us");
  }
  return {};
}

Status init_bare(const stdfs::path& dir) {
  git_repository_init_options o = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
  o.initial_head = "main";  // the branch promotions move (promote::k_branch): clones check it out
  git_repository* raw = nullptr;
  if (git_repository_init_ext(&raw, dir.c_str(), &o) != 0) {
    return git_fail(reason::k_repo_io, "creating repository '" + dir.string() + "'");
  }
  const GitRepo repo(raw);
  // Bare repositories keep no reflogs by default: "nothing lost" wants every ref move logged.
  git_config* cfg = nullptr;
  if (git_repository_config(&cfg, repo.get()) != 0) {
    return git_fail(reason::k_repo_io, "reading the configuration of '" + dir.string() + "'");
  }
  const CHandle<git_config, git_config_free> owned(cfg);
  if (git_config_set_string(cfg, "core.logAllRefUpdates", "always") != 0) {
    return git_fail(reason::k_repo_io, "configuring '" + dir.string() + "'");
  }
  return {};
}

Status check_compression(const Options& opts) {
  if (opts.compression < 0 || opts.compression > 9) {
    return fail(reason::k_repo_io,
                "compression level " + std::to_string(opts.compression) + " is not 0 to 9");
  }
  return {};
}

// Copies exactly size bytes of fd into stream, 1 MiB at a time.
Status stream_file(int fd,
                   git_odb_stream* stream,
                   git_object_size_t size,
                   const stdfs::path& file) {
  std::vector<char> buf(k_chunk);
  git_object_size_t total = 0;
  for (;;) {
    const auto n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail(reason::k_repo_io, fs::errno_message("reading", file, errno));
    }
    if (n == 0) {
      break;
    }
    total += static_cast<git_object_size_t>(n);
    if (total > size) {
      return fail(reason::k_repo_io, "'" + file.string() + "' grew while it was read");
    }
    if (git_odb_stream_write(stream, buf.data(), static_cast<std::size_t>(n)) != 0) {
      return git_fail(reason::k_repo_io, "writing blob of '" + file.string() + "'");
    }
  }
  if (total != size) {
    return fail(reason::k_repo_io, "'" + file.string() + "' shrank while it was read");
  }
  return {};
}

}  // namespace

Result<RepoState> open_state(const stdfs::path& dir,
                             const Options& opts,
                             const stdfs::path& extra_idx) {
  ECLUSE_CHECK(ensure_runtime());
  ECLUSE_CHECK(check_compression(opts));
  ECLUSE_CHECK(check_owners(dir));
  git_repository* raw = nullptr;
  if (const int rc =
          git_repository_open_ext(&raw, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
      rc != 0) {
    return lookup_fail(rc, "opening repository '" + dir.string() + "'");
  }
  RepoState s;
  s.repo = GitRepo(raw);
  s.git_dir = stdfs::path(git_repository_path(raw)).lexically_normal();
  if (const char* wd = git_repository_workdir(raw); wd != nullptr) {
    s.work_tree = stdfs::path(wd).lexically_normal();
  }
  s.opts = opts;
  s.read_only = !s.work_tree.empty() || !extra_idx.empty();
  ECLUSE_TRY(odb, make_odb(s.git_dir / "objects", opts, extra_idx));
  if (git_repository_set_odb(raw, odb.get()) != 0) {
    return git_fail(reason::k_repo_io, "installing the object database of '" + dir.string() + "'");
  }
  s.odb = std::move(odb);
  return s;
}

Repository::Repository(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Repository::Repository(Repository&&) noexcept = default;
Repository& Repository::operator=(Repository&&) noexcept = default;
Repository::~Repository() = default;

Result<Repository> Repository::create(const stdfs::path& dir, const Options& opts) {
  ECLUSE_CHECK(ensure_runtime());
  std::error_code ec;
  if (stdfs::exists(stdfs::symlink_status(dir, ec))) {
    ECLUSE_CHECK(check_owner(dir));
  }
  auto s = open_state(dir, opts);
  if (!s && s.error().reason == reason::k_repo_not_found.code) {
    ECLUSE_CHECK(init_bare(dir));
    s = open_state(dir, opts);
  }
  if (!s) {
    return fail(std::move(s).error());
  }
  ECLUSE_CHECK(check_owner(dir));
  if (!s->work_tree.empty()) {
    return fail(reason::k_repo_io, "repository '" + dir.string() + "' is not bare");
  }
  return Repository(std::make_unique<Impl>(std::move(*s)));
}

Result<Repository> Repository::open(const stdfs::path& dir, const Options& opts) {
  ECLUSE_TRY(s, open_state(dir, opts));
  return Repository(std::make_unique<Impl>(std::move(s)));
}

const stdfs::path& Repository::path() const {
  return m_impl->s.git_dir;
}

stdfs::path Repository::work_tree() const {
  return m_impl->s.work_tree;
}

Result<Oid> Repository::write_blob(std::string_view bytes) const {
  ECLUSE_CHECK(check_writable(m_impl->s));
  git_oid id{};
  if (git_odb_write(&id, m_impl->s.odb.get(), bytes.data(), bytes.size(), GIT_OBJECT_BLOB) != 0) {
    return git_fail(reason::k_repo_io, "writing a blob");
  }
  return to_hex(id);
}

Result<Oid> Repository::write_blob_file(const stdfs::path& file) const {
  ECLUSE_CHECK(check_writable(m_impl->s));
  const fs::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));

  struct stat st {};

  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    return fail(reason::k_repo_io, fs::errno_message("opening", file, errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(reason::k_repo_io, "'" + file.string() + "' is not a regular file");
  }
  const auto size = static_cast<git_object_size_t>(st.st_size);
  git_odb_stream* raw = nullptr;
  if (git_odb_open_wstream(&raw, m_impl->s.odb.get(), size, GIT_OBJECT_BLOB) != 0) {
    return git_fail(reason::k_repo_io, "opening a blob stream for '" + file.string() + "'");
  }
  const GitOdbStream stream(raw);
  ECLUSE_CHECK(stream_file(fd.get(), raw, size, file));
  git_oid id{};
  if (git_odb_stream_finalize_write(&id, raw) != 0) {
    return git_fail(reason::k_repo_io, "finishing blob of '" + file.string() + "'");
  }
  return to_hex(id);
}

bool Repository::has_object(const Oid& id) const {
  const auto oid = parse_oid(id);
  return oid && git_odb_exists(m_impl->s.odb.get(), &*oid) == 1;
}

Result<std::string> Repository::read_blob(const Oid& id) const {
  ECLUSE_TRY(oid, parse_oid(id));
  git_blob* raw = nullptr;
  if (const int rc = git_blob_lookup(&raw, m_impl->s.repo.get(), &oid); rc != 0) {
    return lookup_fail(rc, "reading blob " + id);
  }
  const GitBlob blob(raw);
  const auto* data = static_cast<const char*>(git_blob_rawcontent(raw));
  return std::string(data, static_cast<std::size_t>(git_blob_rawsize(raw)));
}

}  // namespace ecluse::repo
