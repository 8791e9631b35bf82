// The sign stage through the real pipeline (real keys, real drops, real OpenSSL). Refusals
// first: tampered, mismatched and revoked attestations, an engineer without an active key,
// approvals copied onto another drop or by a revoked key, a rotated key approving twice; then
// what an approved drop ends with (stage Statements, the verification summary, CMS signatures
// openssl accepts), release key rotation, signed approvals counted once per key, and the
// reload of a signed drop.
#include <ecluse/attest/attest.hpp>
#include <ecluse/core/base64.hpp>
#include <ecluse/crypto/dsse.hpp>
#include <ecluse/keys/keyring.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/pipeline/review.hpp>

#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
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

const std::vector<std::string> k_stage_files{"verify", "unpack", "diff", "approval"};

struct Fixture {
  TestWorkspace w;
  int n = 0;
  std::map<std::string, stdfs::path> sources;  // drop id → the directory it was built in

  [[nodiscard]] stdfs::path ws() const { return w.dir.path() / "ws"; }

  [[nodiscard]] stdfs::path drop_dir(const std::string& id) const {
    return ws() / "quarantine" / "drops" / id;
  }

  void set_policy(const std::function<void(Json&)>& edit) const {
    auto doc = ecluse::test::test_policy();
    edit(doc);
    ecluse::test::write_file(ws() / "policy.json", doc.dump());
  }

  ecluse::pipeline::IngestOutcome ingest(const DropBuilder& b) {
    const auto dir = b.write(w.dir.path() / ("drop" + std::to_string(n++)));
    auto out = ecluse::pipeline::ingest(w.s(), dir);
    REQUIRE(out.has_value());
    sources[out->drop.id] = dir;
    return *out;
  }

  // A drop the test policy approves: no executables, one artifact in a subdirectory.
  static DropBuilder clean(const std::string& product = "docs") {
    DropBuilder b;
    b.files = {
        {"README", "docs only\n"}, {"data.csv", "a,b\n1,2\n"}, {"doc/guide.txt", "read me\n"}};
    b.fields["product"] = product;
    return b;
  }

  // A clean drop, signed.
  std::string signed_drop(const std::string& product = "docs") {
    const auto out = ingest(clean(product));
    REQUIRE(out.drop.state == DropState::signed_off);
    return out.drop.id;
  }

  [[nodiscard]] Keyring ring() const {
    auto r = Keyring::open(ws() / "keys");
    REQUIRE(r.has_value());
    return std::move(*r);
  }

  [[nodiscard]] std::string attestation(const std::string& id, const std::string& name) const {
    const auto file = drop_dir(id) / "attestations" / (name + ".dsse.json");
    REQUIRE(stdfs::exists(file));
    return ecluse::test::read_file(file);
  }

  [[nodiscard]] std::size_t events(const std::string& name) const {
    std::size_t count = 0;
    const auto entries = w.s().journal().entries().value();
    for (const auto& e : entries) {
      count += e["event"] == name ? 1U : 0U;
    }
    return count;
  }

  // The SHA-256 of the drop's verdict as signed approvals bind it.
  [[nodiscard]] std::string verdict_sha(const std::string& id) const {
    const auto results = w.s().state().stage_results(id).value();
    std::string sha;
    for (const auto& r : results) {
      if (r.stage == "policy") {
        sha = ecluse::test::sha256_hex(ecluse::json::dump_line(r.evidence));
      }
    }
    REQUIRE_FALSE(sha.empty());
    return sha;
  }

  // A held drop (bin/app is a new executable) of its own version.
  std::string held(const std::string& version) {
    DropBuilder b;
    b.fields["version"] = version;
    const auto out = ingest(b);
    REQUIRE(out.drop.state == DropState::held);
    return out.drop.id;
  }
};

ecluse::Result<ecluse::attest::VerifiedAttestation> verify(
    const std::string& envelope,
    const ecluse::keys::KeyList& keys,
    const std::vector<ecluse::attest::ArtifactDigest>& artifacts = {}) {
  return ecluse::attest::verify_attestation(envelope, keys, artifacts, "test.dsse.json");
}

