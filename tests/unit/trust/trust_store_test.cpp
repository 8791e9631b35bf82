// The workspace trust store: what may be pinned for a vendor (self-signed CA roots, CA
// intermediates, CRLs of the vendor's own CAs, one Ed25519 or ECDSA P-256 raw key), how it is
// removed, and that a damaged store is our fault (trust.store_broken), never a rejection.
#include <ecluse/core/base64.hpp>
#include <ecluse/crypto/signature.hpp>
#include <ecluse/trust/trust_store.hpp>

#include <doctest/doctest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/support.hpp"

namespace pki = ecluse::test::pki;
namespace stdfs = std::filesystem;

using ecluse::test::acme_pki;
using ecluse::test::cert_spec;
using ecluse::test::sha256_hex;
using ecluse::test::test_now;
using ecluse::test::TestWorkspace;
using ecluse::trust::Material;
using ecluse::trust::TrustStore;
using ecluse::trust::X509Additions;
using std::chrono::days;

namespace {

pki::Issued fresh_root(const std::string& cn, pki::KeyType key = pki::KeyType::ec_p256) {
  return pki::make_root(cert_spec(cn, true, test_now() - days(365), test_now() + days(3650), key));
}

// The fingerprint ecluse names a certificate by: SHA-256 of its DER encoding.
std::string fingerprint(const pki::Cert& c) {
  return sha256_hex(c.der());
}

X509Additions roots(const std::string& name, const std::string& pem) {
  X509Additions add;
  add.roots.push_back(Material{name, pem});
  return add;
}

// The key id of a PEM public key, computed here: hex SHA-256 of the DER SubjectPublicKeyInfo.
std::string key_id_of(const std::string& pem) {
  std::string body;
  std::size_t pos = 0;
  while (pos < pem.size()) {
    const auto end = pem.find('\n', pos);
    const auto line = pem.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (line.rfind("-----", 0) != 0) {
      body += line;
    }
    pos = end == std::string::npos ? pem.size() : end + 1;
  }
  const auto der = ecluse::base64_decode(body);
  REQUIRE(der.has_value());
  return sha256_hex(*der);
}

// Every file under the trust directory with its bytes: to assert "nothing changed".
std::map<std::string, std::string> trust_files(const TestWorkspace& w) {
  std::map<std::string, std::string> out;
  for (const auto& e : stdfs::recursive_directory_iterator(w.s().ws().trust_dir())) {
    if (e.is_regular_file()) {
      out[e.path().string()] = ecluse::test::read_file(e.path());
    }
  }
  return out;
}

template <class T>
void expect_error(const ecluse::Result<T>& r, const ecluse::Reason& why) {
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().reason == why.code);
  CHECK(r.error().code == why.family);
}

std::vector<std::string> fingerprints(const std::vector<ecluse::crypto::Certificate>& certs) {
  std::vector<std::string> out;
  for (const auto& c : certs) {
    out.push_back(c.info().sha256);
  }
  return out;
}

std::vector<std::string> fingerprints(const std::vector<ecluse::crypto::Crl>& crls) {
  std::vector<std::string> out;
  for (const auto& c : crls) {
    out.push_back(c.info().sha256);
  }
  return out;
}

stdfs::path pinned_root_file(const TestWorkspace& w) {
  return w.s().ws().trust_dir() / "acme" / "roots" / (fingerprint(acme_pki().root.cert) + ".pem");
}

}  // namespace

