// The intake stage through the pipeline driver: accepted drops land in quarantine; each
// defective drop is rejected with its code and changes nothing but a rejection record.
#include <ecluse/intake/intake.hpp>
#include <ecluse/pipeline/driver.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include "support/support.hpp"

using ecluse::DropState;
using ecluse::test::DropBuilder;
using ecluse::test::TestWorkspace;

namespace {

// Runs ingest and checks the drop was rejected with `reason`, naming `item`, and that
// quarantine and staging hold exactly what they held before (the journal grew by one entry).
void expect_rejected(TestWorkspace& w,
                     const std::filesystem::path& drop,
                     const std::string& reason,
                     const std::string& item = {}) {
  const auto before = w.quarantine_snapshot();
  const auto journal_before = w.s().journal().entries().value().size();
  const auto out = ecluse::pipeline::ingest(w.s(), drop);
  REQUIRE(out.has_value());
  CHECK(out->drop.state == DropState::rejected);
  REQUIRE(out->drop.rejection.has_value());
  CHECK(out->drop.rejection->reason == reason);
  CHECK(out->drop.rejection->stage == "intake");
  if (!item.empty()) {
    CHECK(out->drop.rejection->item == item);
    CHECK(out->drop.rejection->message.find(item) != std::string::npos);
  }
  auto after = w.quarantine_snapshot();
  const auto journal_file = (w.dir / "ws" / "journal" / "journal.jsonl").string();
  const auto head_file = (w.dir / "ws" / "journal" / "HEAD").string();
  for (auto* snap : {&after}) {
    snap->erase(journal_file);
    snap->erase(head_file);
  }
  auto expected = before;
  expected.erase(journal_file);
  expected.erase(head_file);
  CHECK(after == expected);
  const auto entries = w.s().journal().entries().value();
  REQUIRE(entries.size() == journal_before + 1);
  CHECK(entries.back()["event"] == "intake.rejected");
  CHECK(entries.back()["details"]["reason"] == reason);
  const auto rec = w.s().state().get_drop(out->drop.id).value();
  REQUIRE(rec.has_value());
  CHECK(rec->state == DropState::rejected);
}

}  // namespace

TEST_CASE("intake: a complete drop is copied into quarantine and recorded, then verified") {
  TestWorkspace w;
  const DropBuilder b;
  const auto dir = b.write(w.dir / "drop");
  const auto out = ecluse::pipeline::ingest(w.s(), dir).value();
  CHECK(ecluse::test::past(out.drop.state, DropState::unpacked));
  CHECK_FALSE(out.already_known);
  CHECK(out.drop.id == ecluse::test::sha256_hex(ecluse::test::read_file(dir / "drop.json")));
  CHECK(out.drop.vendor == "acme");
  for (const auto& [path, bytes] : b.files) {
    CHECK(w.s()
              .objects()
              .read(*ecluse::crypto::Digest::from_hex(ecluse::test::sha256_hex(bytes)),
                    ecluse::store::Verify::yes)
              .value()
          == bytes);
  }
  const auto evidence_dir = w.dir / "ws" / "quarantine" / "drops" / out.drop.id;
  CHECK(ecluse::test::read_file(evidence_dir / "drop.json")
        == ecluse::test::read_file(dir / "drop.json"));
  CHECK(ecluse::test::read_file(evidence_dir / "drop.json.sig")
        == ecluse::test::read_file(dir / "drop.json.sig"));
  const auto stages = w.s().state().stage_results(out.drop.id).value();
  REQUIRE(stages.size() == 6);  // intake, verify, unpack, diff, test, policy
  CHECK(stages[0].stage == "intake");
  CHECK(stages[0].evidence["artifacts"].size() == 2);
  CHECK(stages[0].evidence["signature"]["size"].get<std::size_t>() > 0);
  const auto entries = w.s().journal().entries().value();
  CHECK(entries[entries.size() - 6]["event"] == "intake.received");
  CHECK(std::distance(std::filesystem::directory_iterator(w.dir / "ws" / "quarantine" / "tmp"), {})
        == 0);
}

TEST_CASE("intake: the quarantine copy does not change when the staging copy does") {
  TestWorkspace w;
  const DropBuilder b;
  const auto dir = b.write(w.dir / "drop");
  const auto out = ecluse::pipeline::ingest(w.s(), dir).value();
  ecluse::test::write_file(dir / "payload" / "README", "changed afterwards\n");
  const auto d = *ecluse::crypto::Digest::from_hex(ecluse::test::sha256_hex(b.files.at("README")));
  CHECK(w.s().objects().read(d, ecluse::store::Verify::yes).value() == b.files.at("README"));
  CHECK(ecluse::test::past(out.drop.state, DropState::unpacked));
}

TEST_CASE("intake: identical files across drops are stored once") {
  TestWorkspace w;
  DropBuilder b;
  ecluse::pipeline::ingest(w.s(), b.write(w.dir / "d1")).value();
  b.fields["version"] = "1.2.4";
  b.files["bin/app"] = "#!/bin/sh\necho demo app v2\n";
  const auto out = ecluse::pipeline::ingest(w.s(), b.write(w.dir / "d2")).value();
  CHECK(ecluse::test::past(out.drop.state, DropState::unpacked));
  std::size_t objects = 0;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(w.dir / "ws" / "quarantine" / "objects")) {
    objects += e.is_regular_file() ? 1U : 0U;
  }
  CHECK(objects == 3);
}