template <class T>
std::string reason_of(const ecluse::Result<T>& r) {
  REQUIRE_FALSE(r.has_value());
  return r.error().reason;
}

// The envelope with its payload edited and its signatures kept.
std::string with_payload(const std::string& envelope,
                         const std::function<void(std::string&)>& edit) {
  auto doc = Json::parse(envelope);
  auto payload = ecluse::base64_decode(doc["payload"].get<std::string>()).value();
  const auto before = payload;
  edit(payload);
  REQUIRE(payload != before);
  doc["payload"] = ecluse::base64_encode(payload);
  return doc.dump();
}

Json predicate_of(const std::string& envelope, const ecluse::keys::KeyList& keys) {
  auto v = verify(envelope, keys);
  REQUIRE(v.has_value());
  return v->statement.predicate;
}

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string quoted(const stdfs::path& p) {
  return "'" + p.string() + "'";
}

}  // namespace

TEST_CASE("attest::verify_attestation refuses tampered, mismatched and revoked attestations") {
  Fixture f;
  const auto id = f.signed_drop();
  const auto vsa = f.attestation(id, "verification-summary");
  auto ring = f.ring();
  REQUIRE(verify(vsa, ring.list()).has_value());

  SUBCASE("a byte flipped in the summary's payload, the signature kept") {
    const auto edited = with_payload(
        vsa, [](std::string& p) { p[p.size() / 2] = static_cast<char>(p[p.size() / 2] ^ 0x01); });
    CHECK(reason_of(verify(edited, ring.list())) == "attest.signature_invalid");
  }
  SUBCASE("the verification result rewritten") {
    const auto edited = with_payload(vsa, [](std::string& p) {
      const auto at = p.find("\"PASSED\"");
      REQUIRE(at != std::string::npos);
      p.replace(at, 8, "\"FAILED\"");
    });
    CHECK(reason_of(verify(edited, ring.list())) == "attest.signature_invalid");
  }
  SUBCASE("an --artifact whose digest no subject carries") {
    const auto r = verify(vsa,
                          ring.list(),
                          {{"README", ecluse::test::sha256_hex("docs only\n")},
                           {"payload/data.csv", ecluse::test::sha256_hex("a,b\n1,2\n9,9\n")}});
    CHECK(reason_of(r) == "attest.subject_mismatch");
    CHECK(r.error().item == "payload/data.csv");
  }
  SUBCASE("the key list after the release key was revoked") {
    const auto release = ring.list().active(Role::release).front()->keyid;
    REQUIRE(ring.revoke(release, "key leaked", ecluse::test::test_now()).has_value());
    for (const auto& name : {"verify", "unpack", "diff", "approval", "verification-summary"}) {
      CAPTURE(name);
      CHECK(reason_of(verify(f.attestation(id, name), f.ring().list())) == "attest.revoked_key");
    }
  }
  SUBCASE("an envelope checked against another workspace's keys") {
    const ecluse::test::TempDir other;
    ecluse::test::add_operator_keys(other / "keys", ecluse::test::test_now());
    auto foreign = Keyring::open(other / "keys");
    REQUIRE(foreign.has_value());
    CHECK(reason_of(verify(vsa, foreign->list())) == "attest.unknown_key");
  }
  SUBCASE("a CMS signature of one artifact does not verify another") {
    const auto& src = f.sources.at(id);
    CHECK(run("openssl cms -verify -binary -inform DER -content "
              + quoted(src / "payload" / "README") + " -in "
              + quoted(f.drop_dir(id) / "signatures" / "data.csv.p7s") + " -CAfile "
              + quoted(f.ws() / "keys" / "ca.pem") + " -purpose any -out /dev/null 2>/dev/null")
          != 0);
  }
}

