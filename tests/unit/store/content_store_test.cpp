// The content-addressed store: layout, deduplication, verification, concurrent writers.
#include <ecluse/store/content_store.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/support.hpp"

using ecluse::store::ContentStore;
using ecluse::test::TempDir;

namespace {

struct Fixture {
  TempDir dir;
  ContentStore store{dir / "objects", dir / "tmp"};

  Fixture() {
    std::filesystem::create_directories(dir / "objects" / "sha256");
    std::filesystem::create_directories(dir / "tmp");
  }

  [[nodiscard]] std::size_t tmp_files() const {
    return static_cast<std::size_t>(
        std::distance(std::filesystem::directory_iterator(dir / "tmp"), {}));
  }
};

}  // namespace

TEST_CASE("store::ContentStore puts objects at sha256/ab/cdef… and reads them back verified") {
  Fixture f;
  const auto d = f.store.put("hello").value();
  CHECK(d.hex() == ecluse::test::sha256_hex("hello"));
  CHECK(f.store.object_path(d)
        == f.dir / "objects" / "sha256" / d.hex().substr(0, 2) / d.hex().substr(2));
  CHECK(f.store.contains(d));
  CHECK(f.store.read(d, ecluse::store::Verify::yes).value() == "hello");
  CHECK(f.store.verify(d).has_value());
  CHECK(f.tmp_files() == 0);
}

TEST_CASE("store::ContentStore never rewrites an existing object") {
  Fixture f;
  const auto d = f.store.put("same bytes").value();

  struct stat before {};

  REQUIRE(::stat(f.store.object_path(d).c_str(), &before) == 0);
  const auto again = f.store.put("same bytes").value();

  struct stat after {};

  REQUIRE(::stat(f.store.object_path(again).c_str(), &after) == 0);
  CHECK(before.st_ino == after.st_ino);
  CHECK(f.tmp_files() == 0);
}

TEST_CASE("store::ContentStore detects an object altered on disk and a missing one") {
  Fixture f;
  const auto d = f.store.put("original").value();
  const auto p = f.store.object_path(d);
  ::chmod(p.c_str(), 0644);
  ecluse::test::write_file(p, "tampered");
  const auto r = f.store.read(d, ecluse::store::Verify::yes);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().reason == "store.object_corrupt");
  CHECK(f.store.verify(d).error().reason == "store.object_corrupt");
  const auto missing = ecluse::crypto::sha256("never stored").value();
  CHECK(f.store.verify(missing).error().reason == "store.object_missing");
  CHECK(f.store.read(missing).error().reason == "store.object_missing");
}

TEST_CASE("store::ContentStore::stage enforces the byte limit and leaves no temporary behind") {
  Fixture f;
  const auto src = f.dir / "src";
  ecluse::test::write_file(src, std::string(1000, 'x'));
  {
    const auto fd = ecluse::fs::open_read_nofollow(src, ecluse::reason::k_store_io).value();
    const auto r = f.store.stage(fd.get(), 999, ecluse::reason::k_intake_size_mismatch, "src");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().reason == "intake.artifact_size_mismatch");
    CHECK(r.error().item == "src");
  }
  CHECK(f.tmp_files() == 0);
  {
    const auto fd = ecluse::fs::open_read_nofollow(src, ecluse::reason::k_store_io).value();
    auto staged =
        f.store.stage(fd.get(), 1000, ecluse::reason::k_intake_size_mismatch, "src").value();
    CHECK(staged.size() == 1000);
    CHECK(f.tmp_files() == 1);
  }
  CHECK(f.tmp_files() == 0);  // discarded uncommitted
}

TEST_CASE(
    "store::ContentStore: processes storing the same object at once all succeed, object intact") {
  Fixture f;
  std::string big(8U << 20U, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>((i * 2654435761U) >> 13U);
  }
  const auto expected = ecluse::crypto::sha256(big).value();
  constexpr int k_writers = 6;
  std::vector<pid_t> pids;
  for (int i = 0; i < k_writers; ++i) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const auto d = f.store.put(big);
      ::_exit(d.has_value() && d->hex() == expected.hex() ? 0 : 1);
    }
    pids.push_back(pid);
  }
  for (const auto pid : pids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  CHECK(f.store.verify(expected).has_value());
  CHECK(f.tmp_files() == 0);
}

TEST_CASE("store::ContentStore sweeps temporaries of dead writers only") {
  Fixture f;
  ecluse::test::write_file(f.dir / "tmp" / "obj-999999999-1", "left by a killed writer");
  ecluse::test::write_file(f.dir / "tmp" / ("obj-" + std::to_string(::getpid()) + "-2"),
                           "still being written");
  ecluse::test::write_file(f.dir / "tmp" / "unrelated", "not ours");
  CHECK(f.store.sweep_stale_temporaries() == 1);
  CHECK_FALSE(std::filesystem::exists(f.dir / "tmp" / "obj-999999999-1"));
  CHECK(f.tmp_files() == 2);
}
