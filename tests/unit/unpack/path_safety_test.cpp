// Path safety, separately: entry names, link targets and trees, and the materialiser that
// applies the same rules again before writing anything, with openat-style resolution.
#include <ecluse/store/content_store.hpp>
#include <ecluse/text/unicode.hpp>
#include <ecluse/unpack/materialise.hpp>
#include <ecluse/unpack/path_safety.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "support/support.hpp"

namespace stdfs = std::filesystem;

using ecluse::unpack::check_entry_path;
using ecluse::unpack::Entry;
using ecluse::unpack::EntryType;
using ecluse::unpack::NameLimits;
using ecluse::unpack::TreeGuard;

namespace {

std::string refusal(std::string_view raw, NameLimits limits = {}) {
  auto r = check_entry_path(raw, limits);
  return r ? std::string("ok:") + *r : r.error().reason;
}

std::string admit_all(
    const std::vector<std::pair<std::string, std::pair<EntryType, std::string>>>& entries) {
  TreeGuard g(NameLimits{});
  for (const auto& [path, what] : entries) {
    if (auto ok = g.admit(path, what.first, what.second); !ok) {
      return ok.error().reason + "@" + ok.error().item;
    }
  }
  auto done = g.finish();
  return done ? "ok" : done.error().reason + "@" + done.error().item;
}

Entry file(const std::string& path, const ecluse::crypto::Digest& d, std::uint32_t mode = 0644) {
  Entry e;
  e.path = path;
  e.type = EntryType::file;
  e.mode = mode;
  e.sha256 = d;
  return e;
}

Entry link(const std::string& path, EntryType t, const std::string& target) {
  Entry e;
  e.path = path;
  e.type = t;
  e.mode = 0777;
  e.target = target;
  return e;
}

// A content store, an empty destination and an empty canary beside it.
struct Scratch {
  ecluse::test::TempDir t;
  ecluse::store::ContentStore objects{t / "objects", t / "tmp"};

  Scratch() {
    for (const auto* d : {"objects/sha256", "tmp", "out", "canary"}) {
      stdfs::create_directories(t / d);
    }
  }
};

}  // namespace

TEST_CASE("check_entry_path normalises harmless forms and refuses every escape") {
  CHECK(refusal("a/b.txt") == "ok:a/b.txt");
  CHECK(refusal("./a/b.txt") == "ok:a/b.txt");
  CHECK(refusal("././dir/") == "ok:dir");
  CHECK(refusal("/etc/passwd") == "unpack.path_absolute");
  CHECK(refusal("C:/x") == "unpack.path_absolute");
  CHECK(refusal("c:x") == "unpack.path_absolute");
  CHECK(refusal("../x") == "unpack.path_traversal");
  CHECK(refusal("a/../../x") == "unpack.path_traversal");
  CHECK(refusal("a/..") == "unpack.path_traversal");
  CHECK(refusal("a\\..\\x") == "unpack.path_backslash");
  CHECK(refusal("..\\x") == "unpack.path_backslash");
  CHECK(refusal(std::string("a\0b", 3)) == "unpack.bad_name");
  CHECK(refusal("") == "unpack.bad_name");
  CHECK(refusal(".") == "unpack.bad_name");
  CHECK(refusal("a//b") == "unpack.bad_name");
  CHECK(refusal("a/./b") == "unpack.bad_name");
  CHECK(refusal(std::string(300, 'n')) == "unpack.name_too_long");
  CHECK(refusal("a/b/c", NameLimits{4, 255}) == "unpack.path_too_long");
  CHECK(refusal("...") == "ok:...");  // a name, not a parent reference
}