TEST_CASE("pipeline approve refuses an engineer without an active key") {
  Fixture f;
  const auto id = f.held("1.2.3");
  auto ring = f.ring();
  const auto bob = ring.list().active(Role::engineer, "bob").front()->keyid;
  REQUIRE(ring.revoke(bob, "left the company", ecluse::test::test_now()).has_value());
  SUBCASE("a revoked key") {
    CHECK(reason_of(ecluse::pipeline::approve(f.w.s(), id, "bob", "fine")) == "keys.no_key");
  }
  SUBCASE("a name with no key at all") {
    CHECK(reason_of(ecluse::pipeline::approve(f.w.s(), id, "dave", "fine")) == "keys.no_key");
  }
  CHECK(f.w.s().state().reviews(id).value().empty());
  CHECK(f.w.s().state().get_drop(id).value()->state == DropState::held);
}

TEST_CASE("attest::check_approval refuses an approval copied onto another drop") {
  Fixture f;
  f.set_policy([](Json& p) { p["approvals"]["prod"] = 2; });
  const auto a = f.held("1.2.3");
  const auto b = f.held("1.2.4");
  REQUIRE(ecluse::pipeline::approve(f.w.s(), a, "alice", "checked").value().drop.state
          == DropState::held);
  auto ring = f.ring();
  const auto alice = ring.list().active(Role::engineer, "alice").front()->keyid;
  const auto envelope =
      ecluse::test::read_file(f.drop_dir(a) / "approvals" / (alice + ".dsse.json"));
  REQUIRE(ecluse::attest::check_approval(envelope, ring.list(), a, f.verdict_sha(a)).has_value());

  const auto copied = ecluse::attest::check_approval(envelope, ring.list(), b, f.verdict_sha(b));
  CHECK(reason_of(copied) == "attest.approval_invalid");
  CHECK(reason_of(ecluse::attest::check_approval(envelope, ring.list(), a, f.verdict_sha(b) + "0"))
        == "attest.approval_invalid");
  // Inserted into b's reviews, it does not count: bob's approval is b's first.
  const ecluse::store::StageRecord unused{"review", DropState::approved, Json::object(), "t"};
  REQUIRE(f.w.s()
              .state()
              .approve({b, "alice", "approve", "copied", "t", alice, envelope}, false, unused)
              .has_value());
  auto bob = ecluse::pipeline::approve(f.w.s(), b, "bob", "checked").value();
  CHECK(bob.drop.state == DropState::held);
  CHECK(bob.approvers == std::vector<std::string>{"bob"});
  auto carol = ecluse::pipeline::approve(f.w.s(), b, "carol", "checked").value();
  CHECK(carol.drop.state == DropState::signed_off);
  const auto evidence = predicate_of(f.attestation(b, "approval"), f.ring().list())["evidence"];
  REQUIRE(evidence["approvals"].size() == 2);
  CHECK(evidence["approvals"][0]["engineer"] == "bob");
  CHECK(evidence["approvals"][1]["engineer"] == "carol");
}

TEST_CASE("attest::check_approval refuses an approval by a revoked engineer key") {
  Fixture f;
  f.set_policy([](Json& p) { p["approvals"]["prod"] = 2; });
  const auto id = f.held("1.2.3");
  REQUIRE(ecluse::pipeline::approve(f.w.s(), id, "alice", "checked").has_value());
  auto ring = f.ring();
  const auto alice = ring.list().active(Role::engineer, "alice").front()->keyid;
  const auto envelope =
      ecluse::test::read_file(f.drop_dir(id) / "approvals" / (alice + ".dsse.json"));
  const auto sha = f.verdict_sha(id);
  REQUIRE(ecluse::attest::check_approval(envelope, ring.list(), id, sha).has_value());
  REQUIRE(ring.revoke(alice, "laptop stolen", ecluse::test::test_now()).has_value());
  CHECK(reason_of(ecluse::attest::check_approval(envelope, ring.list(), id, sha))
        == "attest.revoked_key");
  // Her approval no longer counts towards the two required.
  auto bob = ecluse::pipeline::approve(f.w.s(), id, "bob", "checked").value();
  CHECK(bob.drop.state == DropState::held);
  CHECK(bob.approvers == std::vector<std::string>{"bob"});
  auto carol = ecluse::pipeline::approve(f.w.s(), id, "carol", "checked").value();
  CHECK(carol.drop.state == DropState::signed_off);
}

