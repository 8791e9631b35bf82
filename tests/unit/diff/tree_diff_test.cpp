// The tree diff on constructed trees: every change category, renames, nested archives, the
// summary and the size change by folder.
#include <ecluse/diff/tree_diff.hpp>

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

using ecluse::diff::ChangeKind;
using ecluse::diff::compare_trees;
using ecluse::unpack::Entry;
using ecluse::unpack::EntryType;
using ecluse::unpack::Tree;

namespace {

ecluse::crypto::Digest digest_of(const std::string& content) {
  return ecluse::crypto::sha256(content).value();
}

Entry file(const std::string& path, const std::string& content, std::uint32_t mode = 0644) {
  Entry e;
  e.path = path;
  e.type = EntryType::file;
  e.mode = mode;
  e.size = content.size();
  e.sha256 = digest_of(content);
  return e;
}

Entry symlink_entry(const std::string& path, const std::string& target) {
  Entry e;
  e.path = path;
  e.type = EntryType::symlink;
  e.mode = 0777;
  e.target = target;
  return e;
}

Entry dir(const std::string& path, std::uint32_t mode = 0755) {
  Entry e;
  e.path = path;
  e.type = EntryType::dir;
  e.mode = mode;
  return e;
}

Entry archive(const std::string& path, const std::string& bytes, std::vector<Entry> contents) {
  Entry e = file(path, bytes);
  e.format = "tar";
  e.contents = std::move(contents);
  ecluse::unpack::sort_entries(e.contents);
  return e;
}

Tree tree(std::vector<Entry> artifacts) {
  Tree t{std::move(artifacts)};
  ecluse::unpack::sort_entries(t.artifacts);
  return t;
}

// A diff with the trees it borrows from (TreeDiff points into both).
struct Pair {
  Tree before;
  Tree after;
  ecluse::diff::TreeDiff d;
};

std::unique_ptr<Pair> diff_of(Tree a, Tree b) {
  auto p = std::make_unique<Pair>(Pair{std::move(a), std::move(b), {}});
  p->d = compare_trees(p->before, p->after);
  return p;
}

// path → change kind.
std::map<std::string, std::string> kinds(const ecluse::diff::TreeDiff& d) {
  std::map<std::string, std::string> out;
  for (const auto& c : d.changes) {
    out[c.path] = std::string(to_string(c.kind));
  }
  return out;
}

}  // namespace

TEST_CASE("diff::compare_trees reports nothing for identical trees") {
  const auto a = tree({file("a.bin", "x"), archive("app.tar", "v1", {file("bin/x", "1")})});
  const auto p = diff_of(a, a);
  const auto& d = p->d;
  CHECK(d.changes.empty());
  CHECK(d.summary.unchanged == 3);
  CHECK(d.summary.changed_share() == 0.0);
  CHECK(d.summary.size_growth() == 0.0);
}

TEST_CASE("diff::compare_trees reports each category of change") {
  SUBCASE("added and removed") {
    const auto p = diff_of(tree({file("old.txt", "old")}), tree({file("new.txt", "new!")}));
    const auto& d = p->d;
    CHECK(kinds(d)
          == std::map<std::string, std::string>{{"new.txt", "added"}, {"old.txt", "removed"}});
    CHECK(d.summary.added == 1);
    CHECK(d.summary.removed == 1);
  }
  SUBCASE("modified with its size delta") {
    const auto p = diff_of(tree({file("a", "12")}), tree({file("a", "12345")}));
    const auto& d = p->d;
    REQUIRE(d.changes.size() == 1);
    CHECK(d.changes[0].kind == ChangeKind::modified);
    const auto j = to_json(d.changes[0]);
    CHECK(j["size_delta"] == 3);
    CHECK(j["size_before"] == 2);
    CHECK(j["size_after"] == 5);
  }
  SUBCASE("modified content and mode together is one modified change with both modes") {
    const auto p = diff_of(tree({file("a", "1", 0644)}), tree({file("a", "2", 0755)}));
    const auto& d = p->d;
    REQUIRE(d.changes.size() == 1);
    CHECK(d.changes[0].kind == ChangeKind::modified);
    CHECK(to_json(d.changes[0])["mode_after"] == "0755");
  }
  SUBCASE("mode change alone") {
    const auto p = diff_of(tree({file("a", "1", 0644)}), tree({file("a", "1", 0755)}));
    const auto& d = p->d;
    REQUIRE(d.changes.size() == 1);
    CHECK(d.changes[0].kind == ChangeKind::mode);
    const auto j = to_json(d.changes[0]);
    CHECK(j["mode_before"] == "0644");
    CHECK(j["mode_after"] == "0755");
    CHECK(d.summary.mode_changed == 1);
  }
  SUBCASE("type change: file to symlink") {
    const auto p =
        diff_of(tree({file("lib.so", "elf")}), tree({symlink_entry("lib.so", "lib.so.2")}));
    const auto& d = p->d;
    REQUIRE(d.changes.size() == 1);
    CHECK(d.changes[0].kind == ChangeKind::type);
    CHECK(to_json(d.changes[0])["type_before"] == "file");
    CHECK(to_json(d.changes[0])["type"] == "symlink");
    CHECK(d.summary.type_changed == 1);
  }
  SUBCASE("link target change") {
    const auto p = diff_of(tree({symlink_entry("cur", "v1")}), tree({symlink_entry("cur", "v2")}));
    const auto& d = p->d;
    REQUIRE(d.changes.size() == 1);
    CHECK(d.changes[0].kind == ChangeKind::target);
    CHECK(to_json(d.changes[0])["target_before"] == "v1");
    CHECK(to_json(d.changes[0])["target_after"] == "v2");
  }
  SUBCASE("directory mode change") {
    const auto p = diff_of(tree({archive("t", "1", {dir("d", 0755)})}),
                           tree({archive("t", "1", {dir("d", 0700)})}));
    const auto& d = p->d;
    CHECK(kinds(d) == std::map<std::string, std::string>{{"t/d", "mode"}});
  }
}

