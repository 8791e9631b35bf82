// Staging a received git bundle: its header parsed strictly, its pack indexed (hashes and
// connectivity checked by libgit2's indexer) into a staging directory under the git directory,
// read through a view, and moved into objects/pack/ only by apply().
#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "internal.hpp"

namespace ecluse::repo {

namespace {

constexpr std::size_t k_max_header = std::size_t{1} << 20U;
constexpr std::size_t k_chunk = std::size_t{1} << 20U;
constexpr std::string_view k_signature = "# v2 git bundle\n";

tl::unexpected<Error> bad(const stdfs::path& bundle, const std::string& why) {
  return fail(
      reason::k_repo_bad_bundle, "bundle '" + bundle.string() + "' " + why, bundle.string());
}

struct Header {
  std::vector<Oid> prerequisites;
  std::vector<Repository::BundleRef> refs;
  std::size_t size = 0;  // where the pack starts
};

bool is_oid(std::string_view s) {
  return s.size() == GIT_OID_HEXSZ
         && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// One line of the header (without its newline) into h.
Status parse_line(const stdfs::path& bundle, std::string_view line, Header& h) {
  if (line.starts_with('-')) {
    if (!is_oid(line.substr(1))) {
      return bad(bundle, "has a malformed prerequisite line");
    }
    h.prerequisites.emplace_back(line.substr(1));
    return {};
  }
  const auto space = line.find(' ');
  if (space == std::string_view::npos || !is_oid(line.substr(0, space))) {
    return bad(bundle, "has a malformed ref line '" + printable(line.substr(0, 100)) + "'");
  }
  const std::string name(line.substr(space + 1));
  if (!check_ref_name(name)) {
    return bad(bundle, "names an invalid ref '" + printable(name) + "'");
  }
  for (const auto& r : h.refs) {
    if (r.name == name) {
      return bad(bundle, "names ref '" + name + "' twice");
    }
  }
  h.refs.push_back({.target = std::string(line.substr(0, space)), .name = name});
  return {};
}

Result<Header> parse_header(const stdfs::path& bundle, std::string_view head) {
  if (!head.starts_with(k_signature)) {
    return bad(bundle, "does not start with '# v2 git bundle'");
  }
  Header h;
  std::size_t pos = k_signature.size();
  for (;;) {
    const auto eol = head.find('\n', pos);
    if (eol == std::string_view::npos) {
      return bad(bundle, "has no end of header within " + std::to_string(k_max_header) + " bytes");
    }
    if (eol == pos) {
      h.size = eol + 1;
      break;
    }
    ECLUSE_CHECK(parse_line(bundle, head.substr(pos, eol - pos), h));
    pos = eol + 1;
  }
  if (h.refs.empty()) {
    return bad(bundle, "names no ref");
  }
  return h;
}

Result<std::size_t> read_some(int fd, char* buf, std::size_t size, const stdfs::path& bundle) {
  for (;;) {
    const auto n = ::read(fd, buf, size);
    if (n >= 0) {
      return static_cast<std::size_t>(n);
    }
    if (errno != EINTR) {
      return fail(reason::k_repo_io, fs::errno_message("reading", bundle, errno));
    }
  }
}

// The first k_max_header bytes (fewer for a shorter file): the header and the pack's start.
Result<std::string> read_head(int fd, const stdfs::path& bundle) {
  std::string head(k_max_header, '\0');
  std::size_t got = 0;
  while (got < head.size()) {
    ECLUSE_TRY(n, read_some(fd, head.data() + got, head.size() - got, bundle));
    if (n == 0) {
      break;
    }
    got += n;
  }
  head.resize(got);
  return head;
}

Status fsync_file(const stdfs::path& path) {
  const fs::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return fail(reason::k_repo_io, fs::errno_message("syncing", path, errno));
  }
  return {};
}

// A directory removed with its contents on destruction.
class StagingDir {
 public:
  static Result<StagingDir> create(const stdfs::path& git_dir) {
    std::string tmpl = (git_dir / "ecluse-staging-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return fail(reason::k_repo_io, fs::errno_message("creating", tmpl, errno));
    }
    return StagingDir(tmpl);
  }

  StagingDir(StagingDir&& o) noexcept : m_path(std::exchange(o.m_path, {})) {}

  StagingDir& operator=(StagingDir&&) = delete;
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;

  ~StagingDir() {
    if (!m_path.empty()) {
      std::error_code ec;
      stdfs::remove_all(m_path, ec);
    }
  }

  [[nodiscard]] const stdfs::path& path() const { return m_path; }

 private:
  explicit StagingDir(stdfs::path p) : m_path(std::move(p)) {}

  stdfs::path m_path;
};

class Staged final : public Repository::StagedBundle {
 public:
  Staged(Header h, StagingDir dir, std::string pack, const RepoState& home)
      : m_header(std::move(h)),
        m_dir(std::move(dir)),
        m_pack(std::move(pack)),
        m_git_dir(home.git_dir),
        m_opts(home.opts) {}

  Staged(const Staged&) = delete;
  Staged& operator=(const Staged&) = delete;
  Staged(Staged&&) = delete;
  Staged& operator=(Staged&&) = delete;

  ~Staged() override { m_view.reset(); }  // close the staged pack before its directory goes

  void set_view(std::unique_ptr<Repository> view, RepoState* state) {
    m_view = std::move(view);
    m_view_state = state;
  }

  [[nodiscard]] stdfs::path idx() const { return m_dir.path() / (m_pack + ".idx"); }

