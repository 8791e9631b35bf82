// promote::export_channel and promote::import_bundle between real bare repositories: refusals
// first (a tampered bundle or index, an untrusted root, a diverged receiver, each leaving the
// receiver as it was), then full and incremental transfers that git fsck accepts.
#include <ecluse/crypto/dsse.hpp>
#include <ecluse/promote/promote.hpp>
#include <ecluse/promote/transfer.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

#include "support/support.hpp"
#include "unit/promote/fixture.hpp"

namespace {

namespace crypto = ecluse::crypto;
namespace json = ecluse::json;
namespace promote = ecluse::promote;
namespace repo = ecluse::repo;
namespace test = ecluse::test;
namespace stdfs = std::filesystem;
using ecluse::Result;
using ecluse::TimePoint;
using ecluse::test::k_now;
using ecluse::test::KeySet;
using ecluse::test::must;
using ecluse::test::options;
using ecluse::test::ours;
using ecluse::test::reason_of;
using ecluse::test::theirs;

// A release as the sign stage hands it over (see promote_test.cpp): two artifacts from files,
// a CMS signature, a DSSE attestation by the release key and release.json.
promote::ReleaseContent make_release(const stdfs::path& src_dir,
                                     const std::string& version,
                                     const std::string& drop) {
  const std::string product = "cloud";
  promote::ReleaseContent c{product, version, drop, {}, {}};
  const auto attestations = test::add_attestation(
      c, {{"_type", "https://in-toto.io/Statement/v1"}, {"predicate", {{"drop", drop}}}});
  const std::map<std::string, std::string> artifacts{{"agent.tar.gz", "agent " + version + "\n"},
                                                     {"README.txt", "read me, " + version + "\n"}};
  for (const auto& [name, bytes] : artifacts) {
    test::add_artifact(c, src_dir / version / name, name, bytes, attestations);
  }
  test::add_release_file(c,
                         {{"schema", promote::k_release_schema},
                          {"drop", drop},
                          {"product", product},
                          {"version", version}});
  return c;
}

// One channel repository (prod.git) in a temporary directory.
struct Channel : test::ChannelRepo {
  promote::PromotedRelease add(const std::string& version, const KeySet& keys = ours()) const {
    return must(promote::promote(
        repo, make_release(dir / "src", version, "drop-" + version), keys.signers(), options()));
  }

  [[nodiscard]] Result<promote::ExportResult> export_to(
      const std::string& out, const std::optional<std::string>& since = std::nullopt) const {
    return promote::export_channel(repo, {"prod", dir / out, since, k_now}, ours().release);
  }

  // Branch and tags: what an import may change.
  [[nodiscard]] std::pair<std::optional<repo::Oid>, std::map<std::string, repo::Oid>> refs() const {
    std::map<std::string, repo::Oid> tags;
    for (const auto& name : must(repo.tag_names())) {
      tags[name] = must(repo.tag(name))->id;
    }
    return {branch(), tags};
  }
};

// Imports into the receiving repository of channel "prod".
Result<promote::ImportResult> import_into(const repo::Repository& r,
                                          const stdfs::path& bundle,
                                          const std::string& root,
                                          TimePoint now) {
  return promote::import_bundle(r, bundle, "prod", root, now);
}

json::Json index_payload(const stdfs::path& index) {
  const auto env = must(crypto::dsse::parse(test::read_file(index), "index"));
  CHECK(env.payload_type == promote::k_export_type);
  const auto doc = json::parse_strict(env.payload);
  REQUIRE(doc.failure == json::ParseFailure::none);
  return doc.value;
}

// A sender that promoted 1.0.0, exported it (full) and promoted 1.1.0, exported since 1.0.0
// (incr); a receiver that imported the full export.
struct Transfer {
  Channel sender;
  Channel receiver;
  promote::ExportResult full;
  promote::PromotedRelease second;
  promote::ExportResult incr;
  std::string root;

  Transfer() {
    sender.add("1.0.0");
    root = sender.trusted_root();
    full = must(sender.export_to("out1"));
    must(import_into(receiver.repo, full.bundle, root, k_now));
    second = sender.add("1.1.0");
    incr = must(sender.export_to("out2", "cloud/1.0.0"));
  }
};

}  // namespace