TEST_CASE("pipeline approve: an engineer's rotated key does not make a second approval") {
  Fixture f;
  f.set_policy([](Json& p) { p["approvals"]["prod"] = 2; });
  const auto id = f.held("1.2.3");
  REQUIRE(ecluse::pipeline::approve(f.w.s(), id, "alice", "checked").value().drop.state
          == DropState::held);
  auto ring = f.ring();
  const auto old_key = ring.list().active(Role::engineer, "alice").front()->keyid;
  auto rotated = ring.rotate(Role::engineer, "alice", ecluse::test::test_now());
  REQUIRE(rotated.has_value());
  REQUIRE(rotated->keyid != old_key);
  auto again = ecluse::pipeline::approve(f.w.s(), id, "alice", "checked with my new key").value();
  CHECK(again.drop.state == DropState::held);  // still one engineer
  CHECK(again.approvers == std::vector<std::string>{"alice"});
  CHECK_FALSE(stdfs::exists(f.drop_dir(id) / "approvals" / (rotated->keyid + ".dsse.json")));
  auto bob = ecluse::pipeline::approve(f.w.s(), id, "bob", "agreed").value();
  CHECK(bob.drop.state == DropState::signed_off);
  const auto evidence = predicate_of(f.attestation(id, "approval"), f.ring().list())["evidence"];
  REQUIRE(evidence["approvals"].size() == 2);
  CHECK(evidence["approvals"][0]["keyid"] == old_key);
  CHECK(evidence["approvals"][1]["engineer"] == "bob");
}

TEST_CASE("pipeline sign: an approved drop is signed off with attestations and CMS signatures") {
  Fixture f;
  const auto b = Fixture::clean();
  const auto out = f.ingest(b);
  REQUIRE(out.drop.state == DropState::signed_off);
  const auto& id = out.drop.id;
  CHECK(f.events("sign.signed") == 1);
  auto ring = f.ring();
  const auto release = ring.list().active(Role::release).front()->keyid;

  // One envelope per committed stage (test when it ran), the approval and the summary.
  auto names = k_stage_files;
  const auto results = f.w.s().state().stage_results(id).value();
  const bool tested =
      std::any_of(results.begin(), results.end(), [](const auto& r) { return r.stage == "test"; });
  if (tested) {
    names.emplace_back("test");
  }
  names.emplace_back("verification-summary");
  std::vector<ecluse::attest::ArtifactDigest> artifacts;
  for (const auto& [path, bytes] : b.files) {
    artifacts.push_back({path, ecluse::test::sha256_hex(bytes)});
  }
  for (const auto& name : names) {
    CAPTURE(name);
    auto v = verify(f.attestation(id, name), ring.list(), artifacts);
    REQUIRE(v.has_value());
    REQUIRE(v->signers.size() == 1);
    CHECK(v->signers.front().role == "release");
    CHECK(v->signers.front().keyid == release);
    CHECK(v->matched.size() == b.files.size());
    CHECK(v->statement.subjects.size() == b.files.size());
    if (name != "verification-summary") {
      CHECK(v->statement.predicate_type == "https://ecluse.dev/attestation/" + name + "/v1");
      CHECK(v->statement.predicate["stage"] == name);
      CHECK(v->statement.predicate["drop"]["id"] == id);
    }
  }

  // The summary binds the vendor's original and every stage envelope by digest.
  const auto vsa = predicate_of(f.attestation(id, "verification-summary"), ring.list());
  CHECK(vsa["verificationResult"] == "PASSED");
  CHECK(vsa["resourceUri"] == "urn:ecluse:drop:" + id);
  CHECK(vsa["ecluse"]["drop"]["drop_json"]["sha256"] == id);
  CHECK(id == ecluse::test::sha256_hex(ecluse::test::read_file(f.drop_dir(id) / "drop.json")));
  CHECK(vsa["ecluse"]["vendor"]["name"] == "acme");
  REQUIRE(vsa["ecluse"]["vendor"]["signer"].is_object());
  CHECK_FALSE(vsa["ecluse"]["vendor"]["signer"].empty());
  REQUIRE(vsa["inputAttestations"].size() == names.size() - 1);
  for (const auto& in : vsa["inputAttestations"]) {
    const auto uri = in["uri"].get<std::string>();
    CAPTURE(uri);
    const auto bytes = ecluse::test::read_file(f.drop_dir(id) / "attestations" / uri);
    REQUIRE_FALSE(bytes.empty());
    CHECK(in["digest"]["sha256"] == ecluse::test::sha256_hex(bytes));
  }

  // Each artifact's detached CMS signature verifies with openssl against the operator CA.
  const auto& src = f.sources.at(id);
  for (const auto& [path, bytes] : b.files) {
    CAPTURE(path);
    const auto p7s = f.drop_dir(id) / "signatures" / (path + ".p7s");
    REQUIRE(stdfs::exists(p7s));
    REQUIRE(ecluse::test::read_file(src / "payload" / path) == bytes);
    CHECK(run("openssl cms -verify -binary -inform DER -content " + quoted(src / "payload" / path)
              + " -in " + quoted(p7s) + " -CAfile " + quoted(f.ws() / "keys" / "ca.pem")
              + " -purpose any -out /dev/null 2>/dev/null")
          == 0);
  }
}