  [[nodiscard]] const std::vector<Repository::BundleRef>& refs() const override {
    return m_header.refs;
  }

  [[nodiscard]] const std::vector<Oid>& prerequisites() const override {
    return m_header.prerequisites;
  }

  [[nodiscard]] const Repository& view() const override { return *m_view; }

  // The .pack first, then its .idx (an index never names a missing pack), both durable.
  Status apply() override {
    if (m_applied) {
      return {};
    }
    const auto pack_dir = m_git_dir / "objects" / "pack";
    for (const char* ext : {".pack", ".idx"}) {
      const auto from = m_dir.path() / (m_pack + ext);
      ECLUSE_CHECK(fsync_file(from));
      if (::rename(from.c_str(), (pack_dir / (m_pack + ext)).c_str()) != 0) {
        return fail(reason::k_repo_io, fs::errno_message("moving", from, errno));
      }
    }
    m_applied = true;
    ECLUSE_CHECK(fs::fsync_dir(pack_dir, reason::k_repo_io));
    // The view now reads the pack where it lives.
    ECLUSE_TRY(fresh, open_state(m_git_dir, m_opts));
    fresh.read_only = true;
    *m_view_state = std::move(fresh);
    return {};
  }

 private:
  Header m_header;
  StagingDir m_dir;
  std::string m_pack;  // "pack-<hash>"
  stdfs::path m_git_dir;
  Options m_opts;
  std::unique_ptr<Repository> m_view;
  RepoState* m_view_state = nullptr;
  bool m_applied = false;
};

// Indexes the pack (the rest of fd after the header bytes already read) into dir.
Result<std::string> index_pack(const RepoState& s,
                               const stdfs::path& bundle,
                               int fd,
                               std::string_view first,
                               const stdfs::path& dir) {
  git_indexer_options o = GIT_INDEXER_OPTIONS_INIT;
  o.verify = 1;  // every object the pack's objects name must be in the pack or here
  git_indexer* raw = nullptr;
  if (git_indexer_new(&raw, dir.c_str(), 0, s.odb.get(), &o) != 0) {
    return git_fail(reason::k_repo_io, "starting to index bundle '" + bundle.string() + "'");
  }
  const GitIndexer idx(raw);
  git_indexer_progress stats{};
  if (git_indexer_append(raw, first.data(), first.size(), &stats) != 0) {
    return git_fail(reason::k_repo_bad_bundle, "indexing bundle '" + bundle.string() + "'");
  }
  std::vector<char> buf(k_chunk);
  for (;;) {
    ECLUSE_TRY(n, read_some(fd, buf.data(), buf.size(), bundle));
    if (n == 0) {
      break;
    }
    if (git_indexer_append(raw, buf.data(), n, &stats) != 0) {
      return git_fail(reason::k_repo_bad_bundle, "indexing bundle '" + bundle.string() + "'");
    }
  }
  if (git_indexer_commit(raw, &stats) != 0) {
    return git_fail(reason::k_repo_bad_bundle, "indexing bundle '" + bundle.string() + "'");
  }
  return "pack-" + std::string(git_indexer_name(raw));
}

Status check_prerequisites(const RepoState& s, const stdfs::path& bundle, const Header& h) {
  for (const auto& p : h.prerequisites) {
    if (!lookup_commit(s, p)) {
      return bad(bundle, "needs commit " + p + ", which this repository lacks");
    }
  }
  return {};
}

Status check_refs(const RepoState& view,
                  const stdfs::path& bundle,
                  const std::vector<Repository::BundleRef>& refs) {
  for (const auto& r : refs) {
    ECLUSE_TRY(id, parse_oid(r.target));
    git_object* raw = nullptr;
    if (git_object_lookup(&raw, view.repo.get(), &id, GIT_OBJECT_ANY) != 0) {
      return bad(bundle, "names " + r.target + " for " + r.name + " but does not hold it");
    }
    const auto type = git_object_type(raw);
    git_object_free(raw);
    if (type != GIT_OBJECT_COMMIT && type != GIT_OBJECT_TAG) {
      return bad(bundle, "names " + r.target + " for " + r.name + ": neither commit nor tag");
    }
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Repository::StagedBundle>> Repository::stage_bundle(
    const stdfs::path& bundle) const {
  const auto& s = m_impl->s;
  ECLUSE_CHECK(check_writable(s));  // staging writes under the git directory
  const fs::UniqueFd fd(::open(bundle.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));

  struct stat st {};

  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return bad(bundle, "is not a readable regular file");
  }
  ECLUSE_TRY(head, read_head(fd.get(), bundle));
  ECLUSE_TRY(header, parse_header(bundle, head));
  ECLUSE_CHECK(check_prerequisites(s, bundle, header));
  ECLUSE_TRY(dir, StagingDir::create(s.git_dir));
  const auto first = std::string_view(head).substr(header.size);
  ECLUSE_TRY(pack, index_pack(s, bundle, fd.get(), first, dir.path()));
  auto staged = std::make_unique<Staged>(std::move(header), std::move(dir), pack, s);
  ECLUSE_TRY(view_state, open_state(s.git_dir, s.opts, staged->idx()));
  auto impl = std::make_unique<Impl>(std::move(view_state));
  auto* state = &impl->s;
  staged->set_view(std::make_unique<Repository>(Repository(std::move(impl))), state);
  ECLUSE_CHECK(check_refs(*state, bundle, staged->refs()));
  return std::unique_ptr<StagedBundle>(std::move(staged));
}

}  // namespace ecluse::repo
