// Trees: a flat listing written as nested git trees (every path checked first), and read back.
#include <ecluse/core/printable.hpp>
#include <ecluse/text/unicode.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "internal.hpp"

namespace ecluse::repo {

namespace {

// Trees nested deeper than this are refused on reading (a crafted tree could exhaust the stack).
constexpr int k_max_depth = 1024;

constexpr unsigned k_mode_file = 0100644;
constexpr unsigned k_mode_exec = 0100755;
constexpr unsigned k_mode_tree = 0040000;

struct Dir {
  std::map<std::string, std::unique_ptr<Dir>> dirs;
  std::map<std::string, const TreeEntry*> files;
};

std::string octal(unsigned v) {
  std::string out;
  do {
    out.insert(out.begin(), static_cast<char>('0' + (v & 7U)));
    v >>= 3U;
  } while (v != 0);
  return out;
}

tl::unexpected<Error> bad_path(const std::string& path, const std::string& why) {
  const auto shown = printable(path);
  return fail(reason::k_repo_bad_path, "path '" + shown + "' " + why, shown);
}

// No two paths (or directories) of the tree may be one file on a case-insensitive or
// normalising client: each prefix's folded form must belong to one spelling only.
Status check_collisions(const Tree& tree) {
  std::map<std::string, std::string> spelling;  // folded prefix -> prefix
  for (const auto& [path, entry] : tree) {
    std::string key;
    std::size_t start = 0;
    for (;;) {
      const auto slash = path.find('/', start);
      const auto end = slash == std::string::npos ? path.size() : slash;
      const auto folded = text::fold_key(std::string_view(path).substr(start, end - start));
      if (!folded) {
        return bad_path(path, "cannot be case-folded");
      }
      key += (start == 0 ? "" : "/") + *folded;
      const auto prefix = path.substr(0, end);
      const auto [it, fresh] = spelling.emplace(key, prefix);
      if (!fresh && it->second != prefix) {
        return bad_path(path,
                        "collides with '" + printable(it->second)
                            + "' under case folding or Unicode normalisation");
      }
      if (slash == std::string::npos) {
        break;
      }
      start = slash + 1;
    }
  }
  return {};
}

Result<Dir> nest(const Tree& tree) {
  Dir root;
  for (const auto& [path, entry] : tree) {
    Dir* dir = &root;
    std::size_t start = 0;
    for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', start)) {
      const auto name = path.substr(start, slash - start);
      if (dir->files.contains(name)) {
        return bad_path(path, "lies under a file");
      }
      auto& sub = dir->dirs[name];
      if (!sub) {
        sub = std::make_unique<Dir>();
      }
      dir = sub.get();
      start = slash + 1;
    }
    const auto name = path.substr(start);
    if (dir->dirs.contains(name)) {
      return bad_path(path, "is both a file and a directory");
    }
    dir->files.emplace(name, &entry);
  }
  return root;
}

Status insert(const RepoState& s,
              git_treebuilder* bld,
              const std::string& name,
              const Oid& id,
              git_filemode_t mode) {
  ECLUSE_TRY(oid, parse_oid(id));
  if (git_treebuilder_insert(nullptr, bld, name.c_str(), &oid, mode) != 0) {
    auto err = git_fail(reason::k_repo_io, "adding '" + printable(name) + "' to a tree");
    if (git_odb_exists(s.odb.get(), &oid) != 1) {
      return fail(reason::k_repo_not_found,
                  "object " + id + " of '" + printable(name) + "' is not in the repository");
    }
    return err;
  }
  return {};
}

Result<Oid> write_dir(const RepoState& s, const Dir& dir) {
  git_treebuilder* raw = nullptr;
  if (git_treebuilder_new(&raw, s.repo.get(), nullptr) != 0) {
    return git_fail(reason::k_repo_io, "creating a tree builder");
  }
  const GitTreeBuilder bld(raw);
  for (const auto& [name, sub] : dir.dirs) {
    ECLUSE_TRY(id, write_dir(s, *sub));
    ECLUSE_CHECK(insert(s, raw, name, id, GIT_FILEMODE_TREE));
  }
  for (const auto& [name, entry] : dir.files) {
    const auto mode = entry->executable ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
    ECLUSE_CHECK(insert(s, raw, name, entry->blob, mode));
  }
  git_oid id{};
  if (git_treebuilder_write(&id, raw) != 0) {
    return git_fail(reason::k_repo_io, "writing a tree");
  }
  return to_hex(id);
}

Status read_dir(
    const RepoState& s, const git_tree* tree, const std::string& prefix, int depth, Tree& out);

// One entry of a tree being read: a subtree is read in turn, a blob listed.
Status read_entry(
    const RepoState& s, const git_tree_entry* e, const std::string& prefix, int depth, Tree& out) {
  const std::string name = git_tree_entry_name(e);
  auto path = prefix;
  path += prefix.empty() ? "" : "/";
  path += name;
  if (name.find('/') != std::string::npos) {
    return bad_path(path, "holds a slash in one tree entry");
  }
  const auto mode = static_cast<unsigned>(git_tree_entry_filemode_raw(e));
  if (mode == k_mode_file || mode == k_mode_exec) {
    ECLUSE_CHECK(check_path(path));
    out.emplace(path, TreeEntry{to_hex(*git_tree_entry_id(e)), mode == k_mode_exec});
    return {};
  }
  if (mode != k_mode_tree) {
    return bad_path(path, "is not a regular file (mode " + octal(mode) + ")");
  }
  git_tree* sub = nullptr;
  if (const int rc = git_tree_lookup(&sub, s.repo.get(), git_tree_entry_id(e)); rc != 0) {
    return lookup_fail(rc, "reading the tree of '" + printable(path) + "'");
  }
  const GitTree owned(sub);
  return read_dir(s, sub, path, depth + 1, out);
}

Status read_dir(
    const RepoState& s, const git_tree* tree, const std::string& prefix, int depth, Tree& out) {
  if (depth > k_max_depth) {
    return bad_path(prefix, "is nested deeper than " + std::to_string(k_max_depth) + " trees");
  }
  const auto count = git_tree_entrycount(tree);
  for (std::size_t i = 0; i < count; ++i) {
    ECLUSE_CHECK(read_entry(s, git_tree_entry_byindex(tree, i), prefix, depth, out));
  }
  return {};
}

}  // namespace

Result<Oid> Repository::write_tree(const Tree& tree) const {
  ECLUSE_CHECK(check_writable(m_impl->s));
  for (const auto& [path, entry] : tree) {
    ECLUSE_CHECK(check_path(path));
  }
  ECLUSE_CHECK(check_collisions(tree));
  ECLUSE_TRY(root, nest(tree));
  return write_dir(m_impl->s, root);
}

Result<Tree> Repository::read_tree(const Oid& commit) const {
  ECLUSE_TRY(c, lookup_commit(m_impl->s, commit));
  git_tree* raw = nullptr;
  if (const int rc = git_commit_tree(&raw, c.get()); rc != 0) {
    return lookup_fail(rc, "reading the tree of commit " + commit);
  }
  const GitTree tree(raw);
  Tree out;
  ECLUSE_CHECK(read_dir(m_impl->s, raw, "", 0, out));
  ECLUSE_CHECK(check_collisions(out));
  return out;
}

}  // namespace ecluse::repo
