// Signed journal checkpoints through the real pipeline: a forged signature, a deleted
// checkpoint file and a journal rewritten consistently (chain and HEAD recomputed) are caught;
// then a signing and every k_checkpoint_every entries checkpoint the journal, and a checkpoint
// by a key revoked later is neither counted nor a problem.
#include <ecluse/core/base64.hpp>
#include <ecluse/keys/keyring.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/pipeline/sign.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support/support.hpp"

using ecluse::DropState;
using ecluse::json::Json;
using ecluse::keys::Keyring;
using ecluse::keys::Role;
using ecluse::test::DropBuilder;
using ecluse::test::TestWorkspace;

namespace {

namespace stdfs = std::filesystem;

struct Fixture {
  TestWorkspace w;

  [[nodiscard]] stdfs::path journal() const { return w.dir.path() / "ws" / "journal"; }

  [[nodiscard]] stdfs::path checkpoints() const { return journal() / "checkpoints.jsonl"; }

  // A drop the test policy approves (no executables), ingested and signed.
  std::string signed_drop() {
    DropBuilder b;
    b.files = {{"README", "docs only\n"}, {"data.csv", "a,b\n1,2\n"}};
    const auto out = ecluse::pipeline::ingest(w.s(), b.write(w.dir.path() / "drop")).value();
    REQUIRE(out.drop.state == DropState::signed_off);
    return out.drop.id;
  }

  [[nodiscard]] ecluse::pipeline::JournalReport report() const {
    auto r = ecluse::pipeline::verify_journal(w.s());
    REQUIRE(r.has_value());
    return *r;
  }

  [[nodiscard]] Keyring ring() const {
    auto r = Keyring::open(w.dir.path() / "ws" / "keys");
    REQUIRE(r.has_value());
    return std::move(*r);
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    out.push_back(line);
  }
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    out += l + "\n";
  }
  return out;
}

// Rewrites journal.jsonl as someone without the journal key could: edits one entry, then
// recomputes every prev hash and HEAD exactly as src/store/journal.cpp writes them.
void rewrite_journal(const stdfs::path& journal, const std::function<bool(Json&)>& edit) {
  auto lines = lines_of(ecluse::test::read_file(journal / "journal.jsonl"));
  REQUIRE_FALSE(lines.empty());
  std::string prev(64, '0');
  bool edited = false;
  for (auto& line : lines) {
    auto entry = Json::parse(line);
    if (!edited) {
      edited = edit(entry);
    }
    entry["prev"] = prev;
    line = ecluse::json::dump_line(entry);
    prev = ecluse::test::sha256_hex(line);
  }
  REQUIRE(edited);
  ecluse::test::write_file(journal / "journal.jsonl", joined(lines));
  const Json head{{"seq", lines.size()}, {"sha256", prev}};
  ecluse::test::write_file(journal / "HEAD", ecluse::json::dump_line(head) + "\n");
}

bool mentions(const ecluse::pipeline::JournalReport& r, const std::string& word) {
  return std::any_of(r.problems.begin(), r.problems.end(), [&](const auto& p) {
    return p.problem.find(word) != std::string::npos;
  });
}

}  // namespace

TEST_CASE("pipeline::verify_journal reports forged, deleted and outdated checkpoints") {
  Fixture f;
  f.signed_drop();
  REQUIRE(f.report().ok());
  const auto original = ecluse::test::read_file(f.checkpoints());
  const auto cps = lines_of(original);
  REQUIRE_FALSE(cps.empty());

  SUBCASE("a checkpoint's envelope signature edited") {
    auto doc = Json::parse(cps.front());
    auto& sig = doc["envelope"]["signatures"][0]["sig"];
    auto raw = ecluse::base64_decode(sig.get<std::string>()).value();
    raw[raw.size() / 2] = static_cast<char>(raw[raw.size() / 2] ^ 0x01);
    sig = ecluse::base64_encode(raw);
    auto edited = cps;
    edited.front() = ecluse::json::dump_line(doc);
    ecluse::test::write_file(f.checkpoints(), joined(edited));
    const auto r = f.report();
    CHECK(r.chain.ok);
    CHECK_FALSE(r.ok());
    REQUIRE_FALSE(r.problems.empty());
    CHECK(r.problems.front().line == 1);
    CHECK(r.checkpoints == cps.size() - 1);
  }
  SUBCASE("a checkpoint's signed head edited") {
    auto doc = Json::parse(cps.front());
    auto& payload = doc["envelope"]["payload"];
    auto body = Json::parse(ecluse::base64_decode(payload.get<std::string>()).value());
    body["seq"] = body["seq"].get<std::uint64_t>() + 1;
    payload = ecluse::base64_encode(body.dump(2) + "\n");
    auto edited = cps;
    edited.front() = ecluse::json::dump_line(doc);
    ecluse::test::write_file(f.checkpoints(), joined(edited));
    CHECK_FALSE(f.report().ok());
  }
  SUBCASE("checkpoints.jsonl deleted: journal.checkpoint entries without their line") {
    REQUIRE(stdfs::remove(f.checkpoints()));
    const auto r = f.report();
    CHECK(r.chain.ok);
    CHECK_FALSE(r.ok());
    CHECK(r.checkpoints == 0);
    CHECK(mentions(r, "deleted"));
  }
  SUBCASE("the journal rewritten consistently, chain and HEAD recomputed") {
    rewrite_journal(f.journal(), [](Json& e) {
      if (e["event"] != "intake.received") {
        return false;
      }
      e["details"]["source"] = "/somewhere/else";
      return true;
    });
    const auto chain = f.w.s().journal().verify().value();
    REQUIRE(chain.ok);  // the chain alone cannot tell
    const auto r = f.report();
    CHECK(r.chain.ok);
    CHECK_FALSE(r.ok());
    CHECK(r.checkpoints == 0);
    CHECK(mentions(r, "rewritten"));
  }
  SUBCASE("a checkpoint line added that the journal key did not sign") {
    ecluse::test::write_file(f.checkpoints(), original + R"({"seq":1,"envelope":{}})" + "\n");
    CHECK_FALSE(f.report().ok());
  }
  SUBCASE("a checkpoint line whose seq is not a number (reported, never thrown)") {
    ecluse::test::write_file(f.checkpoints(),
                             R"({"seq":"one","envelope":"x"})" + std::string("\n") + original);
    const auto r = f.report();
    CHECK_FALSE(r.ok());
    REQUIRE_FALSE(r.problems.empty());
    CHECK(r.problems.front().line == 1);
    CHECK(r.checkpoints == cps.size());
  }
}

