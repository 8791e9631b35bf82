// The isolated git repositories (one bare repository per channel), read and written through
// libgit2, which only src/repo/ includes. libgit2 runs isolated from every user and system
// git configuration, with strict object creation, strict hash verification and fsync on.
// Nothing here runs hooks, filters or checkouts: trees are built from blobs.
//
// Reason codes: repo.io_error, repo.not_found, repo.bad_path, repo.ref_moved,
// repo.bad_bundle.
#pragma once

#include <ecluse/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse::repo {

// Hex object ids (SHA-1, 40 digits).
using Oid = std::string;

struct TreeEntry {
  Oid blob;
  bool executable = false;  // mode 100755 instead of 100644
};

// A whole tree as a flat listing: "dir/sub/file" → blob. Directories are implied.
using Tree = std::map<std::string, TreeEntry>;

struct Identity {
  std::string name = "ecluse";
  std::string email = "ecluse@localhost";
  std::int64_t time = 0;  // seconds since the epoch (UTC, offset +0000)
};

// Turns the bytes git signs into an armored signature (for commits and tags: SSHSIG).
using SignFn = std::function<Result<std::string>(std::string_view payload)>;

struct CommitRequest {
  Oid tree;
  std::vector<Oid> parents;  // empty for the first commit
  Identity author;           // also the committer
  std::string message;
};

struct TagRequest {
  std::string name;  // "PRODUCT/VERSION" (the ref is refs/tags/NAME)
  Oid target;        // a commit
  Identity tagger;
  std::string message;
};

struct CommitInfo {
  Oid id;
  Oid tree;
  std::vector<Oid> parents;
  std::string signed_payload;  // the commit object without its gpgsig header
  std::string signature;       // the armored gpgsig value, empty when unsigned
  std::string message;
  std::int64_t time = 0;  // committer time
};

struct TagInfo {
  std::string ref_name;        // as asked ("PRODUCT/VERSION")
  Oid id;                      // the tag object (empty for a lightweight tag)
  Oid target;                  // the commit it names
  std::string tag_name;        // the name inside the tag object
  std::string signed_payload;  // the tag object up to its signature
  std::string signature;       // the armored signature, empty when unsigned
};

// Is path acceptable in a promoted tree? Each component non-empty, not "." or "..", no
// control characters or backslash, not .git under case folding, NTFS 8.3 or HFS+ ignorable
// code points (libgit2's own rules), not .gitmodules or .gitattributes; and no two paths of
// the tree equal under case folding (checked by write_tree). repo.bad_path names it.
Status check_path(std::string_view path);

struct Options {
  // zlib level of new loose objects (0: stored, 1: fastest … 9): measured in
  // docs/performance.md. Default chosen by that measurement.
  int compression = 1;
};

class Repository {
 public:
  // Opens the bare repository at dir, creating it (and its parent) when absent. The directory
  // must be owned by this user (repo.io_error otherwise).
  static Result<Repository> create(const std::filesystem::path& dir, const Options& opts = {});
  // Opens an existing repository: a bare one, or a clone's work tree (its .git) read-only.
  static Result<Repository> open(const std::filesystem::path& dir, const Options& opts = {});

  Repository(Repository&&) noexcept;
  Repository& operator=(Repository&&) noexcept;
  Repository(const Repository&) = delete;
  Repository& operator=(const Repository&) = delete;
  ~Repository();

  [[nodiscard]] const std::filesystem::path& path() const;  // the git directory
  // The work tree of a clone; empty for a bare repository.
  [[nodiscard]] std::filesystem::path work_tree() const;

  // --- objects ---
  Result<Oid> write_blob(std::string_view bytes) const;
  // Streams a file of known size into a blob (never holds it whole in memory).
  Result<Oid> write_blob_file(const std::filesystem::path& file) const;
  [[nodiscard]] bool has_object(const Oid& id) const;
  Result<std::string> read_blob(const Oid& id) const;
  // Streams a blob's content to sink in pieces (a loose object is inflated as it is read, never
  // held whole; a packed one is read whole through libgit2). May be called from several
  // threads at once. repo.not_found, repo.io_error (a damaged object file), or sink's error.
  Status read_blob_stream(const Oid& id, const std::function<Status(std::string_view)>& sink) const;
  // Is `descendant` the commit `ancestor` or one reachable from it by parents?
  Result<bool> descends_from(const Oid& descendant, const Oid& ancestor) const;
  // Builds (and writes) the nested trees of a flat listing, checking every path.
  Result<Oid> write_tree(const Tree& tree) const;
  // The flat listing of a commit's tree (only blobs; a submodule or symlink entry is
  // repo.bad_path).
  Result<Tree> read_tree(const Oid& commit) const;