TEST_CASE("pipeline sign: after a rotation old attestations verify and new drops use the new key") {
  Fixture f;
  const auto first = f.signed_drop("docs");
  auto ring = f.ring();
  const auto old_key = ring.list().active(Role::release).front()->keyid;
  auto rotated = ring.rotate(Role::release, "", ecluse::test::test_now());
  REQUIRE(rotated.has_value());
  REQUIRE(rotated->keyid != old_key);

  auto old_vsa = verify(f.attestation(first, "verification-summary"), f.ring().list());
  REQUIRE(old_vsa.has_value());
  CHECK(old_vsa->signers.front().keyid == old_key);

  const auto second = f.signed_drop("manuals");
  auto new_vsa = verify(f.attestation(second, "verification-summary"), f.ring().list());
  REQUIRE(new_vsa.has_value());
  CHECK(new_vsa->signers.front().keyid == rotated->keyid);
  const auto& src = f.sources.at(second);
  CHECK(run("openssl cms -verify -binary -inform DER -content " + quoted(src / "payload" / "README")
            + " -in " + quoted(f.drop_dir(second) / "signatures" / "README.p7s") + " -CAfile "
            + quoted(f.ws() / "keys" / "ca.pem") + " -purpose any -out /dev/null 2>/dev/null")
        == 0);
}