TEST_CASE("pipeline sign checkpoints the journal, and verify_journal accepts it") {
  Fixture f;
  CHECK_FALSE(stdfs::exists(f.checkpoints()));
  f.signed_drop();
  const auto cps = lines_of(ecluse::test::read_file(f.checkpoints()));
  REQUIRE(cps.size() >= 1);
  const auto r = f.report();
  CHECK(r.ok());
  CHECK(r.chain.ok);
  CHECK(r.problems.empty());
  CHECK(r.checkpoints >= 1);
  CHECK(r.checkpoints == cps.size());
  const auto journal_key = f.ring().list().active(Role::journal).front()->keyid;
  CHECK(r.signers == std::vector<std::string>{journal_key});
  // The last checkpoint signs the head as it was at the signing, and is journaled.
  const auto last = Json::parse(cps.back());
  CHECK(r.last_checkpoint == last["seq"].get<std::uint64_t>());
  CHECK(last["head"] == r.chain.line_hashes.at(last["seq"].get<std::size_t>() - 1));
  const auto entries = f.w.s().journal().entries().value();
  const auto recorded = std::count_if(entries.begin(), entries.end(), [&](const Json& e) {
    return e["event"] == "journal.checkpoint" && e["details"]["seq"] == last["seq"];
  });
  CHECK(recorded == 1);
}

TEST_CASE("pipeline: every k_checkpoint_every journal entries are checkpointed without a signing") {
  Fixture f;
  const auto start = f.w.s().journal().head().value().seq;
  REQUIRE(start < ecluse::pipeline::k_checkpoint_every);
  for (std::uint64_t i = start; i < ecluse::pipeline::k_checkpoint_every; ++i) {
    REQUIRE(f.w.s().record("", "test.event", {{"i", i}}).has_value());
  }
  REQUIRE(stdfs::exists(f.checkpoints()));
  const auto cps = lines_of(ecluse::test::read_file(f.checkpoints()));
  REQUIRE(cps.size() == 1);
  CHECK(Json::parse(cps.front())["seq"] == ecluse::pipeline::k_checkpoint_every);
  const auto r = f.report();
  CHECK(r.ok());
  CHECK(r.checkpoints == 1);
  CHECK(r.last_checkpoint == ecluse::pipeline::k_checkpoint_every);
  // Not due again until another k_checkpoint_every entries follow.
  CHECK_FALSE(ecluse::pipeline::checkpoint(f.w.s(), false).value());
  CHECK(lines_of(ecluse::test::read_file(f.checkpoints())).size() == 1);
  const auto entries = f.w.s().journal().entries().value();
  CHECK(std::none_of(
      entries.begin(), entries.end(), [](const Json& e) { return e["event"] == "sign.signed"; }));
}

TEST_CASE("pipeline::verify_journal: a checkpoint by a journal key revoked later does not count") {
  Fixture f;
  f.signed_drop();
  const auto before = f.report();
  REQUIRE(before.ok());
  REQUIRE(before.checkpoints >= 1);
  auto ring = f.ring();
  const auto old_key = ring.list().active(Role::journal).front()->keyid;
  auto rotated = ring.rotate(Role::journal, "", ecluse::test::test_now());
  REQUIRE(rotated.has_value());
  REQUIRE(ring.revoke(old_key, "journal key leaked", ecluse::test::test_now()).has_value());

  const auto after = f.report();
  CHECK(after.ok());  // not a problem ...
  CHECK(after.problems.empty());
  CHECK(after.checkpoints == 0);  // ... and not counted
  CHECK(after.signers.empty());

  // The next checkpoint, by the new key, covers the whole chain again.
  REQUIRE(ecluse::pipeline::checkpoint(f.w.s(), true).value());
  const auto renewed = f.report();
  CHECK(renewed.ok());
  CHECK(renewed.checkpoints == 1);
  CHECK(renewed.signers == std::vector<std::string>{rotated->keyid});
}
