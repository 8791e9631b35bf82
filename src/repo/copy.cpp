// Copying a commit's closure (and tag objects) between repositories. Objects are written
// children first (blobs, then their trees, then the commit, parents before children), so
// an object present here always has its closure here: the walk stops at the first one found.
#include <string>
#include <utility>
#include <vector>

#include "internal.hpp"

namespace ecluse::repo {

namespace {

constexpr int k_max_depth = 1024;

class Copier {
 public:
  Copier(const RepoState& from, const RepoState& to) : m_from(from), m_to(to) {}

  [[nodiscard]] bool here(const git_oid& id) const {
    return git_odb_exists(m_to.odb.get(), &id) == 1;
  }

  // The loose file as is when the source has one, else the object read and written again.
  Status object(const git_oid& id) {
    if (here(id)) {
      return {};
    }
    const auto hex = to_hex(id);
    auto copied =
        copy_loose_file(loose_path(m_from.git_dir / "objects", hex), m_to.git_dir / "objects", hex);
    if (copied || copied.error().reason != reason::k_repo_not_found.code) {
      return copied;
    }
    git_odb_object* raw = nullptr;
    if (const int rc = git_odb_read(&raw, m_from.odb.get(), &id); rc != 0) {
      return lookup_fail(rc, "reading object " + hex + " to copy");
    }
    const GitOdbObject obj(raw);
    git_oid written{};
    if (git_odb_write(&written,
                      m_to.odb.get(),
                      git_odb_object_data(raw),
                      git_odb_object_size(raw),
                      git_odb_object_type(raw))
        != 0) {
      return git_fail(reason::k_repo_io, "copying object " + hex);
    }
    if (git_oid_equal(&written, &id) == 0) {
      return fail(reason::k_internal, "object " + hex + " was copied as " + to_hex(written));
    }
    return {};
  }

  Status tree(const git_oid& id, int depth) {
    if (here(id)) {
      return {};
    }
    if (depth > k_max_depth) {
      return fail(reason::k_repo_bad_path, "tree " + to_hex(id) + " is nested too deeply");
    }
    git_tree* raw = nullptr;
    if (const int rc = git_tree_lookup(&raw, m_from.repo.get(), &id); rc != 0) {
      return lookup_fail(rc, "reading tree " + to_hex(id) + " to copy");
    }
    const GitTree t(raw);
    for (std::size_t i = 0; i < git_tree_entrycount(raw); ++i) {
      ECLUSE_CHECK(entry(git_tree_entry_byindex(raw, i), depth));
    }
    return object(id);
  }

  Status entry(const git_tree_entry* e, int depth) {
    switch (git_tree_entry_type(e)) {
      case GIT_OBJECT_TREE:
        return tree(*git_tree_entry_id(e), depth + 1);
      case GIT_OBJECT_BLOB:
        return object(*git_tree_entry_id(e));
      default:  // a gitlink names another repository's commit: nothing to copy
        return {};
    }
  }

  // One commit whose parents are here already: its tree, then itself.
  Status commit(const git_commit* c) {
    ECLUSE_CHECK(tree(*git_commit_tree_id(c), 0));
    return object(*git_commit_id(c));
  }

  // The commits missing here, parents before children (iterative: histories are long). A
  // commit may sit on the stack twice (reached through two children): the deeper copy wins.
  Status commits(const git_oid& tip) {
    std::vector<std::pair<git_oid, bool>> stack{{tip, false}};
    while (!stack.empty()) {
      const auto [id, expanded] = stack.back();
      if (here(id)) {  // copied already, or here from the start with all its ancestors
        stack.pop_back();
        continue;
      }
      git_commit* raw = nullptr;
      if (const int rc = git_commit_lookup(&raw, m_from.repo.get(), &id); rc != 0) {
        return lookup_fail(rc, "reading commit " + to_hex(id) + " to copy");
      }
      const GitCommit c(raw);
      if (expanded) {
        stack.pop_back();
        auto copied = commit(raw);
        if (!copied) {
          return copied;
        }
        continue;
      }
      stack.back().second = true;
      for (unsigned i = 0; i < git_commit_parentcount(raw); ++i) {
        stack.emplace_back(*git_commit_parent_id(raw, i), false);
      }
    }
    return {};
  }

  // A tag object: its commit's closure first, then the tag itself.
  Status tag(const Oid& hex) {
    ECLUSE_TRY(id, parse_oid(hex));
    git_tag* raw = nullptr;
    if (const int rc = git_tag_lookup(&raw, m_from.repo.get(), &id); rc != 0) {
      return lookup_fail(rc, "reading tag object " + hex + " to copy");
    }
    const GitTag t(raw);
    if (git_tag_target_type(raw) == GIT_OBJECT_COMMIT) {
      ECLUSE_CHECK(commits(*git_tag_target_id(raw)));
    }
    return object(id);
  }

 private:
  const RepoState& m_from;
  const RepoState& m_to;
};

}  // namespace

Status Repository::copy_from(const Repository& src,
                             const Oid& commit,
                             const std::vector<Oid>& tags) const {
  ECLUSE_CHECK(check_writable(m_impl->s));
  ECLUSE_TRY(tip, lookup_commit(src.m_impl->s, commit));
  Copier copier(src.m_impl->s, m_impl->s);
  ECLUSE_CHECK(copier.commits(*git_commit_id(tip.get())));
  for (const auto& t : tags) {
    ECLUSE_CHECK(copier.tag(t));
  }
  return {};
}

Status Repository::copy_objects(const Repository& src, const std::vector<Oid>& ids) const {
  ECLUSE_CHECK(check_writable(m_impl->s));
  Copier copier(src.m_impl->s, m_impl->s);
  for (const auto& hex : ids) {
    ECLUSE_TRY(id, parse_oid(hex));
    ECLUSE_CHECK(copier.object(id));
  }
  return {};
}

}  // namespace ecluse::repo