TEST_CASE("promote::index_of and index_channel find the index beside a bundle") {
  const test::TempDir dir;
  CHECK(promote::index_of("/x/prod.bundle") == stdfs::path("/x/prod.index.json"));
  CHECK(reason_of(promote::index_channel(dir / "prod.bundle")) == "transfer.bad_index");
  test::write_file(dir / "prod.index.json", "not an envelope");
  CHECK_FALSE(promote::index_channel(dir / "prod.bundle"));
  const std::array<const crypto::SigningKey*, 1> keys{&ours().release};
  test::write_file(dir / "prod.index.json",
                   crypto::dsse::serialise(must(crypto::dsse::sign(
                       std::string(promote::k_export_type), "{\"schema\": \"x\"}", keys))));
  CHECK(reason_of(promote::index_channel(dir / "prod.bundle")) == "transfer.bad_index");
}

TEST_CASE("promote::export_channel refuses an empty channel and an unknown tag") {
  const Channel ch;
  CHECK(reason_of(ch.export_to("out")) == "repo.not_found");
  ch.add("1.0.0");
  CHECK(reason_of(ch.export_to("out", "cloud/9.9.9")) == "repo.not_found");
}

TEST_CASE("promote::import_bundle refuses a tampered or untrusted transfer, changing nothing") {
  const Transfer t;
  const auto& [sender, receiver, full, second, incr, root] = t;
  auto before = receiver.refs();

  SUBCASE("a flipped byte in the bundle: transfer.mismatch or repo.bad_bundle") {
    const auto bytes = test::read_file(incr.bundle);
    const auto header_end = bytes.find("\n\n") + 2;
    for (const auto offset :
         {std::size_t{20}, header_end + 12, bytes.size() / 2, bytes.size() - 1}) {
      CAPTURE(offset);
      auto flipped = bytes;
      flipped[offset] = static_cast<char>(flipped[offset] ^ 0x01);
      test::write_file(incr.bundle, flipped);
      const auto r = import_into(receiver.repo, incr.bundle, root, k_now);
      REQUIRE_FALSE(r);
      CHECK_MESSAGE(
          (r.error().reason == "transfer.mismatch" || r.error().reason == "repo.bad_bundle"),
          r.error().to_string());
      CHECK(receiver.refs() == before);
    }
  }
  SUBCASE("another valid bundle under the index: transfer.mismatch") {
    stdfs::copy_file(full.bundle, incr.bundle, stdfs::copy_options::overwrite_existing);
    CHECK(reason_of(import_into(receiver.repo, incr.bundle, root, k_now)) == "transfer.mismatch");
  }
  SUBCASE("the index re-signed by another key: transfer.bad_index") {
    const auto env = must(crypto::dsse::parse(test::read_file(incr.index), "index"));
    const std::array<const crypto::SigningKey*, 1> keys{&theirs().release};
    test::write_file(incr.index,
                     crypto::dsse::serialise(must(crypto::dsse::sign(
                         std::string(promote::k_export_type), env.payload, keys))));
    CHECK(reason_of(import_into(receiver.repo, incr.bundle, root, k_now)) == "transfer.bad_index");
  }
  SUBCASE("the index's payload edited under its signature: transfer.bad_index") {
    auto env = must(crypto::dsse::parse(test::read_file(incr.index), "index"));
    auto doc = json::parse_strict(env.payload).value;
    doc["bundle"]["sha256"] = std::string(64, '0');
    env.payload = json::dump_pretty(doc) + "\n";
    test::write_file(incr.index, crypto::dsse::serialise(env));
    CHECK(reason_of(import_into(receiver.repo, incr.bundle, root, k_now)) == "transfer.bad_index");
  }
  SUBCASE("the index signed with another payload type: transfer.bad_index") {
    const auto env = must(crypto::dsse::parse(test::read_file(incr.index), "index"));
    const std::array<const crypto::SigningKey*, 1> keys{&ours().release};
    test::write_file(incr.index,
                     crypto::dsse::serialise(must(crypto::dsse::sign(
                         std::string(crypto::dsse::k_in_toto_type), env.payload, keys))));
    CHECK(reason_of(import_into(receiver.repo, incr.bundle, root, k_now)) == "transfer.bad_index");
  }
  SUBCASE("an index signed by the release key naming other refs: transfer.mismatch") {
    const auto env = must(crypto::dsse::parse(test::read_file(incr.index), "index"));
    auto doc = json::parse_strict(env.payload).value;
    doc["refs"].push_back({{"name", "refs/tags/cloud/9.9.9"}, {"oid", second.commit}});
    const std::array<const crypto::SigningKey*, 1> keys{&ours().release};
    test::write_file(incr.index,
                     crypto::dsse::serialise(must(crypto::dsse::sign(
                         std::string(promote::k_export_type), json::dump_pretty(doc), keys))));
    CHECK(reason_of(import_into(receiver.repo, incr.bundle, root, k_now)) == "transfer.mismatch");
  }
  SUBCASE("an index signed by the release key with a field of the wrong type: bad_index") {
    const auto env = must(crypto::dsse::parse(test::read_file(incr.index), "index"));
    auto doc = json::parse_strict(env.payload).value;
    doc["bundle"] = "prod.bundle";
    const std::array<const crypto::SigningKey*, 1> keys{&ours().release};
    test::write_file(incr.index,
                     crypto::dsse::serialise(must(crypto::dsse::sign(
                         std::string(promote::k_export_type), json::dump_pretty(doc), keys))));
    CHECK(reason_of(import_into(receiver.repo, incr.bundle, root, k_now)) == "transfer.bad_index");
  }
  SUBCASE("an export of another channel: transfer.mismatch") {
    CHECK(reason_of(promote::import_bundle(receiver.repo, incr.bundle, "preprod", root, k_now))
          == "transfer.mismatch");
  }
  SUBCASE("no index: transfer.bad_index") {
    stdfs::remove(incr.index);
    CHECK(reason_of(import_into(receiver.repo, incr.bundle, root, k_now)) == "transfer.bad_index");
  }
  SUBCASE("a trusted root of another key set: tuf.*") {
    const Channel other;
    other.add("1.0.0", theirs());
    const auto r = import_into(receiver.repo, incr.bundle, other.trusted_root(), k_now);
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(r.error().reason.starts_with("tuf."), r.error().to_string());
  }
  SUBCASE("imported after the metadata expired: tuf.expired") {
    CHECK(reason_of(
              import_into(receiver.repo, incr.bundle, root, k_now + std::chrono::hours(24 * 400)))
          == "tuf.expired");
  }
  SUBCASE("an incremental bundle into a repository without its prerequisite: repo.bad_bundle") {
    const Channel fresh;
    CHECK(reason_of(import_into(fresh.repo, incr.bundle, root, k_now)) == "repo.bad_bundle");
    CHECK_FALSE(fresh.branch().has_value());
    CHECK(must(fresh.repo.tag_names()).empty());
  }
  SUBCASE("a receiver whose branch diverged: repo.ref_moved") {
    receiver.add("1.0.5");
    before = receiver.refs();
    const auto r = import_into(receiver.repo, incr.bundle, root, k_now);
    CHECK_MESSAGE(reason_of(r) == "repo.ref_moved", (r ? "" : r.error().to_string()));
  }
  CHECK(receiver.refs() == before);
  CHECK_FALSE(receiver.repo.has_object(second.commit));
  receiver.fsck_clean();
}

