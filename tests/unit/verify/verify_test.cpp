// The verify stage, through the pipeline driver on real workspaces, real OpenSSL material and
// the real state store: vendor signatures (CMS to the vendor's pinned roots, or a pinned raw
// key), version order per line, and the trust store's own failures, which are never rejections.
#include <ecluse/crypto/signature.hpp>
#include <ecluse/intake/intake.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/trust/trust_store.hpp>
#include <ecluse/verify/verify.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/support.hpp"

namespace pki = ecluse::test::pki;
namespace stdfs = std::filesystem;

using ecluse::DropState;
using ecluse::format_utc;
using ecluse::json::Json;
using ecluse::store::DropRecord;
using ecluse::test::acme_pki;
using ecluse::test::cert_spec;
using ecluse::test::DropBuilder;
using ecluse::test::read_file;
using ecluse::test::sha256_hex;
using ecluse::test::test_now;
using ecluse::test::TestWorkspace;
using ecluse::test::VendorPki;
using ecluse::trust::Material;
using ecluse::trust::TrustStore;
using ecluse::trust::X509Additions;
using std::chrono::days;

namespace {

using Signer = std::function<std::optional<std::string>(const std::string&)>;

Signer cms_by(const pki::Issued& leaf, std::vector<pki::Cert> extra, pki::CmsOptions opt = {}) {
  return [leaf, extra = std::move(extra), opt](const std::string& bytes) {
    return std::optional<std::string>(pki::sign_cms(bytes, leaf, extra, opt));
  };
}

Signer raw_by(const pki::Key& key) {
  return [key](const std::string& bytes) {
    return std::optional<std::string>(pki::sign_raw(bytes, key));
  };
}

std::string fingerprint(const pki::Cert& c) {
  return sha256_hex(c.der());
}

bool contains(const Json& text, const std::string& part) {
  return text.is_string() && text.get<std::string>().find(part) != std::string::npos;
}

// A root, a CA and a code-signing leaf with organisation `org` and the given common names.
VendorPki make_pki(const std::string& org,
                   const std::string& root_cn,
                   const std::string& ca_cn,
                   const std::string& leaf_cn) {
  const auto now = test_now();
  auto spec = [&](const std::string& cn, bool ca, ecluse::TimePoint from, ecluse::TimePoint to) {
    auto s = cert_spec(cn, ca, from, to);
    s.org = org;
    return s;
  };
  auto root = pki::make_root(spec(root_cn, true, now - days(3650), now + days(3650)));
  auto ca = pki::issue(root, spec(ca_cn, true, now - days(365), now + days(1825)));
  auto leaf = pki::issue(ca, spec(leaf_cn, false, now - days(30), now + days(365)));
  return VendorPki{root, ca, leaf};
}

void pin_root(const TestWorkspace& w, const std::string& vendor, const pki::Cert& root) {
  X509Additions add;
  add.roots.push_back(Material{vendor + "-root.pem", root.pem()});
  REQUIRE(TrustStore(w.s().ws()).add_x509(vendor, add, test_now()).has_value());
}

// Pins acme's intermediate and one CRL (DER) for it.
Json pin_crl(const TestWorkspace& w, const std::string& crl) {
  X509Additions add;
  add.intermediates.push_back(Material{"release-ca.pem", acme_pki().intermediate.cert.pem()});
  add.crls.push_back(Material{"release-ca.crl", crl});
  auto added = TrustStore(w.s().ws()).add_x509("acme", add, test_now());
  REQUIRE(added.has_value());
  return *added;
}

stdfs::path pinned_root_file(const TestWorkspace& w) {
  return w.s().ws().trust_dir() / "acme" / "roots" / (fingerprint(acme_pki().root.cert) + ".pem");
}

std::vector<Json> journal(const TestWorkspace& w) {
  auto entries = w.s().journal().entries();
  REQUIRE(entries.has_value());
  return *entries;
}

std::size_t events(const TestWorkspace& w, const std::string& name) {
  std::size_t n = 0;
  for (const auto& e : journal(w)) {
    n += e["event"] == name ? 1U : 0U;
  }
  return n;
}

// Ingests b written to w.dir/name; the run must evaluate the drop (no error, no replay).
DropRecord ingest(const TestWorkspace& w, const DropBuilder& b, const std::string& name) {
  const auto out = ecluse::pipeline::ingest(w.s(), b.write(w.dir / name));
  if (!out) {
    FAIL("ingest failed: " << out.error().to_string());
  }
  CHECK_FALSE(out->replay.has_value());
  return out->drop;
}

DropRecord expect_verified(const TestWorkspace& w, const DropBuilder& b, const std::string& name) {
  auto d = ingest(w, b, name);
  if (d.rejection) {
    FAIL_CHECK("rejected: " << d.rejection->reason << ": " << d.rejection->message);
  }
  CHECK(ecluse::test::past(d.state, DropState::unpacked));
  return d;
}

DropRecord expect_rejected(const TestWorkspace& w,
                           const DropBuilder& b,
                           const std::string& name,
                           const std::string& reason) {
  auto d = ingest(w, b, name);
  CHECK(d.state == DropState::rejected);
  REQUIRE(d.rejection.has_value());
  CHECK(d.rejection->stage == "verify");
  CHECK(d.rejection->reason == reason);
  const auto entries = journal(w);
  REQUIRE_FALSE(entries.empty());
  CHECK(entries.back()["event"] == "verify.rejected");
  CHECK(entries.back()["details"]["reason"] == reason);
  return d;
}

// The evidence the verify stage committed for drop id (passed or rejected).
Json verify_evidence(const TestWorkspace& w, const std::string& id) {
  const auto results = w.s().state().stage_results(id);
  REQUIRE(results.has_value());
  for (const auto& r : *results) {
    if (r.stage == "verify") {
      return r.evidence;
    }
  }
  FAIL("drop " << id << " has no verify stage result");
  return {};
}

std::string drop_id(const stdfs::path& dir) {
  return sha256_hex(read_file(dir / "drop.json"));
}

ecluse::intake::StagedDrop staged(const TestWorkspace& w, const std::string& id) {
  const auto rec = w.s().state().get_drop(id);
  REQUIRE(rec.has_value());
  REQUIRE(rec->has_value());
  const ecluse::intake::Context ctx{w.s().ws(), w.s().objects(), w.s().clock(), {}};
  auto s = ecluse::intake::reload(ctx, id, (*rec)->source);
  REQUIRE(s.has_value());
  return std::move(*s);
}

ecluse::crypto::Anchors acme_anchors(const TestWorkspace& w) {
  auto t = TrustStore(w.s().ws()).load("acme");
  REQUIRE(t.has_value());
  REQUIRE(t->has_value());
  return (*t)->anchors;
}

// Every file and directory under quarantine/ and staging/ (not the journal), relative to w.dir.
std::map<std::string, std::uintmax_t> quarantine_files(const TestWorkspace& w) {
  std::map<std::string, std::uintmax_t> out;
  const auto root = w.dir.path().string();
  for (const auto& [path, size] : w.quarantine_snapshot()) {
    if (path.find("/ws/journal") == std::string::npos) {
      out[path.substr(root.size())] = size;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("verify: a drop signed by acme's leaf is verified with its signer, chain and time") {
  TestWorkspace w;
  const auto& acme = acme_pki();
  const auto d = expect_verified(w, DropBuilder{}, "drop");
  CHECK(d.id == drop_id(w.dir / "drop"));
  CHECK(events(w, "verify.done") == 1);
  auto e = verify_evidence(w, d.id);
  CHECK(e["vendor"] == "acme");
  CHECK(e["drop_json_sha256"] == d.id);
  CHECK(e["checked_at"] == format_utc(test_now()));
  CHECK(e["trust"]["kind"] == "x509");
  CHECK(e["signature_file"]["sha256"] == sha256_hex(read_file(w.dir / "drop" / "drop.json.sig")));

  auto sig = e["signature"];
  CHECK(sig["kind"] == "x509");
  CHECK(sig["encoding"] == "der");
  CHECK(contains(sig["signer"]["subject"], "Acme Test Release Signing"));
  CHECK(contains(sig["signer"]["issuer"], "Acme Test Release CA"));
  CHECK(sig["signer"]["sha256"] == fingerprint(acme.leaf.cert));
  CHECK(sig["signer"]["key"]["type"] == "EC");
  CHECK(sig["signer"]["key"]["curve"] == "P-256");
  CHECK(sig["signer"]["key"]["bits"] == 256);
  CHECK(sig["digest"] == "sha256");
  CHECK(sig["padding"] == "");
  CHECK(sig["validated_at"] == format_utc(test_now()));
  REQUIRE(sig["chain"].size() == 3);
  CHECK(sig["chain"][0]["sha256"] == fingerprint(acme.leaf.cert));
  CHECK(sig["chain"][1]["sha256"] == fingerprint(acme.intermediate.cert));
  CHECK(sig["chain"][2]["sha256"] == fingerprint(acme.root.cert));
  CHECK(contains(sig["chain"][2]["subject"], "Acme Test Root"));
  for (const auto& c : sig["chain"]) {
    REQUIRE(c["sha256"].is_string());
    CHECK(c["sha256"].get<std::string>().size() == 64);
  }
  // No CRL is pinned: both links are gaps, none consulted.
  CHECK(sig["crls"].empty());
  CHECK(sig["crl_gaps"].size() == 2);

  CHECK(e["version"]["version"] == "1.2.3");
  CHECK(e["version"]["baseline"].is_null());
  CHECK(e["version"]["downgrade_allowance"].is_null());

  // Validation uses our clock, whatever the signer claims.
  w.clock.set(test_now() + days(2));
  DropBuilder later;
  later.fields["version"] = "1.2.4";
  const auto next = expect_verified(w, later, "later");
  auto e2 = verify_evidence(w, next.id);
  CHECK(e2["signature"]["validated_at"] == format_utc(test_now() + days(2)));
  CHECK(e2["version"]["baseline"]["version"] == "1.2.3");
  CHECK(e2["version"]["baseline"]["drop"] == d.id);
}

TEST_CASE("verify: a drop of a vendor without pinned trust is verify.unknown_vendor") {
  TestWorkspace w;
  DropBuilder b;
  b.fields["vendor"] = "globex";
  const auto d = expect_rejected(w, b, "drop", "verify.unknown_vendor");
  CHECK(d.rejection->item == "globex");
  CHECK(d.vendor == "globex");
  auto e = verify_evidence(w, d.id);
  CHECK(e["vendor"] == "globex");
  CHECK_FALSE(e.contains("signature"));
  CHECK_FALSE(e.contains("trust"));
}

TEST_CASE("verify: a drop without drop.json.sig is signature.missing") {
  TestWorkspace w;
  DropBuilder b;
  b.sign = [](const std::string&) {
    return std::optional<std::string>{};
  };
  const auto d = expect_rejected(w, b, "drop", "signature.missing");
  CHECK_FALSE(stdfs::exists(w.dir / "drop" / "drop.json.sig"));
  CHECK(d.rejection->item == "drop.json.sig");
}

TEST_CASE("verify: a signature over other bytes than drop.json is signature.content_mismatch") {
  TestWorkspace w;
  DropBuilder b;
  b.sign = [](const std::string& bytes) {
    return ecluse::test::acme_signature(bytes + "\n");
  };
  const auto d = expect_rejected(w, b, "drop", "signature.content_mismatch");
  CHECK(d.rejection->item == "drop.json");
}

TEST_CASE("verify: a chain to another vendor's pinned root is signature.untrusted_root") {
  TestWorkspace w;
  const auto globex =
      make_pki("Globex", "Globex Root", "Globex Release CA", "Globex Release Signing");
  pin_root(w, "globex", globex.root.cert);

  // Globex's PKI is sound: a globex drop signed by it is verified.
  DropBuilder own;
  own.fields["vendor"] = "globex";
  own.sign = cms_by(globex.leaf, {globex.intermediate.cert});
  expect_verified(w, own, "globex-drop");

  // The same signer on an acme drop leads to a root pinned, but not for acme.
  DropBuilder b;
  b.sign = cms_by(globex.leaf, {globex.intermediate.cert});
  const auto d = expect_rejected(w, b, "acme-drop", "signature.untrusted_root");
  CHECK(d.rejection->message.find("'acme'") != std::string::npos);

  // Shipping globex's root inside the CMS changes nothing.
  DropBuilder shipped;
  shipped.files["README"] = "shipped root\n";
  shipped.sign = cms_by(globex.leaf, {globex.intermediate.cert, globex.root.cert});
  expect_rejected(w, shipped, "acme-drop-2", "signature.untrusted_root");
}

TEST_CASE("verify: a look-alike PKI with acme's names but other keys is signature.untrusted_root") {
  TestWorkspace w;
  const auto& acme = acme_pki();
  const auto fake =
      make_pki("Acme", "Acme Test Root", "Acme Test Release CA", "Acme Test Release Signing");
  for (const auto& [real, copy] : {std::pair{acme.root.cert, fake.root.cert},
                                   std::pair{acme.intermediate.cert, fake.intermediate.cert},
                                   std::pair{acme.leaf.cert, fake.leaf.cert}}) {
    const auto r =
        ecluse::crypto::parse_certificates(real.pem(), ecluse::reason::k_internal, "real").value();
    const auto c =
        ecluse::crypto::parse_certificates(copy.pem(), ecluse::reason::k_internal, "copy").value();
    REQUIRE(r.size() == 1);
    REQUIRE(c.size() == 1);
    CHECK(r[0].info().subject == c[0].info().subject);
    CHECK(r[0].info().issuer == c[0].info().issuer);
    CHECK(r[0].info().sha256 != c[0].info().sha256);
  }

  SUBCASE("the CMS carries the look-alike intermediate and root") {
    DropBuilder b;
    b.sign = cms_by(fake.leaf, {fake.intermediate.cert, fake.root.cert});
    expect_rejected(w, b, "drop", "signature.untrusted_root");
  }
  SUBCASE("the CMS carries the look-alike intermediate only") {
    DropBuilder b;
    b.sign = cms_by(fake.leaf, {fake.intermediate.cert});
    expect_rejected(w, b, "drop", "signature.untrusted_root");
  }
  SUBCASE("the CMS carries acme's real intermediate beside the look-alike one") {
    DropBuilder b;
    b.sign = cms_by(fake.leaf, {acme.intermediate.cert, fake.intermediate.cert});
    expect_rejected(w, b, "drop", "signature.untrusted_root");
  }
}

TEST_CASE("verify: a raw-key vendor's Ed25519 and ECDSA P-256 signatures are verified") {
  for (const auto& [type, algorithm] : {std::pair{pki::KeyType::ed25519, "ed25519"},
                                        std::pair{pki::KeyType::ec_p256, "ecdsa-sha256"}}) {
    CAPTURE(algorithm);
    TestWorkspace w;
    const auto key = pki::Key::generate(type);
    const auto pinned =
        TrustStore(w.s().ws()).add_raw_key("rawco", {"rawco.pem", key.public_pem()}, test_now());
    REQUIRE(pinned.has_value());
    DropBuilder b;
    b.fields["vendor"] = "rawco";
    b.sign = raw_by(key);
    const auto d = expect_verified(w, b, "drop");
    auto e = verify_evidence(w, d.id);
    CHECK(e["trust"]["kind"] == "raw-key");
    CHECK(e["signature"]["kind"] == "raw-key");
    CHECK(e["signature"]["algorithm"] == algorithm);
    CHECK(e["signature"]["key_id"] == (*pinned)["key_id"]);
    CHECK(e["signature"]["key"]["type"]
          == (type == pki::KeyType::ed25519 ? std::string("Ed25519") : std::string("EC")));
    CHECK(e["version"]["version"] == "1.2.3");
  }
}

TEST_CASE("verify: a raw-key vendor refuses other keys' signatures and non-base64 files") {
  TestWorkspace w;
  const auto key = pki::Key::generate(pki::KeyType::ed25519);
  REQUIRE(TrustStore(w.s().ws())
              .add_raw_key("rawco", {"rawco.pem", key.public_pem()}, test_now())
              .has_value());
  DropBuilder b;
  b.fields["vendor"] = "rawco";

  SUBCASE("a signature by another Ed25519 key") {
    b.sign = raw_by(pki::Key::generate(pki::KeyType::ed25519));
    const auto d = expect_rejected(w, b, "drop", "signature.content_mismatch");
    CHECK(d.rejection->item == "drop.json");
  }
  SUBCASE("a signature by an ECDSA P-256 key") {
    b.sign = raw_by(pki::Key::generate(pki::KeyType::ec_p256));
    expect_rejected(w, b, "drop", "signature.content_mismatch");
  }
  SUBCASE("the pinned key's signature over other bytes") {
    b.sign = [key](const std::string& bytes) {
      return std::optional<std::string>(pki::sign_raw(bytes + " ", key));
    };
    expect_rejected(w, b, "drop", "signature.content_mismatch");
  }
  SUBCASE("text that is not base64") {
    b.sign = [](const std::string&) {
      return std::optional<std::string>("not base64 at all!\n");
    };
    const auto d = expect_rejected(w, b, "drop", "signature.malformed");
    CHECK(d.rejection->item == "drop.json.sig");
  }
  SUBCASE("a CMS signature") {
    b.sign = ecluse::test::acme_signature;
    expect_rejected(w, b, "drop", "signature.malformed");
  }
}

TEST_CASE("verify: a lower version on the same line is verify.rollback naming the accepted drop") {
  TestWorkspace w;
  DropBuilder b;
  const auto first = expect_verified(w, b, "v1.2.3");

  b.fields["version"] = "1.2.2";
  const auto lower = expect_rejected(w, b, "v1.2.2", "verify.rollback");
  CHECK(lower.rejection->item == first.id);
  CHECK(lower.rejection->message.find(first.id.substr(0, 12)) != std::string::npos);
  CHECK(lower.rejection->message.find("1.2.3") != std::string::npos);

  b.fields["version"] = "1.2.3-rc.1";  // a pre-release sorts before its release
  const auto pre = expect_rejected(w, b, "v1.2.3-rc.1", "verify.rollback");
  CHECK(pre.rejection->item == first.id);

  b.fields["version"] = "1.2.10";  // numerically higher, lexically lower
  const auto higher = expect_verified(w, b, "v1.2.10");
  b.fields["version"] = "1.2.9";
  const auto below = expect_rejected(w, b, "v1.2.9", "verify.rollback");
  CHECK(below.rejection->item == higher.id);
}

TEST_CASE("verify: the same version with other content is verify.version_reuse") {
  TestWorkspace w;
  DropBuilder b;
  const auto first = expect_verified(w, b, "first");
  b.files["bin/app"] = "#!/bin/sh\necho patched app\n";
  const auto reuse = expect_rejected(w, b, "second", "verify.version_reuse");
  CHECK(reuse.rejection->item == first.id);
  CHECK(reuse.rejection->message.find(first.id.substr(0, 12)) != std::string::npos);
  CHECK(reuse.id != first.id);
  // The rejected one is no reference: a third build names the accepted drop again.
  b.files["README"] = "third build\n";
  const auto third = expect_rejected(w, b, "third", "verify.version_reuse");
  CHECK(third.rejection->item == first.id);
}

TEST_CASE("verify: other channels and products are independent version lines") {
  TestWorkspace w;
  DropBuilder b;
  const auto first = expect_verified(w, b, "prod-1.2.3");

  b.fields["version"] = "1.2.2";
  b.fields["channel"] = "preprod";
  const auto preprod = expect_verified(w, b, "preprod-1.2.2");
  CHECK(verify_evidence(w, preprod.id)["version"]["baseline"].is_null());

  b.fields["channel"] = "prod";
  b.fields["product"] = "edge";
  expect_verified(w, b, "edge-1.2.2");

  b.fields["product"] = "cloud";
  const auto refused = expect_rejected(w, b, "prod-1.2.2", "verify.rollback");
  CHECK(refused.rejection->item == first.id);
}

TEST_CASE("verify: a downgrade allowance lets exactly one lower drop through") {
  TestWorkspace w;
  DropBuilder b;
  const auto first = expect_verified(w, b, "v1.2.3");
  b.fields["version"] = "1.2.2";
  const auto refused = expect_rejected(w, b, "v1.2.2-a", "verify.rollback");

  REQUIRE(w.s()
              .state()
              .add_downgrade_allowance({"acme",
                                        "cloud",
                                        "prod",
                                        "1.2.2",
                                        "revert broken 1.2.3",
                                        "alice",
                                        format_utc(test_now()),
                                        ""})
              .has_value());

  // Submitted again after the allowance, the refused drop runs again and uses it.
  const auto retried = ecluse::pipeline::ingest(w.s(), w.dir / "v1.2.2-a");
  REQUIRE(retried.has_value());
  CHECK_FALSE(retried->replay.has_value());
  CHECK(retried->drop.id == refused.id);
  CHECK(ecluse::test::past(retried->drop.state, DropState::unpacked));
  Json e;
  const auto results = w.s().state().stage_results(refused.id).value();
  for (const auto& r : results) {
    if (r.stage == "verify" && r.state_after == DropState::verified) {
      e = r.evidence;
    }
  }
  CHECK(e["version"]["version"] == "1.2.2");
  CHECK(e["version"]["baseline"]["version"] == "1.2.3");
  CHECK(e["version"]["baseline"]["drop"] == first.id);
  CHECK(e["version"]["downgrade_allowance"]["reason"] == "revert broken 1.2.3");
  CHECK(e["version"]["downgrade_allowance"]["actor"] == "alice");
  auto allowances = w.s().state().downgrade_allowances().value();
  REQUIRE(allowances.size() == 1);
  CHECK(allowances[0].used_by == refused.id);

  // Used once: another 1.2.2 reuses the version, and a lower one is a rollback again.
  b.files["README"] = "demo product, rebuilt\n";
  const auto again = expect_rejected(w, b, "v1.2.2-b", "verify.version_reuse");
  CHECK(again.rejection->item == refused.id);
  b.fields["version"] = "1.2.1";
  const auto lower = expect_rejected(w, b, "v1.2.1", "verify.rollback");
  CHECK(lower.rejection->item == first.id);
  allowances = w.s().state().downgrade_allowances().value();
  REQUIRE(allowances.size() == 1);
  CHECK(allowances[0].used_by == refused.id);
}

TEST_CASE("verify: verify::verify spends an allowance on one drop only, and commits nothing") {
  TestWorkspace w;
  expect_verified(w, DropBuilder{}, "v1.2.3");
  REQUIRE(w.s()
              .state()
              .add_downgrade_allowance(
                  {"acme", "cloud", "preprod", "1.2.2", "other line", "bob", "", ""})
              .has_value());
  REQUIRE(
      w.s()
          .state()
          .add_downgrade_allowance({"acme", "cloud", "prod", "1.2.2", "hotfix", "alice", "", ""})
          .has_value());
  const ecluse::verify::Context ctx{w.s().ws(), w.s().state(), w.s().clock()};

  DropBuilder a;
  a.fields["version"] = "1.2.2";
  a.files["README"] = "build a\n";
  const auto id_a = w.intake_only(a.write(w.dir / "a"));
  const auto staged_a = staged(w, id_a);
  auto run = ecluse::verify::verify(ctx, staged_a);
  REQUIRE(run.out.has_value());
  CHECK(run.out->id() == id_a);
  CHECK(run.out->evidence() == run.evidence);
  CHECK(run.evidence["version"]["downgrade_allowance"]["reason"] == "hotfix");
  CHECK(w.s().state().get_drop(id_a).value()->state == DropState::received);
  // The same drop again finds the allowance it holds.
  auto rerun = ecluse::verify::verify(ctx, staged_a);
  REQUIRE(rerun.out.has_value());
  CHECK(rerun.evidence["version"]["downgrade_allowance"]["actor"] == "alice");

  DropBuilder b2;
  b2.fields["version"] = "1.2.2";
  b2.files["README"] = "build b\n";
  const auto id_b = w.intake_only(b2.write(w.dir / "b"));
  auto refused = ecluse::verify::verify(ctx, staged(w, id_b));
  REQUIRE_FALSE(refused.out.has_value());
  CHECK(refused.out.error().reason == "verify.rollback");
  CHECK(refused.out.error().code == ecluse::Errc::rejected);
  CHECK(refused.evidence.contains("signature"));
  CHECK_FALSE(refused.evidence.contains("version"));

  const auto allowances = w.s().state().downgrade_allowances().value();
  REQUIRE(allowances.size() == 2);
  CHECK(allowances[0].channel == "preprod");
  CHECK(allowances[0].used_by.empty());
  CHECK(allowances[1].used_by == id_a);
}

TEST_CASE("verify: a drop rejected at verify changes nothing in quarantine but its record") {
  TestWorkspace w;
  DropBuilder b;
  b.sign = [](const std::string& bytes) {
    return ecluse::test::acme_signature(bytes + " ");
  };
  const auto dir = b.write(w.dir / "drop");

  SUBCASE("verify after a committed intake adds nothing to quarantine") {
    const auto id = w.intake_only(dir);
    const auto before = quarantine_files(w);
    const auto journal_before = journal(w).size();
    const auto out = ecluse::pipeline::ingest(w.s(), dir);
    REQUIRE(out.has_value());
    CHECK(out->already_known);
    CHECK(out->drop.id == id);
    CHECK(quarantine_files(w) == before);
    const auto entries = journal(w);
    REQUIRE(entries.size() == journal_before + 1);
    CHECK(entries.back()["event"] == "verify.rejected");
    CHECK(entries.back()["details"]["reason"] == "signature.content_mismatch");
  }
  SUBCASE("a full ingest leaves exactly what intake alone commits") {
    const auto out = ecluse::pipeline::ingest(w.s(), dir);
    REQUIRE(out.has_value());
    CHECK_FALSE(out->already_known);
    TestWorkspace other;
    (void)other.intake_only(dir);
    CHECK(quarantine_files(w) == quarantine_files(other));
    CHECK(events(w, "intake.received") == 1);
    CHECK(events(w, "verify.rejected") == 1);
  }

  const auto id = drop_id(dir);
  const auto rec = w.s().state().get_drop(id).value();
  REQUIRE(rec.has_value());
  CHECK(rec->state == DropState::rejected);
  REQUIRE(rec->rejection.has_value());
  CHECK(rec->rejection->stage == "verify");
  CHECK(rec->rejection->reason == "signature.content_mismatch");
  const auto stages = w.s().state().stage_results(id).value();
  REQUIRE(stages.size() == 2);
  CHECK(stages[0].stage == "intake");
  CHECK(stages[0].state_after == DropState::received);
  CHECK(stages[1].stage == "verify");
  CHECK(stages[1].state_after == DropState::rejected);
  CHECK(stages[1].evidence["drop_json_sha256"] == id);
  CHECK(stages[1].evidence["trust"]["kind"] == "x509");
  // The quarantined evidence is still drop.json's exact bytes.
  CHECK(read_file(w.s().ws().drops_dir() / id / "drop.json") == read_file(dir / "drop.json"));

  // Submitted again, a drop rejected before authentication runs again (intake.retry) and is
  // rejected again for the same reason: its history keeps both attempts.
  const auto again = ecluse::pipeline::ingest(w.s(), dir);
  REQUIRE(again.has_value());
  CHECK_FALSE(again->replay.has_value());
  CHECK(again->drop.state == DropState::rejected);
  CHECK(again->drop.rejection->reason == "signature.content_mismatch");
  CHECK(w.s().state().stage_results(id).value().size() == 4);
  CHECK(events(w, "intake.retry") == 1);
}

TEST_CASE("verify: a broken trust store is an error, the drop stays received until it is fixed") {
  TestWorkspace w;
  const auto root_file = pinned_root_file(w);
  const auto good = read_file(root_file);
  REQUIRE_FALSE(good.empty());
  stdfs::permissions(root_file, stdfs::perms::owner_write, stdfs::perm_options::add);
  ecluse::test::write_file(root_file, "garbage\n");

  const auto dir = DropBuilder{}.write(w.dir / "drop");
  const auto id = drop_id(dir);
  for (int attempt = 0; attempt < 2; ++attempt) {
    CAPTURE(attempt);
    const auto out = ecluse::pipeline::ingest(w.s(), dir);
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().reason == "trust.store_broken");
    CHECK(out.error().code == ecluse::Errc::unavailable);
    const auto rec = w.s().state().get_drop(id).value();
    REQUIRE(rec.has_value());
    CHECK(rec->state == DropState::received);
    CHECK_FALSE(rec->rejection.has_value());
    CHECK(w.s().state().stage_results(id).value().size() == 1);
  }
  CHECK(events(w, "verify.rejected") == 0);
  CHECK(events(w, "verify.done") == 0);

  ecluse::test::write_file(root_file, good);
  const auto fixed = ecluse::pipeline::ingest(w.s(), dir);
  REQUIRE(fixed.has_value());
  CHECK(fixed->already_known);
  CHECK_FALSE(fixed->replay.has_value());
  CHECK(ecluse::test::past(fixed->drop.state, DropState::unpacked));
  CHECK(events(w, "verify.done") == 1);
}

TEST_CASE("verify: a pinned CRL past its next update is trust.crl_stale, not a rejection") {
  TestWorkspace w;
  const auto now = test_now();
  const auto stale =
      pki::make_crl(acme_pki().intermediate, {}, now - days(60), now - days(1), false);
  pin_crl(w, stale);

  const auto dir = DropBuilder{}.write(w.dir / "drop");
  const auto id = drop_id(dir);
  const auto out = ecluse::pipeline::ingest(w.s(), dir);
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().reason == "trust.crl_stale");
  CHECK(out.error().code == ecluse::Errc::unavailable);
  CHECK(out.error().item == sha256_hex(stale));
  const auto rec = w.s().state().get_drop(id).value();
  REQUIRE(rec.has_value());
  CHECK(rec->state == DropState::received);
  CHECK(events(w, "verify.rejected") == 0);

  // A fresh CRL replaces it and the same drop is verified, consulting the new CRL.
  const auto fresh =
      pki::make_crl(acme_pki().intermediate, {}, now - days(1), now + days(7), false);
  CHECK(pin_crl(w, fresh)["replaced_crls"] == Json::array({sha256_hex(stale)}));
  const auto fixed = ecluse::pipeline::ingest(w.s(), dir);
  REQUIRE(fixed.has_value());
  CHECK(ecluse::test::past(fixed->drop.state, DropState::unpacked));
  auto e = verify_evidence(w, id);
  REQUIRE(e["signature"]["crls"].size() == 1);
  CHECK(e["signature"]["crls"][0]["sha256"] == sha256_hex(fresh));
}

TEST_CASE("verify: a leaf revoked by a pinned CRL is signature.revoked") {
  TestWorkspace w;
  const auto& acme = acme_pki();
  const auto now = test_now();
  const auto revoked = pki::issue(
      acme.intermediate, cert_spec("Acme Revoked Signing", false, now - days(10), now + days(300)));
  const auto crl =
      pki::make_crl(acme.intermediate, {revoked.cert}, now - days(1), now + days(30), false);

  // Before the CRL is pinned the leaf chains to acme's root.
  DropBuilder b;
  b.sign = cms_by(revoked, {acme.intermediate.cert});
  const auto dir = b.write(w.dir / "drop");
  const auto policy = w.s().ws().config().signature_policy;
  CHECK(ecluse::crypto::verify_cms(read_file(dir / "drop.json.sig"),
                                   read_file(dir / "drop.json"),
                                   acme_anchors(w),
                                   policy,
                                   now)
            .has_value());

  pin_crl(w, crl);
  const auto d = expect_rejected(w, b, "drop", "signature.revoked");
  CHECK(contains(Json(d.rejection->item), "Acme Revoked Signing"));

  // acme's own leaf is not on the CRL: verified, and the CRL is named in the evidence.
  DropBuilder ok;
  ok.files["README"] = "signed by the release leaf\n";
  const auto good = expect_verified(w, ok, "good");
  auto sig = verify_evidence(w, good.id)["signature"];
  REQUIRE(sig["crls"].size() == 1);
  CHECK(sig["crls"][0]["sha256"] == sha256_hex(crl));
  CHECK(sig["crls"][0]["revoked_entries"] == 1);
  CHECK(contains(sig["crls"][0]["issuer"], "Acme Test Release CA"));
  CHECK(contains(sig["crls"][0]["covers"], "Acme Test Release Signing"));
  REQUIRE(sig["crl_gaps"].size() == 1);
  CHECK(contains(sig["crl_gaps"][0], "Acme Test Release CA"));
}

TEST_CASE(
    "verify: an expired leaf is signature.certificate_expired whatever signing time is "
    "claimed") {
  TestWorkspace w;
  const auto& acme = acme_pki();
  const auto now = test_now();
  const auto claimed = now - days(60);
  const auto expired = pki::issue(
      acme.intermediate, cert_spec("Acme Expired Signing", false, now - days(400), now - days(30)));
  pki::CmsOptions opt;
  opt.signing_time = claimed;
  DropBuilder b;
  b.sign = cms_by(expired, {acme.intermediate.cert}, opt);
  const auto d = expect_rejected(w, b, "drop", "signature.certificate_expired");
  CHECK(contains(Json(d.rejection->item), "Acme Expired Signing"));

  // The signature itself is sound: validated at the claimed time, it would pass.
  const auto report = ecluse::crypto::verify_cms(read_file(w.dir / "drop" / "drop.json.sig"),
                                                 read_file(w.dir / "drop" / "drop.json"),
                                                 acme_anchors(w),
                                                 w.s().ws().config().signature_policy,
                                                 claimed);
  REQUIRE(report.has_value());
  REQUIRE(report->signing_time.has_value());
  CHECK(*report->signing_time == claimed);
  CHECK(report->validated_at == claimed);
}

TEST_CASE("verify: an allowance matches equal versions however written, and its use is journaled") {
  TestWorkspace w;
  DropBuilder b;
  b.fields["version"] = "1.3.0";
  expect_verified(w, b, "v1.3.0");
  REQUIRE(w.s()
              .state()
              .add_downgrade_allowance(
                  {"acme", "cloud", "prod", "1.2", "pin 1.2 for CHG-9", "carol", "", ""})
              .has_value());
  b.fields["version"] = "1.2.0";
  const auto allowed = expect_verified(w, b, "v1.2.0");
  CHECK(verify_evidence(w, allowed.id)["version"]["downgrade_allowance"]["version"] == "1.2");
  CHECK(events(w, "verify.downgrade_used") == 1);
}