TEST_CASE("trust::TrustStore pins a new x509 vendor's root and lists every vendor sorted") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  const auto zeta = fresh_root("Zeta Root");
  const auto beta = fresh_root("Beta Root");
  const auto when = test_now() + days(1);

  const auto added = store.add_x509("zeta", roots("zeta-root.pem", zeta.cert.pem()), when);
  REQUIRE(added.has_value());
  CHECK((*added)["vendor"] == "zeta");
  CHECK((*added)["kind"] == "x509");
  REQUIRE((*added)["added"]["roots"].size() == 1);
  CHECK((*added)["added"]["roots"][0] == fingerprint(zeta.cert));
  CHECK((*added)["added"]["intermediates"].empty());
  CHECK((*added)["added"]["crls"].empty());
  REQUIRE(store.add_x509("beta", roots("beta-root.pem", beta.cert.pem()), when).has_value());

  const auto loaded = store.load("zeta");
  REQUIRE(loaded.has_value());
  REQUIRE(loaded->has_value());
  const auto& t = **loaded;
  CHECK(t.vendor == "zeta");
  CHECK(t.kind == ecluse::trust::Kind::x509);
  CHECK(t.updated_at == ecluse::format_utc(when));
  CHECK_FALSE(t.raw_key.has_value());
  CHECK(t.anchors.vendor == "zeta");
  REQUIRE(t.anchors.roots.size() == 1);
  CHECK(t.anchors.roots[0].info().sha256 == fingerprint(zeta.cert));
  CHECK(t.anchors.roots[0].der() == zeta.cert.der());
  CHECK(t.anchors.roots[0].info().subject.find("Zeta Root") != std::string::npos);
  CHECK(t.anchors.intermediates.empty());
  CHECK(t.anchors.crls.empty());
  CHECK(t.to_json()["kind"] == "x509");
  CHECK(t.to_json()["roots"][0]["sha256"] == fingerprint(zeta.cert));

  // Pinning the same root again changes nothing and says so.
  const auto again = store.add_x509("zeta", roots("zeta-root.pem", zeta.cert.pem()), when);
  REQUIRE(again.has_value());
  CHECK((*again)["added"]["roots"].empty());
  REQUIRE(store.load("zeta").value()->anchors.roots.size() == 1);

  CHECK_FALSE(store.load("initech").value().has_value());
  const auto all = store.list();
  REQUIRE(all.has_value());
  std::vector<std::string> names;
  for (const auto& v : *all) {
    names.push_back(v.vendor);
  }
  CHECK(names == std::vector<std::string>{"acme", "beta", "zeta"});
  REQUIRE(all->front().anchors.roots.size() == 1);
  CHECK(all->front().anchors.roots[0].info().sha256 == fingerprint(acme_pki().root.cert));
}