TEST_CASE("TreeGuard: symlinks may not lead out, nor be written through") {
  const auto sym = EntryType::symlink;
  const auto dir = EntryType::dir;
  const auto reg = EntryType::file;
  CHECK(admit_all({{"lib/libx.so", {sym, "libx.so.1"}}}) == "ok");
  CHECK(admit_all({{"bin/tool", {sym, "../lib/tool"}}}) == "ok");
  CHECK(admit_all({{"bin/tool", {sym, "../../etc"}}}) == "unpack.symlink_escape@bin/tool");
  CHECK(admit_all({{"evil", {sym, "/etc/passwd"}}}) == "unpack.symlink_escape@evil");
  CHECK(admit_all({{"evil", {sym, ""}}}) == "unpack.symlink_escape@evil");
  CHECK(admit_all({{"evil", {sym, "a\\..\\..\\x"}}}) == "unpack.path_backslash@evil");
  // "d" is a symlink: "d/.." is not "." but d's real parent.
  CHECK(admit_all({{"sub", {dir, ""}}, {"d", {sym, "sub/x"}}, {"e", {sym, "d/../../.."}}})
        == "unpack.symlink_escape@e");
  // A later entry turning a component of an earlier target into a symlink is caught at the end.
  CHECK(admit_all({{"e", {sym, "x/.."}}, {"x", {sym, "sub/deep"}}}) == "unpack.symlink_escape@e");
  CHECK(admit_all({{"d", {sym, "sub"}}, {"d/pwned", {reg, ""}}})
        == "unpack.write_through_symlink@d/pwned");
  CHECK(admit_all({{"a", {reg, ""}}, {"a/b", {reg, ""}}}) == "unpack.type_conflict@a/b");
  CHECK(admit_all({{"a/b", {reg, ""}}, {"a", {reg, ""}}}) == "unpack.type_conflict@a");
  CHECK(admit_all({{"a", {dir, ""}}, {"a", {sym, "b"}}}) == "unpack.type_conflict@a");
  // A symlink repeated with another target: the check may not forget the first one.
  CHECK(admit_all({{"l", {sym, "x"}}, {"l", {sym, "."}}}) == "unpack.duplicate_entry@l");
  CHECK(admit_all({{"l", {sym, "x"}}, {"l", {sym, "x"}}}) == "ok");
  // Targets are bounded like paths, and long ones are checked in linear time.
  std::string deep;
  for (int i = 0; i < 2100; ++i) {
    deep += "a/";
  }
  CHECK(admit_all({{"l", {sym, deep}}}) == "unpack.path_too_long@l");
  std::string many;
  for (int i = 0; i < 300; ++i) {
    many += "d/";
  }
  CHECK(refusal(many + "f") == "unpack.path_too_long");
}

TEST_CASE("TreeGuard: hardlinks name only regular files already seen inside the tree") {
  const auto hard = EntryType::hardlink;
  const auto reg = EntryType::file;
  CHECK(admit_all({{"a", {reg, ""}}, {"b", {hard, "a"}}}) == "ok");
  CHECK(admit_all({{"a", {reg, ""}}, {"b", {hard, "./a"}}}) == "ok");
  CHECK(admit_all({{"b", {hard, "a"}}, {"a", {reg, ""}}}) == "unpack.hardlink_escape@b");
  CHECK(admit_all({{"b", {hard, "../outside"}}}) == "unpack.hardlink_escape@b");
  CHECK(admit_all({{"b", {hard, "/etc/passwd"}}}) == "unpack.hardlink_escape@b");
  CHECK(admit_all({{"s", {EntryType::symlink, "x"}}, {"b", {hard, "s"}}})
        == "unpack.hardlink_escape@b");
  CHECK(admit_all({{"d", {EntryType::dir, ""}}, {"b", {hard, "d"}}}) == "unpack.hardlink_escape@b");
}

TEST_CASE("materialise writes files, links and directories, without setuid or write bits") {
  const Scratch scratch;
  const auto& t = scratch.t;
  const auto& objects = scratch.objects;
  const auto d = objects.put("payload\n").value();
  Entry dir;
  dir.path = "bin";
  dir.type = EntryType::dir;
  dir.mode = 0777;
  const std::vector<Entry> tree{dir,
                                file("bin/tool", d, 04777),
                                link("bin/alias", EntryType::symlink, "tool"),
                                link("copy", EntryType::hardlink, "bin/tool")};
  REQUIRE(ecluse::unpack::materialise(tree, objects, t / "out").has_value());
  CHECK(ecluse::test::read_file(t / "out" / "bin" / "tool") == "payload\n");
  CHECK(stdfs::is_symlink(t / "out" / "bin" / "alias"));
  CHECK(stdfs::read_symlink(t / "out" / "bin" / "alias") == "tool");
  CHECK(stdfs::hard_link_count(t / "out" / "copy") == 2);
  const auto perms = stdfs::status(t / "out" / "bin" / "tool").permissions();
  CHECK((perms & stdfs::perms::set_uid) == stdfs::perms::none);
  CHECK((perms & stdfs::perms::others_write) == stdfs::perms::none);
  CHECK((perms & stdfs::perms::owner_exec) != stdfs::perms::none);
  CHECK(perms == static_cast<stdfs::perms>(0555));  // readable and runnable by the sandbox user
}

