// repo::Repository bundles: written for `git bundle verify` and `git clone`, staged strictly.
#include <ecluse/repo/repository.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "support/support.hpp"
#include "unit/repo/fixture.hpp"

namespace {

namespace stdfs = std::filesystem;
using ecluse::repo::Oid;
using ecluse::repo::Repository;
using BundleRef = Repository::BundleRef;
using ecluse::test::commit_files;
using ecluse::test::fake_sign;
using ecluse::test::GitHome;
using ecluse::test::k_sig;
using ecluse::test::must;
using ecluse::test::read_file;
using ecluse::test::run;
using ecluse::test::write_file;

// Every file under dir with its size: "nothing changed" is this map unchanged.
std::map<std::string, std::uintmax_t> snapshot(const stdfs::path& dir) {
  std::map<std::string, std::uintmax_t> files;
  for (const auto& e : stdfs::recursive_directory_iterator(dir)) {
    files[stdfs::relative(e.path(), dir).string()] = e.is_regular_file() ? e.file_size() : 0;
  }
  return files;
}

bool has_staging_dir(const Repository& r) {
  return std::ranges::any_of(stdfs::directory_iterator(r.path()), [](const auto& e) {
    return e.path().filename().string().starts_with("ecluse-staging-");
  });
}

// A sender with two releases on main (c2 after c1, tag t2 on c2) and an empty receiver.
struct Fixture : GitHome {
  Repository src = must(Repository::create(dir / "src.git"));
  Repository dst = must(Repository::create(dir / "dst.git"));
  Oid c1 = commit_files(src, {{"a", "1"}, {"same", "s"}}, {}, "one\n");
  Oid c2 = commit_files(src, {{"a", "2"}, {"same", "s"}, {"b", "b"}}, {c1}, "two\n");
  Oid t2 =
      must(src.create_tag({.name = "p/2", .target = c2, .tagger = {}, .message = "2"}, fake_sign));

  void fsck_clean(const Repository& r) const {
    const auto f = git_in(r, "fsck --strict --no-dangling");
    CHECK_MESSAGE(f.status == 0, f.out);
    CHECK_MESSAGE(f.out.find("error") == std::string::npos, f.out);
  }

  stdfs::path bundle(const std::string& name,
                     const std::vector<BundleRef>& refs,
                     const std::vector<Oid>& exclude) const {
    auto out = dir / name;
    REQUIRE(src.write_bundle(out, refs, exclude));
    return out;
  }

  // The full bundle (main and the tag, no prerequisites) and the one after c1.
  [[nodiscard]] stdfs::path full() const {
    return bundle("full.bundle", {{c2, "refs/heads/main"}, {t2, "refs/tags/p/2"}}, {});
  }

  [[nodiscard]] stdfs::path incremental() const {
    return bundle("incr.bundle", {{c2, "refs/heads/main"}}, {c1});
  }
};

std::size_t header_size(const std::string& bytes) {
  return bytes.find("\n\n") + 2;
}

}  // namespace