TEST_CASE("trust::TrustStore refuses unsuitable x509 material with trust.bad_material") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  const auto& acme = acme_pki();
  const auto before = trust_files(w);

  SUBCASE("a leaf certificate as a root") {
    expect_error(store.add_x509("acme", roots("leaf.pem", acme.leaf.cert.pem()), test_now()),
                 ecluse::reason::k_trust_bad_material);
  }
  SUBCASE("a leaf certificate as an intermediate") {
    X509Additions add;
    add.intermediates.push_back(Material{"leaf.pem", acme.leaf.cert.pem()});
    expect_error(store.add_x509("acme", add, test_now()), ecluse::reason::k_trust_bad_material);
  }
  SUBCASE("a CA that is not self-signed as a root") {
    const auto r =
        store.add_x509("acme", roots("release-ca.pem", acme.intermediate.cert.pem()), test_now());
    expect_error(r, ecluse::reason::k_trust_bad_material);
    CHECK(r.error().item == "release-ca.pem");
  }
  SUBCASE("garbage bytes") {
    expect_error(store.add_x509("acme", roots("junk.pem", "not a certificate\n"), test_now()),
                 ecluse::reason::k_trust_bad_material);
  }
  SUBCASE("a PEM bundle whose second certificate is a leaf") {
    const auto bundle = fresh_root("Acme Second Root").cert.pem() + acme.leaf.cert.pem();
    expect_error(store.add_x509("acme", roots("bundle.pem", bundle), test_now()),
                 ecluse::reason::k_trust_bad_material);
  }
  SUBCASE("a root with an RSA-1024 key") {
    const auto weak = fresh_root("Acme Weak Root", pki::KeyType::rsa1024);
    expect_error(store.add_x509("acme", roots("weak.pem", weak.cert.pem()), test_now()),
                 ecluse::reason::k_trust_bad_material);
  }
  SUBCASE("a CRL signed by another vendor's CA") {
    const auto other = fresh_root("Globex Root");
    X509Additions add;
    add.crls.push_back(
        Material{"globex.crl", pki::make_crl(other, {}, test_now(), test_now() + days(30))});
    expect_error(store.add_x509("acme", add, test_now()), ecluse::reason::k_trust_bad_material);
  }
  SUBCASE("a CRL of acme's intermediate while the intermediate is not pinned") {
    X509Additions add;
    add.crls.push_back(Material{
        "release-ca.crl", pki::make_crl(acme.intermediate, {}, test_now(), test_now() + days(30))});
    expect_error(store.add_x509("acme", add, test_now()), ecluse::reason::k_trust_bad_material);
  }
  SUBCASE("a CRL under the pinned intermediate's name signed by another key") {
    const auto look_alike = pki::issue(
        fresh_root("Acme Test Root"),
        cert_spec("Acme Test Release CA", true, test_now() - days(9), test_now() + days(9)));
    X509Additions add;
    add.intermediates.push_back(Material{"release-ca.pem", acme.intermediate.cert.pem()});
    add.crls.push_back(
        Material{"forged.crl", pki::make_crl(look_alike, {}, test_now(), test_now() + days(30))});
    expect_error(store.add_x509("acme", add, test_now()), ecluse::reason::k_trust_bad_material);
  }
  SUBCASE("a CRL that is not a CRL") {
    X509Additions add;
    add.crls.push_back(Material{"root-as.crl", acme.root.cert.pem()});
    expect_error(store.add_x509("acme", add, test_now()), ecluse::reason::k_trust_bad_material);
  }

  // A refused addition writes nothing, neither the refused item nor the rest of the request.
  CHECK(trust_files(w) == before);
  const auto t = store.load("acme").value();
  REQUIRE(t.has_value());
  CHECK(fingerprints(t->anchors.roots) == std::vector<std::string>{fingerprint(acme.root.cert)});
  CHECK(t->anchors.intermediates.empty());
  CHECK(t->anchors.crls.empty());
}

TEST_CASE("trust::TrustStore refuses a new vendor's bad root without pinning the vendor") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  expect_error(store.add_x509("initech", roots("leaf.pem", acme_pki().leaf.cert.pem()), test_now()),
               ecluse::reason::k_trust_bad_material);
  CHECK_FALSE(store.load("initech").value().has_value());
  CHECK_FALSE(stdfs::exists(w.s().ws().trust_dir() / "initech" / "vendor.json"));
}

TEST_CASE("trust::TrustStore refuses raw keys other than Ed25519 and ECDSA P-256") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  const auto before = trust_files(w);
  SUBCASE("RSA-2048") {
    expect_error(
        store.add_raw_key(
            "rawco", {"rsa.pem", pki::Key::shared(pki::KeyType::rsa2048).public_pem()}, test_now()),
        ecluse::reason::k_trust_bad_material);
  }
  SUBCASE("secp256k1") {
    expect_error(
        store.add_raw_key("rawco",
                          {"k1.pem", pki::Key::generate(pki::KeyType::ec_secp256k1).public_pem()},
                          test_now()),
        ecluse::reason::k_trust_bad_material);
  }
  SUBCASE("EC P-384") {
    expect_error(
        store.add_raw_key("rawco",
                          {"p384.pem", pki::Key::generate(pki::KeyType::ec_p384).public_pem()},
                          test_now()),
        ecluse::reason::k_trust_bad_material);
  }
  SUBCASE("garbage") {
    expect_error(
        store.add_raw_key("rawco", {"junk.pem", "-----BEGIN PUBLIC KEY-----\n"}, test_now()),
        ecluse::reason::k_trust_bad_material);
  }
  CHECK(trust_files(w) == before);
  CHECK_FALSE(store.load("rawco").value().has_value());
}

