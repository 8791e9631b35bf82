// fs::open_beneath: the only way intake opens a vendor file.
#include <ecluse/core/fs.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

#include "support/support.hpp"

using ecluse::fs::open_beneath;

TEST_CASE("fs::open_beneath refuses every way out of the root and every non-regular file") {
  ecluse::test::TempDir d;
  ecluse::test::write_file(d / "root" / "dir" / "file", "inside");
  ecluse::test::write_file(d / "outside" / "secret", "outside");
  const auto root = d / "root";
  const auto reason_of = [&](const char* rel) {
    const auto r = open_beneath(root, rel, ecluse::reason::k_intake_io);
    return r ? std::string("opened") : r.error().reason;
  };
  SUBCASE("a regular file inside opens") {
    CHECK(reason_of("dir/file") == "opened");
  }
  SUBCASE("an intermediate directory that is a symlink leading out") {
    std::filesystem::create_directory_symlink(d / "outside", root / "link");
    CHECK(reason_of("link/secret") == "intake.not_regular_file");
  }
  SUBCASE("a final symlink") {
    std::filesystem::create_symlink(d / "outside" / "secret", root / "dir" / "alias");
    CHECK(reason_of("dir/alias") == "intake.not_regular_file");
  }
  SUBCASE("a fifo is refused at once instead of blocking") {
    REQUIRE(::mkfifo((root / "dir" / "pipe").c_str(), 0600) == 0);
    CHECK(reason_of("dir/pipe") == "intake.not_regular_file");
  }
  SUBCASE("a directory") {
    CHECK(reason_of("dir") == "intake.not_regular_file");
  }
  SUBCASE("a missing file is the caller's reason") {
    CHECK(reason_of("dir/none") == "intake.io_error");
  }
}