TEST_CASE("repo::Repository::stage_bundle rejects malformed bundles and leaves no trace") {
  Fixture f;
  const auto good = read_file(f.full());
  const auto head = good.substr(0, header_size(good));
  const auto pack = good.substr(header_size(good));
  const auto before = snapshot(f.dst.path());
  const auto rejected = [&](const std::string& bytes) {
    write_file(f.dir / "bad.bundle", bytes);
    const auto r = f.dst.stage_bundle(f.dir / "bad.bundle");
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == "repo.bad_bundle");
    CHECK_FALSE(has_staging_dir(f.dst));
    CHECK(snapshot(f.dst.path()) == before);
  };
  const auto ref_line = f.c2 + " refs/heads/main\n";
  SUBCASE("a wrong header line") {
    rejected("# v3 git bundle\n" + good.substr(16));
  }
  SUBCASE("no header at all") {
    rejected(pack);
  }
  SUBCASE("an empty file") {
    rejected("");
  }
  SUBCASE("a ref line with a short oid") {
    rejected("# v2 git bundle\n" + f.c2.substr(0, 39) + " refs/heads/main\n\n" + pack);
  }
  SUBCASE("a ref line with an upper-case oid") {
    std::string upper = f.c2;
    for (auto& c : upper) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    rejected("# v2 git bundle\n" + upper + "x refs/heads/main\n\n" + pack);
  }
  SUBCASE("a ref line without a name") {
    rejected("# v2 git bundle\n" + f.c2 + "\n\n" + pack);
  }
  SUBCASE("a ref name git refuses") {
    rejected("# v2 git bundle\n" + f.c2 + " refs/heads/a..b\n\n" + pack);
  }
  SUBCASE("a ref name outside refs/") {
    rejected("# v2 git bundle\n" + f.c2 + " HEAD\n\n" + pack);
  }
  SUBCASE("a ref named twice") {
    rejected("# v2 git bundle\n" + ref_line + ref_line + "\n" + pack);
  }
  SUBCASE("no ref") {
    rejected("# v2 git bundle\n\n" + pack);
  }
  SUBCASE("a malformed prerequisite") {
    rejected("# v2 git bundle\n-" + f.c1.substr(1) + "\n" + ref_line + "\n" + pack);
  }
  SUBCASE("a prerequisite this repository lacks") {
    rejected(read_file(f.incremental()));
  }
  SUBCASE("a header with no end within 1 MiB") {
    rejected("# v2 git bundle\n" + f.c2 + " refs/heads/" + std::string(2U << 20U, 'x'));
  }
  SUBCASE("a truncated pack") {
    rejected(head + pack.substr(0, pack.size() - 30));
  }
  SUBCASE("a pack cut after its header") {
    rejected(head + pack.substr(0, 12));
  }
  SUBCASE("garbage instead of a pack") {
    rejected(head + std::string(4096, 'g'));
  }
  SUBCASE("no pack") {
    rejected(head);
  }
  SUBCASE("bytes after the pack") {
    rejected(good + "trailing");
  }
  SUBCASE("a pack with one byte changed") {
    auto bad = pack;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x40);
    rejected(head + bad);
  }
  SUBCASE("a ref naming an object the bundle does not hold") {
    const auto other = commit_files(f.src, {{"z", "z"}}, {}, "other\n");
    rejected("# v2 git bundle\n" + other + " refs/heads/main\n\n" + pack);
  }
  SUBCASE("a pack whose objects need objects it lacks") {
    const auto incr = read_file(f.incremental());
    rejected("# v2 git bundle\n" + ref_line + "\n" + incr.substr(header_size(incr)));
  }
  SUBCASE("not a regular file") {
    const auto r = f.dst.stage_bundle(f.dir.path());
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == "repo.bad_bundle");
    CHECK(f.dst.stage_bundle(f.dir / "missing").error().reason == "repo.bad_bundle");
  }
}

TEST_CASE("repo::Repository::write_bundle refuses refs it cannot name") {
  Fixture f;
  const auto reason_of = [&](const std::vector<BundleRef>& refs) {
    const auto r = f.src.write_bundle(f.dir / "x.bundle", refs, {});
    return r ? std::string("written") : r.error().reason;
  };
  SUBCASE("a bad ref name") {
    CHECK(reason_of({{f.c2, "refs/heads/a b"}}) == "repo.bad_path");
  }
  SUBCASE("a missing target") {
    CHECK(reason_of({{std::string(40, '7'), "refs/heads/main"}}) == "repo.not_found");
  }
  SUBCASE("a target that is a blob") {
    CHECK(reason_of({{must(f.src.write_blob("x")), "refs/heads/main"}}) == "repo.not_found");
  }
  SUBCASE("no refs") {
    CHECK(reason_of({}) != "written");
  }
  CHECK_FALSE(stdfs::exists(f.dir / "x.bundle"));
}

TEST_CASE("repo::Repository::write_bundle writes bundles git verifies and clones") {
  Fixture f;
  const auto full = f.full();
  const auto verify = f.git_in(f.src, "bundle verify " + full.string());
  CHECK_MESSAGE(verify.status == 0, verify.out);
  const auto clone = f.dir / "clone";
  const auto cloned = run("HOME=" + f.dir.path().string() + " git clone -q -b main " + full.string()
                          + " " + clone.string());
  REQUIRE_MESSAGE(cloned.status == 0, cloned.out);
  const auto cloned_git = clone / ".git";
  CHECK(run(f.git_cmd(cloned_git, "rev-parse main")).out == f.c2 + "\n");
  CHECK(run(f.git_cmd(cloned_git, "rev-parse refs/tags/p/2")).out == f.t2 + "\n");
  CHECK(read_file(clone / "b") == "b");
  CHECK(run(f.git_cmd(cloned_git, "fsck --strict")).status == 0);

  SUBCASE("an incremental bundle names its prerequisite and verifies where it exists") {
    const auto incr =
        f.bundle("incr.bundle", {{f.c2, "refs/heads/main"}}, {f.c1, std::string(40, '8')});
    const auto bytes = read_file(incr);
    CHECK(bytes.starts_with("# v2 git bundle\n-" + f.c1 + "\n" + f.c2 + " refs/heads/main\n\n"));
    const auto base = must(Repository::create(f.dir / "base.git"));
    REQUIRE(base.copy_from(f.src, f.c1, {}));
    const auto ok = run(f.git_cmd(base.path(), "bundle verify " + incr.string()));
    CHECK_MESSAGE(ok.status == 0, ok.out);
    CHECK(f.git_in(f.dst, "bundle verify " + incr.string()).status != 0);  // lacks c1
    CHECK(bytes.size() < read_file(full).size());
  }
}