TEST_CASE(
    "trust::TrustStore accepts a CRL of a pinned intermediate and replaces it only with a "
    "newer one") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  const auto& acme = acme_pki();
  const auto now = test_now();
  // DER CRLs: their fingerprint is the SHA-256 of these very bytes.
  const auto older = pki::make_crl(acme.intermediate, {}, now - days(2), now + days(30), false);
  const auto first = pki::make_crl(acme.intermediate, {}, now - days(1), now + days(30), false);
  const auto newer = pki::make_crl(acme.intermediate, {}, now, now + days(30), false);

  X509Additions add;
  add.intermediates.push_back(Material{"release-ca.pem", acme.intermediate.cert.pem()});
  add.crls.push_back(Material{"first.crl", first});
  const auto added = store.add_x509("acme", add, now);
  REQUIRE(added.has_value());
  CHECK((*added)["added"]["intermediates"]
        == ecluse::json::Json::array({fingerprint(acme.intermediate.cert)}));
  CHECK((*added)["added"]["crls"] == ecluse::json::Json::array({sha256_hex(first)}));
  CHECK((*added)["replaced_crls"].empty());
  auto t = store.load("acme").value();
  REQUIRE(t.has_value());
  CHECK(fingerprints(t->anchors.intermediates)
        == std::vector<std::string>{fingerprint(acme.intermediate.cert)});
  CHECK(fingerprints(t->anchors.crls) == std::vector<std::string>{sha256_hex(first)});
  REQUIRE(t->anchors.crls.size() == 1);
  CHECK(t->anchors.crls[0].info().this_update == now - days(1));
  CHECK(t->anchors.crls[0].info().issuer.find("Acme Test Release CA") != std::string::npos);

  X509Additions newer_add;
  newer_add.crls.push_back(Material{"newer.crl", newer});
  const auto replaced = store.add_x509("acme", newer_add, now);
  REQUIRE(replaced.has_value());
  CHECK((*replaced)["replaced_crls"] == ecluse::json::Json::array({sha256_hex(first)}));
  CHECK((*replaced)["added"]["crls"] == ecluse::json::Json::array({sha256_hex(newer)}));
  t = store.load("acme").value();
  REQUIRE(t.has_value());
  CHECK(fingerprints(t->anchors.crls) == std::vector<std::string>{sha256_hex(newer)});

  const auto files = trust_files(w);
  for (const auto& m : {Material{"older.crl", older}, Material{"first.crl", first}}) {
    const std::string label = m.name;
    CAPTURE(label);
    X509Additions stale;
    stale.crls.push_back(m);
    const auto r = store.add_x509("acme", stale, now);
    expect_error(r, ecluse::reason::k_trust_bad_material);
    CHECK(r.error().item == label);
  }
  CHECK(trust_files(w) == files);
  CHECK(fingerprints(store.load("acme").value()->anchors.crls)
        == std::vector<std::string>{sha256_hex(newer)});
}

TEST_CASE("trust::TrustStore accepts a CRL issued by a pinned root") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  const auto crl = pki::make_crl(acme_pki().root, {}, test_now(), test_now() + days(30), false);
  X509Additions add;
  add.crls.push_back(Material{"root.crl", crl});
  REQUIRE(store.add_x509("acme", add, test_now()).has_value());
  CHECK(fingerprints(store.load("acme").value()->anchors.crls)
        == std::vector<std::string>{sha256_hex(crl)});
}