TEST_CASE("materialise makes an owner-only file readable by all, never writable") {
  const Scratch scratch;
  const auto d = scratch.objects.put("secret-looking\n").value();
  REQUIRE(ecluse::unpack::materialise(
              {file("a", d, 0600), file("b", d, 0700)}, scratch.objects, scratch.t / "out")
              .has_value());
  CHECK(stdfs::status(scratch.t / "out" / "a").permissions() == static_cast<stdfs::perms>(0444));
  CHECK(stdfs::status(scratch.t / "out" / "b").permissions() == static_cast<stdfs::perms>(0555));
}

TEST_CASE("materialise refuses a hostile manifest before writing anything") {
  const Scratch scratch;
  const auto& t = scratch.t;
  const auto& objects = scratch.objects;
  const auto d = objects.put("x").value();
  const std::vector<std::pair<std::vector<Entry>, std::string>> cases{
      {{file("ok", d), file("../canary/pwned", d)}, "unpack.path_traversal"},
      {{file("ok", d), file("/tmp/pwned", d)}, "unpack.path_absolute"},
      {{file("ok", d), file("./ok2", d)}, "unpack.bad_name"},
      {{link("d", EntryType::symlink, "../canary"), file("d/pwned", d)}, "unpack.symlink_escape"},
      {{link("d", EntryType::symlink, "sub"), file("d/pwned", d)}, "unpack.write_through_symlink"},
      {{link("h", EntryType::hardlink, "../canary/x")}, "unpack.hardlink_escape"},
  };
  for (const auto& [tree, code] : cases) {
    CAPTURE(code);
    auto r = ecluse::unpack::materialise(tree, objects, t / "out");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().reason == code);
    CHECK(stdfs::is_empty(t / "out"));
    CHECK(stdfs::is_empty(t / "canary"));
  }
}

TEST_CASE("materialise never follows a symlink planted in the destination") {
  const Scratch scratch;
  const auto& t = scratch.t;
  const auto& objects = scratch.objects;
  const auto d = objects.put("x").value();
  // Something (another process, a race) put a symlink where the tree needs a directory.
  stdfs::create_directory_symlink(t / "canary", t / "out" / "lib");
  auto r = ecluse::unpack::materialise({file("lib/pwned", d)}, objects, t / "out");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().reason == "unpack.write_through_symlink");
  CHECK(stdfs::is_empty(t / "canary"));
  // And a planted file symlink is not written through either.
  stdfs::create_symlink(t / "canary" / "target", t / "out" / "f");
  auto r2 = ecluse::unpack::materialise({file("f", d)}, objects, t / "out");
  REQUIRE_FALSE(r2.has_value());
  CHECK(stdfs::is_empty(t / "canary"));
}

TEST_CASE("fold_key folds case and normalisation, even for names that expand a lot") {
  using ecluse::text::fold_key;
  CHECK(fold_key("README") == fold_key("readme"));
  CHECK(fold_key("caf\xc3\xa9.txt") == fold_key("cafe\xcc\x81.txt"));
  CHECK(fold_key("a") != fold_key("b"));
  std::string wide;
  for (int i = 0; i < 20; ++i) {
    wide += "\xef\xb7\xba";  // U+FDFA: 18 UTF-16 units once folded
  }
  const auto folded = fold_key(wide);
  REQUIRE(folded.has_value());
  CHECK(folded->size() > wide.size() * 4);
  CHECK_FALSE(fold_key("bad\xff").has_value());
}
