// What the files of src/repo share: owned libgit2 handles, the repository's state, and the
// helpers that turn libgit2 statuses into errors. Only src/repo/ includes this (and git2.h).
#pragma once

#include <ecluse/core/c_handle.hpp>
#include <ecluse/repo/repository.hpp>

#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

namespace ecluse::repo {

namespace stdfs = std::filesystem;

using GitRepo = CHandle<git_repository, git_repository_free>;
using GitOdb = CHandle<git_odb, git_odb_free>;
using GitOdbObject = CHandle<git_odb_object, git_odb_object_free>;
using GitOdbStream = CHandle<git_odb_stream, git_odb_stream_free>;
using GitObject = CHandle<git_object, git_object_free>;
using GitCommit = CHandle<git_commit, git_commit_free>;
using GitTree = CHandle<git_tree, git_tree_free>;
using GitTag = CHandle<git_tag, git_tag_free>;
using GitBlob = CHandle<git_blob, git_blob_free>;
using GitTreeBuilder = CHandle<git_treebuilder, git_treebuilder_free>;
using GitSignature = CHandle<git_signature, git_signature_free>;
using GitReference = CHandle<git_reference, git_reference_free>;
using GitRefIterator = CHandle<git_reference_iterator, git_reference_iterator_free>;
using GitRevwalk = CHandle<git_revwalk, git_revwalk_free>;
using GitPackbuilder = CHandle<git_packbuilder, git_packbuilder_free>;
using GitIndexer = CHandle<git_indexer, git_indexer_free>;

// A git_buf that frees itself.
struct GitBuf {
  git_buf buf = GIT_BUF_INIT;
  GitBuf() = default;
  GitBuf(const GitBuf&) = delete;
  GitBuf& operator=(const GitBuf&) = delete;
  GitBuf(GitBuf&&) = delete;
  GitBuf& operator=(GitBuf&&) = delete;

  ~GitBuf() { git_buf_dispose(&buf); }

  [[nodiscard]] std::string_view view() const { return {buf.ptr, buf.size}; }
};

// The state behind a Repository (free functions of src/repo/ work on it).
struct RepoState {
  GitRepo repo;
  GitOdb odb;  // the object database we installed (compression level, fsync)
  stdfs::path git_dir;
  stdfs::path work_tree;  // empty when bare
  Options opts;
  bool read_only = false;  // a clone's .git or a staged bundle's view
};

struct Repository::Impl {
  explicit Impl(RepoState st) : s(std::move(st)) {}

  RepoState s;
  std::mutex libgit2;  // read_blob_stream's packed-object path may run on several threads
};

// Initialises libgit2 once per process, isolated from every git configuration.
Status ensure_runtime();

// The error of the libgit2 call that just failed: call on the line after the failing call.
tl::unexpected<Error> git_fail(const Reason& r, const std::string& what);
// repo.not_found for GIT_ENOTFOUND, repo.io_error otherwise (same rule: at once).
tl::unexpected<Error> lookup_fail(int status, const std::string& what);

// 40 lowercase hex digits (repo.not_found names a malformed id).
Result<git_oid> parse_oid(std::string_view hex);
Oid to_hex(const git_oid& id);

// Refuses writes through a read-only repository.
Status check_writable(const RepoState& s);

// Opens (without searching upwards or reading the environment) the repository at dir and
// installs our object database; extra_idx, when given, adds that pack (a staged bundle).
Result<RepoState> open_state(const stdfs::path& dir,
                             const Options& opts,
                             const stdfs::path& extra_idx = {});

Result<GitCommit> lookup_commit(const RepoState& s, const Oid& id);

// A loose-object writer for compression level 0 (libgit2 1.5 writes such objects without any
// zlib framing, which git cannot read): stored deflate blocks, fsync, rename.
Result<git_odb_backend*> stored_loose_backend(const stdfs::path& objects_dir);
// Installs objects_dir/xx/yyyy… from the bytes of an existing loose object file (as is).
Status copy_loose_file(const stdfs::path& from, const stdfs::path& objects_dir, const Oid& id);
// The path of a loose object under objects_dir.
stdfs::path loose_path(const stdfs::path& objects_dir, const Oid& id);

// A name under refs/ that git accepts (repo.bad_path otherwise).
Status check_ref_name(const std::string& full_name);

}  // namespace ecluse::repo