TEST_CASE("trust::TrustStore pins raw keys by the SHA-256 of their SubjectPublicKeyInfo") {
  for (const auto type : {pki::KeyType::ed25519, pki::KeyType::ec_p256}) {
    CAPTURE(static_cast<int>(type));
    TestWorkspace w;
    TrustStore store(w.s().ws());
    const auto pem = pki::Key::generate(type).public_pem();
    const auto id = key_id_of(pem);
    REQUIRE(id.size() == 64);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);

    const auto added = store.add_raw_key("rawco", {"rawco.pem", pem}, test_now());
    REQUIRE(added.has_value());
    CHECK((*added)["kind"] == "raw-key");
    CHECK((*added)["key_id"] == id);

    const auto t = store.load("rawco");
    REQUIRE(t.has_value());
    REQUIRE(t->has_value());
    CHECK((*t)->kind == ecluse::trust::Kind::raw_key);
    REQUIRE((*t)->raw_key.has_value());
    CHECK((*t)->raw_key->key_id() == id);
    CHECK((*t)->raw_key->pem() == pem);
    CHECK((*t)->raw_key->info().type
          == (type == pki::KeyType::ed25519 ? std::string("Ed25519") : std::string("EC")));
    CHECK((*t)->anchors.roots.empty());
    CHECK((*t)->to_json()["raw_key"]["key_id"] == id);
    CHECK(stdfs::is_regular_file(w.s().ws().trust_dir() / "rawco" / "raw-key" / (id + ".pem")));

    // The same key again is no change; the list shows both kinds.
    REQUIRE(store.add_raw_key("rawco", {"again.pem", pem}, test_now()).has_value());
    const auto all = store.list().value();
    REQUIRE(all.size() == 2);
    CHECK(all[1].vendor == "rawco");
    CHECK(all[1].kind == ecluse::trust::Kind::raw_key);
  }
}

TEST_CASE("trust::TrustStore keeps x509 and raw-key vendors apart (trust.vendor_conflict)") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  const auto pem = pki::Key::generate(pki::KeyType::ed25519).public_pem();
  REQUIRE(store.add_raw_key("rawco", {"rawco.pem", pem}, test_now()).has_value());
  const auto before = trust_files(w);

  expect_error(
      store.add_x509("rawco", roots("root.pem", fresh_root("Rawco Root").cert.pem()), test_now()),
      ecluse::reason::k_trust_vendor_conflict);
  expect_error(
      store.add_raw_key(
          "acme", {"acme.pem", pki::Key::generate(pki::KeyType::ec_p256).public_pem()}, test_now()),
      ecluse::reason::k_trust_vendor_conflict);
  // One key per raw-key vendor: a second, different key is a conflict too.
  expect_error(
      store.add_raw_key("rawco",
                        {"other.pem", pki::Key::generate(pki::KeyType::ed25519).public_pem()},
                        test_now()),
      ecluse::reason::k_trust_vendor_conflict);

  CHECK(trust_files(w) == before);
  const auto rawco = store.load("rawco").value();
  REQUIRE(rawco.has_value());
  CHECK(rawco->kind == ecluse::trust::Kind::raw_key);
  CHECK(rawco->raw_key->key_id() == key_id_of(pem));
  const auto acme = store.load("acme").value();
  REQUIRE(acme.has_value());
  CHECK(acme->kind == ecluse::trust::Kind::x509);
  CHECK_FALSE(acme->raw_key.has_value());
}