TEST_CASE("intake: missing, extra, resized and altered artifacts are rejected with their codes") {
  TestWorkspace w;
  const DropBuilder b;
  const auto dir = b.write(w.dir / "drop");
  SUBCASE("missing artifact") {
    std::filesystem::remove(dir / "payload" / "README");
    expect_rejected(w, dir, "intake.artifact_missing", "README");
  }
  SUBCASE("unlisted file") {
    ecluse::test::write_file(dir / "payload" / "extra.bin", "surprise");
    expect_rejected(w, dir, "intake.unlisted_file", "extra.bin");
  }
  SUBCASE("unlisted file in a subdirectory") {
    ecluse::test::write_file(dir / "payload" / "bin" / "phone-home", "surprise");
    expect_rejected(w, dir, "intake.unlisted_file", "bin/phone-home");
  }
  SUBCASE("resized artifact") {
    ecluse::test::write_file(dir / "payload" / "README", b.files.at("README") + "x");
    expect_rejected(w, dir, "intake.artifact_size_mismatch", "README");
  }
  SUBCASE("altered artifact, same size") {
    auto bytes = b.files.at("bin/app");
    bytes[3] = 'X';
    ecluse::test::write_file(dir / "payload" / "bin" / "app", bytes);
    expect_rejected(w, dir, "intake.artifact_digest_mismatch", "bin/app");
  }
  SUBCASE("artifact replaced by a symlink") {
    std::filesystem::remove(dir / "payload" / "README");
    std::filesystem::create_symlink("/etc/passwd", dir / "payload" / "README");
    expect_rejected(w, dir, "intake.not_regular_file", "README");
  }
  SUBCASE("fifo in payload") {
    REQUIRE(::mkfifo((dir / "payload" / "pipe").c_str(), 0600) == 0);
    expect_rejected(w, dir, "intake.not_regular_file", "pipe");
  }
  SUBCASE("unexpected entry beside payload") {
    ecluse::test::write_file(dir / "install.sh", "curl x | sh");
    expect_rejected(w, dir, "intake.unexpected_entry", "install.sh");
  }
  SUBCASE("no payload directory") {
    std::filesystem::remove_all(dir / "payload");
    expect_rejected(w, dir, "intake.missing_payload", "payload");
  }
  SUBCASE("no drop.json") {
    std::filesystem::remove(dir / "drop.json");
    expect_rejected(w, dir, "intake.missing_drop_json", "drop.json");
  }
  SUBCASE("drop.json is a symlink") {
    std::filesystem::rename(dir / "drop.json", w.dir / "elsewhere.json");
    std::filesystem::create_symlink(w.dir / "elsewhere.json", dir / "drop.json");
    expect_rejected(w, dir, "intake.not_regular_file", "drop.json");
  }
  SUBCASE("drop directory missing") {
    expect_rejected(w, w.dir / "nope", "intake.drop_unreadable");
  }
}

TEST_CASE("intake: drop.json defects are rejected through the pipeline too") {
  TestWorkspace w;
  DropBuilder b;
  SUBCASE("expired") {
    b.fields["expires"] = "2026-11-01T00:00:00Z";
    expect_rejected(w, b.write(w.dir / "drop"), "drop.expired", "expires");
  }
  SUBCASE("unknown channel") {
    b.fields["channel"] = "nightly";
    expect_rejected(w, b.write(w.dir / "drop"), "drop.unknown_channel", "nightly");
  }
  SUBCASE("path outside") {
    auto m = b.manifest();
    m["artifacts"][0]["path"] = "../../etc/passwd";
    expect_rejected(
        w, b.write_with(w.dir / "drop", m.dump()), "drop.path_outside", "../../etc/passwd");
  }
  SUBCASE("too large") {
    const auto dir = b.write_with(w.dir / "drop", std::string(2U << 20U, ' '));
    expect_rejected(w, dir, "drop.too_large", "drop.json");
  }
  SUBCASE("garbage") {
    expect_rejected(w, b.write_with(w.dir / "drop", "\x00\xff garbage"), "drop.malformed_json");
  }
}

TEST_CASE(
    "intake: a drop that expires later is accepted, and one not yet expired at the clock's time") {
  TestWorkspace w;
  DropBuilder b;
  b.fields["expires"] = "2026-11-23T12:00:01Z";
  CHECK(ecluse::test::past(
      ecluse::pipeline::ingest(w.s(), b.write(w.dir / "drop")).value().drop.state,
      DropState::unpacked));
}

TEST_CASE("intake::ready_drops lists only directories holding READY") {
  ecluse::test::TempDir d;
  ecluse::test::write_file(d / "b" / "READY", "");
  ecluse::test::write_file(d / "a" / "READY", "");
  ecluse::test::write_file(d / "c" / "drop.json", "{}");
  ecluse::test::write_file(d / "file", "");
  const auto ready = ecluse::intake::ready_drops(d.path());
  REQUIRE(ready.size() == 2);
  CHECK(ready[0].filename() == "a");
  CHECK(ready[1].filename() == "b");
}

TEST_CASE("intake: an empty directory that holds no listed artifact is unlisted") {
  TestWorkspace w;
  const auto dir = DropBuilder{}.write(w.dir / "drop");
  std::filesystem::create_directories(dir / "payload" / "bin" / "hooks");
  expect_rejected(w, dir, "intake.unlisted_file", "bin/hooks");
}