TEST_CASE("diff::compare_trees pairs a moved file into a rename") {
  SUBCASE("same digest, new path") {
    const auto p =
        diff_of(tree({file("docs/a.txt", "same bytes")}), tree({file("doc/a.txt", "same bytes")}));
    const auto& d = p->d;
    REQUIRE(d.changes.size() == 1);
    CHECK(d.changes[0].kind == ChangeKind::renamed);
    CHECK(d.changes[0].path == "doc/a.txt");
    CHECK(d.changes[0].from == "docs/a.txt");
    CHECK(d.summary.renamed == 1);
    CHECK(d.summary.added == 0);
    CHECK(d.summary.removed == 0);
  }
  SUBCASE("two copies moved: each old path used once, the extra copy is added") {
    const auto p = diff_of(tree({file("a", "x")}), tree({file("b", "x"), file("c", "x")}));
    const auto& d = p->d;
    CHECK(d.summary.renamed == 1);
    CHECK(d.summary.added == 1);
    CHECK(d.summary.removed == 0);
  }
  SUBCASE("different content at the new path is not a rename") {
    const auto p = diff_of(tree({file("a", "x")}), tree({file("b", "y")}));
    const auto& d = p->d;
    CHECK(d.summary.renamed == 0);
    CHECK(d.summary.added == 1);
    CHECK(d.summary.removed == 1);
  }
  SUBCASE("a symlink is never a rename") {
    const auto p = diff_of(tree({symlink_entry("a", "t")}), tree({symlink_entry("b", "t")}));
    const auto& d = p->d;
    CHECK(d.summary.renamed == 0);
  }
}

TEST_CASE("diff::compare_trees joins archive paths and counts leaf bytes") {
  const auto before =
      tree({archive("app.tar", "v1", {file("bin/tool", "aaaa"), file("README", "r")}),
            file("notes.txt", "nn")});
  const auto after = tree(
      {archive("app.tar",
               "v2",
               {file("bin/tool", "aaaaaaaa"), file("README", "r"), file("lib/new.so", "elf!")}),
       file("notes.txt", "nn")});
  const auto p = diff_of(before, after);
  const auto& d = p->d;
  CHECK(kinds(d)
        == std::map<std::string, std::string>{{"app.tar", "modified"},
                                              {"app.tar/bin/tool", "modified"},
                                              {"app.tar/lib/new.so", "added"}});
  // The archive itself is not a leaf: its bytes count through its contents.
  CHECK(d.summary.bytes_before == 4 + 1 + 2);
  CHECK(d.summary.bytes_after == 8 + 1 + 4 + 2);
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> folders;
  for (const auto& f : d.by_folder) {
    folders[f.folder] = {f.bytes_before, f.bytes_after};
  }
  CHECK(folders["app.tar/bin"] == std::pair<std::uint64_t, std::uint64_t>{4, 8});
  CHECK(folders["app.tar/lib"] == std::pair<std::uint64_t, std::uint64_t>{0, 4});
  CHECK(folders["app.tar"] == std::pair<std::uint64_t, std::uint64_t>{1, 1});
  CHECK(folders["."] == std::pair<std::uint64_t, std::uint64_t>{2, 2});
  CHECK(d.summary.entries_before == 4);
  CHECK(d.summary.entries_after == 5);
  CHECK(d.summary.changed_share() == doctest::Approx(3.0 / 5.0));
}

TEST_CASE("diff::compare_trees against nothing: every entry is added") {
  const auto p = diff_of(Tree{}, tree({file("a", "1"), file("b", "22")}));
  const auto& d = p->d;
  CHECK(d.summary.added == 2);
  CHECK(d.summary.bytes_before == 0);
  CHECK(d.summary.size_growth() == 3.0);
  CHECK(d.summary.changed_share() == 1.0);
}

TEST_CASE("diff::compare_trees sorts changes by joined path, not per level") {
  // "a-b" sorts before "a/…" bytewise ('-' < '/'): the merge must see one sorted order.
  const auto before = tree({archive("a", "1", {file("x", "1")}), file("a-b", "1")});
  const auto after = tree({archive("a", "1", {file("x", "1")}), file("a-b", "2")});
  const auto p = diff_of(before, after);
  const auto& d = p->d;
  CHECK(kinds(d) == std::map<std::string, std::string>{{"a-b", "modified"}});
}