TEST_CASE("trust::TrustStore removes one pinned item, or the vendor with its last root or key") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  const auto& acme = acme_pki();
  const auto crl = pki::make_crl(acme.intermediate, {}, test_now(), test_now() + days(30), false);
  const auto second = fresh_root("Acme Second Root");
  X509Additions add = roots("second.pem", second.cert.pem());
  add.intermediates.push_back(Material{"release-ca.pem", acme.intermediate.cert.pem()});
  add.crls.push_back(Material{"release-ca.crl", crl});
  REQUIRE(store.add_x509("acme", add, test_now()).has_value());
  const auto root_fp = fingerprint(acme.root.cert);
  const auto ca_fp = fingerprint(acme.intermediate.cert);

  auto removed = store.remove("acme", sha256_hex(crl), test_now());
  REQUIRE(removed.has_value());
  CHECK((*removed)["removed"] == sha256_hex(crl));
  auto t = store.load("acme").value();
  REQUIRE(t.has_value());
  CHECK(t->anchors.crls.empty());
  CHECK(fingerprints(t->anchors.intermediates) == std::vector<std::string>{ca_fp});
  CHECK(t->anchors.roots.size() == 2);

  REQUIRE(store.remove("acme", ca_fp, test_now()).has_value());
  t = store.load("acme").value();
  REQUIRE(t.has_value());
  CHECK(t->anchors.intermediates.empty());
  CHECK(t->anchors.roots.size() == 2);

  // One root of two: the vendor stays with the other.
  REQUIRE(store.remove("acme", root_fp, test_now()).has_value());
  t = store.load("acme").value();
  REQUIRE(t.has_value());
  CHECK(fingerprints(t->anchors.roots) == std::vector<std::string>{fingerprint(second.cert)});

  const auto unknown_fp = sha256_hex("no such certificate");
  const auto unknown = store.remove("acme", unknown_fp, test_now());
  expect_error(unknown, ecluse::reason::k_trust_unknown_vendor);
  CHECK(unknown.error().item == unknown_fp);
  // An item already removed is unknown as well.
  expect_error(store.remove("acme", root_fp, test_now()), ecluse::reason::k_trust_unknown_vendor);
  expect_error(store.remove("initech", "", test_now()), ecluse::reason::k_trust_unknown_vendor);
  expect_error(store.remove("initech", root_fp, test_now()),
               ecluse::reason::k_trust_unknown_vendor);
  REQUIRE(store.load("acme").value().has_value());

  // The last root takes the vendor with it.
  removed = store.remove("acme", fingerprint(second.cert), test_now());
  REQUIRE(removed.has_value());
  CHECK((*removed)["removed"] == "vendor");
  CHECK_FALSE(store.load("acme").value().has_value());
  CHECK(store.list().value().empty());
  expect_error(store.remove("acme", "", test_now()), ecluse::reason::k_trust_unknown_vendor);
}

TEST_CASE("trust::TrustStore removes a whole vendor, or a raw-key vendor by its key id") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  const auto pem = pki::Key::generate(pki::KeyType::ec_p256).public_pem();
  REQUIRE(store.add_raw_key("rawco", {"rawco.pem", pem}, test_now()).has_value());
  REQUIRE(
      store
          .add_x509("globex", roots("globex.pem", fresh_root("Globex Root").cert.pem()), test_now())
          .has_value());

  const auto gone = store.remove("globex", "", test_now());
  REQUIRE(gone.has_value());
  CHECK((*gone)["removed"] == "vendor");
  CHECK_FALSE(store.load("globex").value().has_value());

  REQUIRE(store.remove("rawco", key_id_of(pem), test_now()).has_value());
  CHECK_FALSE(store.load("rawco").value().has_value());

  const auto rest = store.list().value();
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].vendor == "acme");
}