TEST_CASE("pipeline approve: signed approvals count once per key, then the drop is signed") {
  Fixture f;
  f.set_policy([](Json& p) { p["approvals"]["prod"] = 2; });
  const auto id = f.held("1.2.3");
  auto first = ecluse::pipeline::approve(f.w.s(), id, "alice", "looked at the script").value();
  CHECK(first.drop.state == DropState::held);
  auto again = ecluse::pipeline::approve(f.w.s(), id, "alice", "still fine").value();
  CHECK(again.drop.state == DropState::held);  // the same key counts once
  CHECK(again.approvers == std::vector<std::string>{"alice"});
  CHECK_FALSE(stdfs::exists(f.drop_dir(id) / "attestations"));
  auto second = ecluse::pipeline::approve(f.w.s(), id, "bob", "agreed").value();
  CHECK(second.drop.state == DropState::signed_off);
  CHECK(second.continued);
  CHECK(second.approvers == std::vector<std::string>{"alice", "bob"});
  CHECK(f.events("sign.signed") == 1);

  auto ring = f.ring();
  const auto sha = f.verdict_sha(id);
  std::vector<std::string> keyids;
  for (const auto* name : {"alice", "bob"}) {
    CAPTURE(name);
    const auto keyid = ring.list().active(Role::engineer, name).front()->keyid;
    keyids.push_back(keyid);
    const auto env = ecluse::test::read_file(f.drop_dir(id) / "approvals" / (keyid + ".dsse.json"));
    auto counted = ecluse::attest::check_approval(env, ring.list(), id, sha);
    REQUIRE(counted.has_value());
    CHECK(counted->engineer == name);
    auto v = verify(env, ring.list());
    REQUIRE(v.has_value());
    CHECK(v->signers.front().role == "engineer");
    CHECK(v->signers.front().name == name);
    CHECK(v->statement.predicate_type == ecluse::attest::k_approval_type);
  }
  const auto evidence = predicate_of(f.attestation(id, "approval"), ring.list())["evidence"];
  CHECK(evidence["verdict_sha256"] == sha);
  REQUIRE(evidence["approvals"].size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& ap = evidence["approvals"][i];
    CHECK(ap["keyid"] == keyids[i]);
    const auto file = ap["envelope"]["file"].get<std::string>();
    CHECK(ap["envelope"]["sha256"]
          == ecluse::test::sha256_hex(ecluse::test::read_file(f.drop_dir(id) / file)));
  }
  // The report shows the drop's outcome, not the verdict's hold.
  const auto view =
      ecluse::pipeline::verdict_view(f.w.s(), f.w.s().state().get_drop(id).value().value());
  REQUIRE(view.has_value());
  CHECK((*view)["decided"] == "hold");
  CHECK((*view)["decision"] == "pass");
  CHECK((*view)["state"] == "signed");
  CHECK((*view)["approvals"]["granted"].size() == 2);
  const auto html = ecluse::test::read_file(f.drop_dir(id) / "report.html");
  CHECK(html.find("bob") != std::string::npos);
}

TEST_CASE("pipeline sign: a signed drop ingested again is a replay; tampered files fail it") {
  Fixture f;
  const auto b = Fixture::clean();
  const auto first = f.ingest(b);
  REQUIRE(first.drop.state == DropState::signed_off);
  const auto& id = first.drop.id;
  const auto vsa_before = f.attestation(id, "verification-summary");
  const auto src = f.sources.at(id);

  auto again = ecluse::pipeline::ingest(f.w.s(), src);
  REQUIRE(again.has_value());
  REQUIRE(again->replay);
  CHECK(again->replay->reason == "intake.replay");
  CHECK(again->drop.state == DropState::signed_off);
  CHECK(f.events("sign.signed") == 1);
  CHECK(f.attestation(id, "verification-summary") == vsa_before);

  std::string expected = "store.object_corrupt";
  SUBCASE("an attestation edited") {
    const auto file = f.drop_dir(id) / "attestations" / "diff.dsse.json";
    ecluse::test::write_file(file, ecluse::test::read_file(file) + " ");
  }
  SUBCASE("a CMS signature edited") {
    const auto file = f.drop_dir(id) / "signatures" / "doc" / "guide.txt.p7s";
    auto bytes = ecluse::test::read_file(file);
    bytes[bytes.size() - 1] = static_cast<char>(bytes[bytes.size() - 1] ^ 0x01);
    ecluse::test::write_file(file, bytes);
  }
  SUBCASE("the summary replaced by another drop's") {
    const auto other = f.signed_drop("manuals");
    ecluse::test::write_file(f.drop_dir(id) / "attestations" / "verification-summary.dsse.json",
                             f.attestation(other, "verification-summary"));
  }
  SUBCASE("a CMS signature removed") {
    REQUIRE(stdfs::remove(f.drop_dir(id) / "signatures" / "doc" / "guide.txt.p7s"));
    expected = "store.object_missing";
  }
  const auto reload = ecluse::pipeline::ingest(f.w.s(), src);
  REQUIRE_FALSE(reload.has_value());
  CHECK(reload.error().reason == expected);
  CHECK(f.w.s().state().get_drop(id).value()->state == DropState::signed_off);
}