TEST_CASE("repo::Repository::stage_bundle views a bundle's objects and apply() keeps them") {
  Fixture f;
  REQUIRE(f.dst.copy_from(f.src, f.c1, {}));
  REQUIRE(f.dst.update_branch("main", std::nullopt, f.c1, "first"));
  auto staged = must(f.dst.stage_bundle(f.incremental()));
  REQUIRE(staged->refs().size() == 1);
  CHECK(staged->refs()[0].name == "refs/heads/main");
  CHECK(staged->refs()[0].target == f.c2);
  CHECK(staged->prerequisites() == std::vector<Oid>{f.c1});
  CHECK(has_staging_dir(f.dst));

  const auto& view = staged->view();
  CHECK(view.has_object(f.c2));
  CHECK_FALSE(f.dst.has_object(f.c2));
  const auto history = must(view.history(f.c2));
  REQUIRE(history.size() == 2);
  CHECK(history[0].id == f.c2);
  CHECK(history[0].signature == k_sig);
  CHECK(must(view.read_tree(f.c2)).size() == 3);
  CHECK(must(view.branch("main")) == f.c1);  // refs unchanged
  CHECK(view.write_blob("x").error().reason == "repo.io_error");

  REQUIRE(staged->apply());
  CHECK(f.dst.has_object(f.c2));
  CHECK(must(staged->view().history(f.c2)).size() == 2);  // still readable after the move
  REQUIRE(staged->apply());                               // a second apply changes nothing
  staged.reset();
  CHECK_FALSE(has_staging_dir(f.dst));
  CHECK(f.dst.has_object(f.c2));
  REQUIRE(f.dst.update_branch("main", f.c1, f.c2, "second"));
  f.fsck_clean(f.dst);
  CHECK(f.git_in(f.dst, "cat-file -p main:b").out == "b");
}

TEST_CASE("repo::Repository::stage_bundle accepts a bundle with nothing new in it") {
  Fixture f;
  REQUIRE(f.dst.copy_from(f.src, f.c2, {}));
  auto staged =
      must(f.dst.stage_bundle(f.bundle("empty.bundle", {{f.c2, "refs/heads/main"}}, {f.c2})));
  CHECK(staged->prerequisites() == std::vector<Oid>{f.c2});
  CHECK(staged->view().has_object(f.c2));
  REQUIRE(staged->apply());
  staged.reset();
  REQUIRE(f.dst.update_branch("main", std::nullopt, f.c2, "x"));
  f.fsck_clean(f.dst);
}

TEST_CASE("repo::Repository::stage_bundle dropped without apply leaves the repository unchanged") {
  Fixture f;
  const auto before = snapshot(f.dst.path());
  {
    const auto staged = must(f.dst.stage_bundle(f.full()));
    CHECK(staged->view().has_object(f.t2));
    CHECK(has_staging_dir(f.dst));
  }
  CHECK_FALSE(has_staging_dir(f.dst));
  CHECK(snapshot(f.dst.path()) == before);
  CHECK_FALSE(f.dst.has_object(f.c2));
  CHECK_FALSE(f.dst.has_object(f.t2));
}

TEST_CASE("repo::Repository::stage_bundle reads a bundle made by git bundle create") {
  Fixture f;
  REQUIRE(f.src.update_branch("main", std::nullopt, f.c2, "x"));
  const auto out = f.dir / "git.bundle";
  const auto made = f.git_in(f.src, "bundle create " + out.string() + " main");
  REQUIRE_MESSAGE(made.status == 0, made.out);
  auto staged = must(f.dst.stage_bundle(out));
  REQUIRE(staged->refs().size() == 1);
  CHECK(staged->refs()[0].target == f.c2);
  REQUIRE(staged->apply());
  staged.reset();
  REQUIRE(f.dst.update_branch("main", std::nullopt, f.c2, "x"));
  f.fsck_clean(f.dst);
}