  // --- commits and tags (objects only: no ref moves) ---
  Result<Oid> create_commit(const CommitRequest& req, const SignFn& sign) const;
  Result<Oid> create_tag(const TagRequest& req, const SignFn& sign) const;
  Result<CommitInfo> commit(const Oid& id) const;
  // Every commit reachable from tip, tip first, each after all its children (topological).
  Result<std::vector<CommitInfo>> history(const Oid& tip) const;

  // --- refs ---
  // The commit a branch (refs/heads/NAME) points at; nullopt when it does not exist.
  Result<std::optional<Oid>> branch(const std::string& name) const;
  // Moves refs/heads/NAME from expected (nullopt: the branch must not exist) to target, as
  // one compare-and-swap that is durable on return (lock file, fsync, rename): the commit
  // point of a promotion. repo.ref_moved when the branch is not at expected.
  Status update_branch(const std::string& name,
                       const std::optional<Oid>& expected,
                       const Oid& target,
                       const std::string& log_message) const;
  // Creates refs/tags/NAME pointing at a tag object; succeeds when it already points there,
  // repo.ref_moved when it points elsewhere.
  Status create_tag_ref(const std::string& name, const Oid& tag) const;
  Result<std::optional<TagInfo>> tag(const std::string& name) const;
  Result<std::vector<std::string>> tag_names() const;  // "PRODUCT/VERSION", sorted
  // A tag object by id, as tag() reads it (ref_name empty): for tags not yet under a ref.
  Result<TagInfo> read_tag(const Oid& id) const;

  // --- between repositories ---
  // Copies every object reachable from commit (and the tag objects given) that this
  // repository lacks, from src, without recomputing ids of objects already here.
  Status copy_from(const Repository& src, const Oid& commit, const std::vector<Oid>& tags) const;

  // Copies the objects given (blobs of a release) that this repository lacks from src, as
  // stored (a loose object's compressed file is copied, not re-hashed); repo.not_found when src
  // lacks one.
  Status copy_objects(const Repository& src, const std::vector<Oid>& ids) const;

  // --- bundles (git bundle v2, readable by `git bundle verify`) ---
  struct BundleRef {
    Oid target;
    std::string name;  // full ref name: refs/heads/main, refs/tags/PRODUCT/VERSION
  };

  // Writes a bundle of refs, holding the objects reachable from them but not from
  // `exclude` (commits the receiver has: the bundle's prerequisites).
  Status write_bundle(const std::filesystem::path& out,
                      const std::vector<BundleRef>& refs,
                      const std::vector<Oid>& exclude) const;

  struct StagedBundle;
  // Indexes a bundle's pack into a staging area beside this repository, without making its
  // objects part of it: repo.bad_bundle for a malformed header or pack, or a prerequisite this
  // repository lacks. The returned view reads this repository's objects plus the bundle's.
  Result<std::unique_ptr<StagedBundle>> stage_bundle(const std::filesystem::path& bundle) const;

 private:
  struct Impl;
  explicit Repository(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// A bundle indexed beside a repository: read its objects through view(), then apply() moves
// the pack into the repository (durably) or the destructor discards it.
struct Repository::StagedBundle {
  StagedBundle() = default;
  StagedBundle(const StagedBundle&) = delete;
  StagedBundle& operator=(const StagedBundle&) = delete;
  StagedBundle(StagedBundle&&) = delete;
  StagedBundle& operator=(StagedBundle&&) = delete;
  virtual ~StagedBundle() = default;

  [[nodiscard]] virtual const std::vector<BundleRef>& refs() const = 0;
  [[nodiscard]] virtual const std::vector<Oid>& prerequisites() const = 0;
  // The repository as it would be with the bundle's objects (refs unchanged).
  [[nodiscard]] virtual const Repository& view() const = 0;
  // Makes the bundle's objects part of the repository (refs are the caller's to move).
  virtual Status apply() = 0;
};

}  // namespace ecluse::repo