TEST_CASE("promote::export_channel and import_bundle carry a channel across, then increments") {
  const Channel sender;
  const auto first = sender.add("1.0.0");
  const auto root = sender.trusted_root();
  const auto full = must(sender.export_to("out1"));
  CHECK(full.bundle == sender.dir / "out1" / "prod.bundle");
  CHECK(full.index == sender.dir / "out1" / "prod.index.json");
  CHECK(full.tip == first.commit);
  CHECK(full.tags == 1);
  CHECK(full.sha256 == test::sha256_hex(test::read_file(full.bundle)));
  CHECK(must(promote::index_channel(full.bundle)) == "prod");
  const auto verified = sender.git("bundle verify " + full.bundle.string());
  CHECK_MESSAGE(verified.status == 0, verified.out);

  const auto index = index_payload(full.index);
  CHECK(index.at("schema") == promote::k_export_schema);
  CHECK(index.at("channel") == "prod");
  CHECK(index.at("tip") == first.commit);
  CHECK(index.at("bundle").at("sha256") == full.sha256);
  CHECK(index.at("prerequisites").empty());
  CHECK(index.at("tuf").at("targets") == 1);
  CHECK(index.at("refs").size() == 2);

  const Channel receiver;
  const auto imported = must(import_into(receiver.repo, full.bundle, root, k_now));
  CHECK(imported.channel == "prod");
  CHECK_FALSE(imported.old_tip.has_value());
  CHECK(imported.tip == first.commit);
  CHECK(imported.tags == 1);
  CHECK(imported.report.ok());
  CHECK(receiver.branch() == first.commit);
  CHECK(receiver.refs() == sender.refs());
  receiver.fsck_clean();
  const auto report = must(promote::verify_channel(
      receiver.repo, {root, k_now, std::nullopt, "main", std::nullopt, std::nullopt}));
  CHECK(report.ok());

  SUBCASE("the same bundle again changes nothing") {
    const auto again = must(import_into(receiver.repo, full.bundle, root, k_now));
    CHECK(again.old_tip == first.commit);
    CHECK(again.tip == first.commit);
    CHECK(receiver.refs() == sender.refs());
  }
  SUBCASE("an incremental export since the first tag imports on top") {
    const auto second = sender.add("1.1.0");
    const auto incr = must(sender.export_to("out2", "cloud/1.0.0"));
    CHECK(incr.tip == second.commit);
    CHECK(incr.tags == 2);
    CHECK(index_payload(incr.index).at("prerequisites") == json::Json::array({first.commit}));
    CHECK(index_payload(incr.index).at("since") == "cloud/1.0.0");
    CHECK(stdfs::file_size(incr.bundle) < stdfs::file_size(full.bundle) * 2);
    const auto next = must(import_into(receiver.repo, incr.bundle, root, k_now));
    CHECK(next.old_tip == first.commit);
    CHECK(next.tip == second.commit);
    CHECK(next.tags == 2);
    CHECK(receiver.branch() == second.commit);
    CHECK(receiver.refs() == sender.refs());
    CHECK(must(receiver.repo.tag("cloud/1.1.0"))->target == second.commit);
    receiver.fsck_clean();
    const auto after = must(promote::verify_channel(
        receiver.repo, {root, k_now, std::nullopt, "main", std::nullopt, std::nullopt}));
    CHECK(after.ok());
    CHECK(after.commits == 2);
    // The first bundle replayed now would take the branch back: refused, nothing changes.
    const auto refs = receiver.refs();
    CHECK(reason_of(import_into(receiver.repo, full.bundle, root, k_now)) == "repo.ref_moved");
    CHECK(receiver.refs() == refs);
  }
}

TEST_CASE(
    "promote::import_bundle refuses a tag the receiver holds as another object before "
    "moving anything") {
  // A stray local tag under a name the bundle brings: checked before apply() and the branch
  // update, or the refusal would leave the branch moved and the release without its tag.
  const Transfer t;
  const auto& [sender, receiver, full, second, incr, root] = t;
  const auto tag1 = must(receiver.repo.tag("cloud/1.0.0"))->id;
  const auto made = receiver.git("update-ref refs/tags/cloud/1.1.0 " + tag1);
  REQUIRE_MESSAGE(made.status == 0, made.out);
  const auto before = receiver.refs();
  const auto r = import_into(receiver.repo, incr.bundle, root, k_now);
  CHECK_MESSAGE(reason_of(r) == "repo.ref_moved", (r ? "" : r.error().to_string()));
  CHECK(receiver.branch() == before.first);
  CHECK(receiver.refs() == before);
  CHECK_FALSE(receiver.repo.has_object(second.commit));
}