TEST_CASE("trust::TrustStore reports a damaged store as trust.store_broken, not a rejection") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  REQUIRE(store.load("acme").value().has_value());
  const auto root_file = pinned_root_file(w);
  REQUIRE(stdfs::is_regular_file(root_file));
  stdfs::permissions(root_file, stdfs::perms::owner_write, stdfs::perm_options::add);

  SUBCASE("a pinned root file holding garbage") {
    ecluse::test::write_file(root_file, "garbage\n");
  }
  SUBCASE("a pinned root file holding another valid certificate") {
    ecluse::test::write_file(root_file, fresh_root("Acme Test Root").cert.pem());
  }
  SUBCASE("a pinned root file that is missing") {
    stdfs::remove(root_file);
  }
  SUBCASE("a vendor.json that is not JSON") {
    ecluse::test::write_file(w.s().ws().trust_dir() / "acme" / "vendor.json", "{\"schema\":");
  }
  SUBCASE("a vendor.json listing something other than fingerprints") {
    ecluse::test::write_file(
        w.s().ws().trust_dir() / "acme" / "vendor.json",
        R"({"schema":"ecluse.trust/v1","vendor":"acme","kind":"x509","roots":["../x"],)"
        R"("intermediates":[],"crls":[],"raw_key":null,"updated_at":""})");
  }

  const auto loaded = store.load("acme");
  expect_error(loaded, ecluse::reason::k_trust_broken);
  CHECK(loaded.error().code == ecluse::Errc::unavailable);
  CHECK(loaded.error().code != ecluse::Errc::rejected);
  expect_error(store.list(), ecluse::reason::k_trust_broken);
  // Nothing is added on top of a broken store.
  expect_error(
      store.add_x509("acme", roots("second.pem", fresh_root("Second").cert.pem()), test_now()),
      ecluse::reason::k_trust_broken);
}

TEST_CASE("trust::TrustStore refuses vendor names that are not plain names") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  const auto root = fresh_root("Escape Root");
  const auto key = pki::Key::generate(pki::KeyType::ed25519).public_pem();
  for (const std::string name : {"../x", "a/b", "", "..", "-x", "x/../acme"}) {
    CAPTURE(name);
    const auto x = store.add_x509(name, roots("root.pem", root.cert.pem()), test_now());
    expect_error(x, ecluse::reason::k_usage);
    CHECK(x.error().item == name);
    expect_error(store.add_raw_key(name, {"key.pem", key}, test_now()), ecluse::reason::k_usage);
    expect_error(store.remove(name, "", test_now()), ecluse::reason::k_usage);
    const auto loaded = store.load(name);
    REQUIRE(loaded.has_value());
    CHECK_FALSE(loaded->has_value());
  }
  CHECK_FALSE(stdfs::exists(w.s().ws().root() / "x"));
  CHECK_FALSE(stdfs::exists(w.s().ws().trust_dir() / "a"));
  const auto all = store.list().value();
  REQUIRE(all.size() == 1);
  CHECK(all[0].vendor == "acme");
}

TEST_CASE("trust::TrustStore keeps only the newest of two CRLs of one issuer given together") {
  const auto& p = acme_pki();
  const auto victim = pki::issue(
      p.intermediate,
      cert_spec("Acme Revoked Signing", false, test_now() - days(30), test_now() + days(30)));
  const auto older = pki::make_crl(p.intermediate, {}, test_now() - days(2), test_now() + days(7));
  const auto newer =
      pki::make_crl(p.intermediate, {victim.cert}, test_now() - days(1), test_now() + days(7));
  for (const bool newest_last : {true, false}) {
    CAPTURE(newest_last);
    TestWorkspace fresh;
    TrustStore s(fresh.s().ws());
    X509Additions add;
    add.intermediates.push_back(Material{"ca.pem", p.intermediate.cert.pem()});
    add.crls.push_back(Material{"a.crl", newest_last ? older : newer});
    add.crls.push_back(Material{"b.crl", newest_last ? newer : older});
    const auto changed = s.add_x509("acme", add, test_now());
    if (!newest_last) {
      expect_error(changed, ecluse::reason::k_trust_bad_material);  // the older one comes last
      continue;
    }
    REQUIRE(changed.has_value());
    CHECK((*changed)["added"]["crls"].size() == 1);
    const auto loaded = s.load("acme");
    REQUIRE(loaded.has_value());
    REQUIRE(loaded->has_value());
    REQUIRE((*loaded)->anchors.crls.size() == 1);
    const auto sig = pki::sign_cms("hello", victim, {p.intermediate.cert});
    const auto r = ecluse::crypto::verify_cms(sig, "hello", (*loaded)->anchors, {}, test_now());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().reason == "signature.revoked");
  }
}

