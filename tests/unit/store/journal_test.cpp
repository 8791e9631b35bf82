// The audit journal: chaining, tamper detection naming the first bad line, escaping,
// concurrent appenders.
#include <ecluse/store/journal.hpp>

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "support/support.hpp"

using ecluse::store::Journal;
using ecluse::store::JournalEntry;

namespace {

JournalEntry entry(int i) {
  return JournalEntry{
      "2026-11-23T12:00:00Z", "test", "drop" + std::to_string(i), "test.event", {{"i", i}}};
}

struct Fixture {
  ecluse::test::TempDir dir;
  Journal journal{dir.path()};

  explicit Fixture(int n) {
    for (int i = 1; i <= n; ++i) {
      REQUIRE(journal.append(entry(i)).has_value());
    }
  }

  [[nodiscard]] std::vector<std::string> lines() const {
    std::istringstream in(ecluse::test::read_file(dir / "journal.jsonl"));
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) {
      out.push_back(l);
    }
    return out;
  }

  void rewrite(const std::vector<std::string>& ls) const {
    std::string text;
    for (const auto& l : ls) {
      text += l + "\n";
    }
    ecluse::test::write_file(dir / "journal.jsonl", text);
  }

  [[nodiscard]] ecluse::store::JournalCheck check() const { return journal.verify().value(); }
};

// Rewrites line index i's "details" so it still parses and is canonical.
std::string edited(const std::string& line) {
  auto j = ecluse::json::parse_strict(line).value;
  j["details"] = {{"i", 999}};
  return ecluse::json::dump_line(j);
}

}  // namespace

TEST_CASE("store::Journal chains entries and verifies clean") {
  const Fixture f(5);
  const auto c = f.check();
  CHECK(c.ok);
  CHECK(c.entries == 5);
  const auto entries = f.journal.entries().value();
  REQUIRE(entries.size() == 5);
  CHECK(entries[0]["prev"] == std::string(64, '0'));
  CHECK(entries[4]["seq"] == 5);
  CHECK(entries[1]["prev"] == ecluse::test::sha256_hex(f.lines()[0]));
}

TEST_CASE("store::Journal::verify names the first tampered line") {
  Fixture f(6);
  auto ls = f.lines();
  SUBCASE("edited entry in the middle") {
    ls[2] = edited(ls[2]);
    f.rewrite(ls);
    CHECK(f.check().first_bad_line == 3);
  }
  SUBCASE("edited last entry") {
    ls[5] = edited(ls[5]);
    f.rewrite(ls);
    CHECK(f.check().first_bad_line == 6);
  }
  SUBCASE("edited without keeping canonical form") {
    ls[1].insert(1, " ");
    f.rewrite(ls);
    CHECK(f.check().first_bad_line == 2);
  }
  SUBCASE("deleted entry") {
    ls.erase(ls.begin() + 3);
    f.rewrite(ls);
    CHECK(f.check().first_bad_line == 4);
  }
  SUBCASE("inserted entry with a plausible seq and prev") {
    auto forged = ecluse::json::parse_strict(ls[2]).value;
    forged["prev"] = ecluse::test::sha256_hex(ls[2]);
    forged["seq"] = 4;
    forged["event"] = "forged";
    ls.insert(ls.begin() + 3, ecluse::json::dump_line(forged));
    f.rewrite(ls);
    CHECK(f.check().first_bad_line == 4);
  }
  SUBCASE("reordered entries") {
    std::swap(ls[1], ls[2]);
    f.rewrite(ls);
    CHECK(f.check().first_bad_line == 2);
  }
  SUBCASE("truncated: last entries cut") {
    ls.resize(4);
    f.rewrite(ls);
    const auto c = f.check();
    CHECK_FALSE(c.ok);
    CHECK(c.first_bad_line == 5);
  }
  SUBCASE("truncated mid-line") {
    const auto text = ecluse::test::read_file(f.dir / "journal.jsonl");
    ecluse::test::write_file(f.dir / "journal.jsonl", text.substr(0, text.size() - 10));
    CHECK(f.check().first_bad_line == 6);
  }
  SUBCASE("a line's own prev edited") {
    auto j = ecluse::json::parse_strict(ls[1]).value;
    j["prev"] = std::string(64, 'f');
    ls[1] = ecluse::json::dump_line(j);
    f.rewrite(ls);
    CHECK(f.check().first_bad_line == 2);
  }
  SUBCASE("inserted after line k, repeating k's seq and chaining onto it") {
    auto forged = ecluse::json::parse_strict(ls[2]).value;
    forged["prev"] = ecluse::test::sha256_hex(ls[2]);
    forged["event"] = "forged";
    ls.insert(ls.begin() + 3, ecluse::json::dump_line(forged));
    f.rewrite(ls);
    CHECK(f.check().first_bad_line == 4);
  }
  SUBCASE("journal and HEAD both deleted") {
    std::filesystem::remove(f.dir / "journal.jsonl");
    std::filesystem::remove(f.dir / "HEAD");
    CHECK(f.check().first_bad_line == 1);
  }
  SUBCASE("emptied") {
    f.rewrite({});
    CHECK(f.check().first_bad_line == 1);
  }
  CHECK_FALSE(f.check().ok);
}

TEST_CASE("store::Journal escapes attacker-controlled strings so no entry can forge another") {
  const Fixture f(1);
  const std::string evil = "x\"}\n{\"seq\":3,\"event\":\"promoted\"}\n\u2028";
  REQUIRE(f.journal.append(JournalEntry{"t", "test", evil, evil, {{evil, evil}}}).has_value());
  CHECK(f.lines().size() == 2);
  const auto entries = f.journal.entries().value();
  CHECK(entries[1]["event"] == evil);
  CHECK(f.check().ok);
}

TEST_CASE("store::Journal: concurrent appenders from several processes keep one valid chain") {
  const Fixture f(0);
  constexpr int k_procs = 4;
  constexpr int k_each = 25;
  std::vector<pid_t> pids;
  for (int p = 0; p < k_procs; ++p) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      bool ok = true;
      for (int i = 0; i < k_each; ++i) {
        ok = ok && f.journal.append(entry(p * 100 + i)).has_value();
      }
      ::_exit(ok ? 0 : 1);
    }
    pids.push_back(pid);
  }
  for (const auto pid : pids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WEXITSTATUS(status) == 0);
  }
  const auto c = f.check();
  CHECK(c.ok);
  CHECK(c.entries == k_procs * k_each);
}

TEST_CASE("store::Journal cuts a line torn by a crash at the next append and journals the cut") {
  const Fixture f(3);
  const auto text = ecluse::test::read_file(f.dir / "journal.jsonl");
  ecluse::test::write_file(f.dir / "journal.jsonl", text + "{\"actor\":\"cli:root\",\"det");
  CHECK_FALSE(f.check().ok);
  REQUIRE(f.journal.append(entry(4)).has_value());
  const auto c = f.check();
  CHECK(c.ok);
  CHECK(c.entries == 5);
  const auto entries = f.journal.entries().value();
  CHECK(entries[3]["event"] == "journal.repaired");
  CHECK(entries[3]["details"]["removed_bytes"] == 24);
  CHECK(entries[4]["details"]["i"] == 4);
}
