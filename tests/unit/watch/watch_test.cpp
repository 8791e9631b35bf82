// The watcher's pieces that need no process: durations, readiness, fingerprints, drop lines.
#include <ecluse/watch/watch.hpp>

#include <doctest/doctest.h>

#include "support/support.hpp"
#include "watch/drops.hpp"

namespace {

namespace watch = ecluse::watch;
namespace detail = ecluse::watch::detail;
using ecluse::test::TempDir;
using ecluse::test::write_file;

}  // namespace

TEST_CASE("watch::parse_duration takes s, m, h, d or plain seconds, and nothing else") {
  CHECK(watch::parse_duration("24h") == std::chrono::seconds(86400));
  CHECK(watch::parse_duration("90m") == std::chrono::seconds(5400));
  CHECK(watch::parse_duration("2d") == std::chrono::seconds(172800));
  CHECK(watch::parse_duration("30s") == std::chrono::seconds(30));
  CHECK(watch::parse_duration("3600") == std::chrono::seconds(3600));
  for (const char* bad :
       {"", "0", "0h", "h", "-1h", "1.5h", "1w", "24 h", "1h30m", "99999999999d"}) {
    CAPTURE(bad);
    CHECK_FALSE(watch::parse_duration(bad).has_value());
  }
}

TEST_CASE("watch: drop directories, READY markers, lines and fingerprints") {
  const TempDir in;
  std::filesystem::create_directories(in / "b-drop");
  std::filesystem::create_directories(in / "a-drop" / "payload");
  std::filesystem::create_directories(in / ".hidden");
  write_file(in / "a-file", "x");
  std::filesystem::create_directory_symlink(in / "a-drop", in / "c-link");
  const auto dirs = detail::drop_dirs(in.path());
  REQUIRE(dirs.size() == 2);  // no hidden directory, file or symlink
  CHECK(dirs[0].filename() == "a-drop");
  CHECK(dirs[1].filename() == "b-drop");
  CHECK(detail::drop_dirs(in / "missing").empty());

  CHECK_FALSE(detail::has_marker(in / "a-drop"));
  std::filesystem::create_directory(in / "b-drop" / "READY");  // a directory is no marker
  CHECK_FALSE(detail::has_marker(in / "b-drop"));
  write_file(in / "a-drop" / "READY", "");
  CHECK(detail::has_marker(in / "a-drop"));

  CHECK(detail::line_of(in / "a-drop").empty());
  write_file(in / "a-drop" / "drop.json",
             R"({"vendor":"acme","product":"agent","channel":"prod"})");
  CHECK(detail::line_of(in / "a-drop") == "acme/agent/prod");
  write_file(in / "b-drop" / "drop.json", R"({"vendor":"acme","product":7})");
  CHECK(detail::line_of(in / "b-drop").empty());

  const auto before = detail::fingerprint(in / "a-drop");
  CHECK(before.readable);
  CHECK(before.entries == 3);  // payload/, READY, drop.json
  CHECK(detail::fingerprint(in / "a-drop") == before);
  write_file(in / "a-drop" / "payload" / "part", "more bytes");
  const auto after = detail::fingerprint(in / "a-drop");
  CHECK_FALSE(after == before);
  CHECK(after.bytes == before.bytes + 10);
  CHECK_FALSE(detail::fingerprint(in / "gone").readable);
}