TEST_CASE("trust::TrustStore refuses PEM files with text outside their blocks") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  const auto root = fresh_root("Pem Root").cert.pem();
  for (const auto& bytes : {root + "trailing garbage\n",
                            "leading garbage\n" + root,
                            root.substr(0, root.size() - 10)}) {
    expect_error(store.add_x509("pemco", roots("root.pem", bytes), test_now()),
                 ecluse::reason::k_trust_bad_material);
  }
  REQUIRE(store.add_x509("pemco", roots("root.pem", "\n" + root + "\n\n"), test_now()).has_value());
  const auto key = pki::Key::generate(pki::KeyType::ed25519).public_pem();
  expect_error(store.add_raw_key("rawpem", Material{"k.pem", key + "junk\n"}, test_now()),
               ecluse::reason::k_trust_bad_material);
}

namespace {

// A CRL made here with the OpenSSL API, with or without a deltaCRLIndicator, signed with md.
std::string raw_crl(const pki::Issued& issuer, bool delta, const EVP_MD* md) {
  const auto cert_pem = issuer.cert.pem();
  const auto key_pem = issuer.key.private_pem();
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  X509* ca = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  REQUIRE(ca != nullptr);
  REQUIRE(key != nullptr);
  X509_CRL* crl = X509_CRL_new();
  REQUIRE(X509_CRL_set_version(crl, 1) == 1);
  REQUIRE(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) == 1);
  ASN1_TIME* last = ASN1_TIME_set(nullptr, (test_now() - days(1)).time_since_epoch().count());
  ASN1_TIME* next = ASN1_TIME_set(nullptr, (test_now() + days(7)).time_since_epoch().count());
  REQUIRE(X509_CRL_set1_lastUpdate(crl, last) == 1);
  REQUIRE(X509_CRL_set1_nextUpdate(crl, next) == 1);
  ASN1_INTEGER* number = ASN1_INTEGER_new();
  REQUIRE(ASN1_INTEGER_set(number, 7) == 1);
  REQUIRE(X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) == 1);
  if (delta) {
    REQUIRE(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, number, 1, 0) == 1);
  }
  REQUIRE(X509_CRL_sign(crl, key, md) > 0);
  unsigned char* der = nullptr;
  const int n = i2d_X509_CRL(crl, &der);
  REQUIRE(n > 0);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  ASN1_INTEGER_free(number);
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  X509_CRL_free(crl);
  EVP_PKEY_free(key);
  X509_free(ca);
  BIO_free(cb);
  BIO_free(kb);
  return out;
}

}  // namespace

TEST_CASE("trust::TrustStore pins only complete CRLs signed with an allowed digest") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  const auto& p = acme_pki();
  const auto with_crl = [&](const std::string& crl) {
    X509Additions add;
    add.intermediates.push_back(Material{"ca.pem", p.intermediate.cert.pem()});
    add.crls.push_back(Material{"ca.crl", crl});
    return store.add_x509("acme", add, test_now());
  };
  expect_error(with_crl(raw_crl(p.intermediate, true, EVP_sha256())),
               ecluse::reason::k_trust_bad_material);
  expect_error(with_crl(raw_crl(p.intermediate, false, EVP_sha1())),
               ecluse::reason::k_trust_bad_material);
  REQUIRE(with_crl(raw_crl(p.intermediate, false, EVP_sha256())).has_value());
}

TEST_CASE("trust::TrustStore: an unreadable vendor.json is a broken store, not an unknown vendor") {
  TestWorkspace w;
  TrustStore store(w.s().ws());
  const auto listing = w.s().ws().trust_dir() / "acme" / "vendor.json";
  stdfs::remove(listing);
  stdfs::create_symlink("vendor.json", listing);  // a loop: lstat works, reading fails
  expect_error(store.load("acme"), ecluse::reason::k_trust_broken);
  stdfs::remove(listing);
  stdfs::create_directory(listing);  // not a file
  expect_error(store.load("acme"), ecluse::reason::k_trust_broken);
}
