// keys::Keyring in a temporary directory with real keys: what generate, signer and revoke
// refuse, a key list history that was tampered with, then key ids, rotation (old signatures
// still verify), revocation (they stop counting), root rotation and the repair of a crash
// leftover.
#include <ecluse/core/base64.hpp>
#include <ecluse/crypto/dsse.hpp>
#include <ecluse/keys/keyring.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "support/support.hpp"

namespace dsse = ecluse::crypto::dsse;
using ecluse::crypto::KeyType;
using ecluse::keys::GenerateRequest;
using ecluse::keys::Keyring;
using ecluse::keys::Role;
using ecluse::keys::Standing;
using ecluse::test::TempDir;

namespace {

const std::string k_type = "application/vnd.example.test+json";

// A key ring under dir/keys, opened (no key list yet).
Keyring open_ring(const TempDir& dir) {
  auto ring = Keyring::open(dir / "keys");
  REQUIRE(ring.has_value());
  return std::move(*ring);
}

ecluse::keys::KeyEntry generate(Keyring& ring, const GenerateRequest& req) {
  auto made = ring.generate(req, ecluse::test::test_now());
  REQUIRE(made.has_value());
  return *made;
}

// root (version 1), release (2) and journal (3) keys, ECDSA P-256, unencrypted.
Keyring basic_ring(const TempDir& dir) {
  auto ring = open_ring(dir);
  generate(ring, {Role::root, KeyType::ecdsa_p256, "", ""});
  generate(ring, {Role::release, KeyType::ecdsa_p256, "", ""});
  generate(ring, {Role::journal, KeyType::ecdsa_p256, "", ""});
  REQUIRE(ring.list().version == 3);
  return ring;
}

std::string active_id(const Keyring& ring, Role role) {
  const auto active = ring.list().active(role);
  REQUIRE(active.size() == 1);
  return active.front()->keyid;
}

template <class T>
std::string reason_of(const ecluse::Result<T>& r) {
  REQUIRE_FALSE(r.has_value());
  return r.error().reason;
}

std::string open_reason(const TempDir& dir) {
  return reason_of(Keyring::open(dir / "keys"));
}

std::filesystem::path history(const TempDir& dir, int version) {
  return dir / "keys" / "history" / (std::to_string(version) + ".keylist.json");
}

dsse::Envelope sign_with(const ecluse::crypto::SigningKey& key, const std::string& payload) {
  const ecluse::crypto::SigningKey* keys[] = {&key};
  auto env = dsse::sign(k_type, payload, keys);
  REQUIRE(env.has_value());
  return *env;
}

// The key list `list` with `version`, signed by `signer` (as a forger would make it).
std::string signed_list(ecluse::keys::KeyList list,
                        std::uint64_t version,
                        const ecluse::crypto::SigningKey& signer) {
  list.version = version;
  const ecluse::crypto::SigningKey* signers[] = {&signer};
  auto text = ecluse::keys::sign_keylist(list, signers);
  REQUIRE(text.has_value());
  return *text;
}

}  // namespace

TEST_CASE("keys::Keyring::generate refuses keys the key list cannot take") {
  const TempDir dir;
  auto ring = open_ring(dir);
  SUBCASE("a release key before any root key: keys.no_key") {
    CHECK(reason_of(
              ring.generate({Role::release, KeyType::ecdsa_p256, "", ""}, ecluse::test::test_now()))
          == "keys.no_key");
    CHECK(ring.list().version == 0);
    CHECK_FALSE(std::filesystem::exists(dir / "keys" / "keylist.json"));
  }
  generate(ring, {Role::root, KeyType::ecdsa_p256, "", ""});
  SUBCASE("an engineer key without --name") {
    CHECK(reason_of(ring.generate({Role::engineer, KeyType::ecdsa_p256, "", ""},
                                  ecluse::test::test_now()))
          == "usage.invalid_argument");
  }
  SUBCASE("a second active release key") {
    generate(ring, {Role::release, KeyType::ecdsa_p256, "", ""});
    CHECK(reason_of(
              ring.generate({Role::release, KeyType::ecdsa_p256, "", ""}, ecluse::test::test_now()))
          == "usage.invalid_argument");
    CHECK(ring.list().active(Role::release).size() == 1);
  }
  SUBCASE("an Ed25519 release key (OpenSSL 3.0 makes no EdDSA CMS signatures)") {
    CHECK(reason_of(
              ring.generate({Role::release, KeyType::ed25519, "", ""}, ecluse::test::test_now()))
          == "keys.unsupported_type");
    CHECK(ring.list().active(Role::release).empty());
  }
  SUBCASE("a passphrase variable that is named but unset") {
    ::unsetenv("ECLUSE_TEST_KEYRING_UNSET");
    CHECK(reason_of(
              ring.generate({Role::journal, KeyType::ecdsa_p256, "", "ECLUSE_TEST_KEYRING_UNSET"},
                            ecluse::test::test_now()))
          == "keys.passphrase_missing");
    CHECK(ring.list().active(Role::journal).empty());
  }
  CHECK(ring.list().version <= 2);
}

TEST_CASE("keys::Keyring::signer refuses locked, loose and missing private keys") {
  const TempDir dir;
  auto ring = basic_ring(dir);
  const auto release = active_id(ring, Role::release);
  const auto pem = dir / "keys" / "private" / (release + ".pem");
  SUBCASE("an encrypted key without its variable, then with it") {
    ::setenv("ECLUSE_TEST_KEYRING_PASS", "correct horse battery staple", 1);
    const auto alice =
        generate(ring, {Role::engineer, KeyType::ecdsa_p256, "alice", "ECLUSE_TEST_KEYRING_PASS"});
    const auto file = ecluse::test::read_file(dir / "keys" / "private" / (alice.keyid + ".pem"));
    CHECK(file.find("ENCRYPTED PRIVATE KEY") != std::string::npos);
    ::unsetenv("ECLUSE_TEST_KEYRING_PASS");
    CHECK(reason_of(ring.signer(alice.keyid)) == "keys.passphrase_missing");
    CHECK(reason_of(ring.active_signer(Role::engineer, "alice")) == "keys.passphrase_missing");
    ::setenv("ECLUSE_TEST_KEYRING_PASS", "correct horse battery staple", 1);
    auto key = ring.active_signer(Role::engineer, "alice");
    REQUIRE(key.has_value());
    CHECK(key->key_id() == alice.keyid);
    const auto sig = key->sign("approve drop 1").value();
    CHECK(ecluse::crypto::verify_signature(alice.public_key, "approve drop 1", sig).value());
    CHECK_FALSE(ecluse::crypto::verify_signature(alice.public_key, "approve drop 2", sig).value());
    ::unsetenv("ECLUSE_TEST_KEYRING_PASS");
  }
  SUBCASE("a private PEM readable by others") {
    REQUIRE(::chmod(pem.c_str(), 0644) == 0);
    CHECK(reason_of(ring.signer(release)) == "keys.loose_permissions");
    CHECK(reason_of(ring.active_signer(Role::release)) == "keys.loose_permissions");
  }
  SUBCASE("a private key reference removed (an offline key)") {
    REQUIRE(std::filesystem::remove(dir / "keys" / "private" / (release + ".json")));
    CHECK(reason_of(ring.signer(release)) == "keys.private_missing");
  }
  SUBCASE("a key the key list does not hold") {
    CHECK(reason_of(ring.signer(std::string(64, 'a'))) == "keys.unknown_key");
  }
  CHECK(ring.signer(active_id(ring, Role::journal)).has_value());
}

TEST_CASE("keys::Keyring::revoke refuses unknown keys, a second revocation and the only root") {
  const TempDir dir;
  auto ring = basic_ring(dir);
  const auto now = ecluse::test::test_now();
  SUBCASE("an id prefix no key has") {
    CHECK(reason_of(ring.revoke("00000000deadbeef", "lost", now)) == "keys.unknown_key");
  }
  SUBCASE("a prefix too short to name one key") {
    CHECK(reason_of(ring.revoke(active_id(ring, Role::release).substr(0, 4), "lost", now))
          == "usage.invalid_argument");
  }
  SUBCASE("a key revoked already") {
    const auto release = active_id(ring, Role::release);
    REQUIRE(ring.revoke(release.substr(0, 16), "laptop stolen", now).has_value());
    CHECK(reason_of(ring.revoke(release.substr(0, 16), "again", now)) == "keys.already_revoked");
    CHECK(ring.list().find(release)->standing == Standing::revoked);
  }
  SUBCASE("the only active root key") {
    CHECK(reason_of(ring.revoke(active_id(ring, Role::root), "compromised", now))
          == "usage.invalid_argument");
    CHECK(ring.list().active(Role::root).size() == 1);
  }
  SUBCASE("no reason") {
    CHECK(reason_of(ring.revoke(active_id(ring, Role::release), "", now))
          == "usage.invalid_argument");
  }
  CHECK(Keyring::open(dir / "keys").has_value());
}

TEST_CASE("keys::Keyring::open refuses a key list history that was tampered with") {
  const TempDir dir;
  auto ring = basic_ring(dir);
  REQUIRE(Keyring::open(dir / "keys").has_value());
  auto release = ring.active_signer(Role::release);
  REQUIRE(release.has_value());
  auto root = ring.active_signer(Role::root);
  REQUIRE(root.has_value());

  SUBCASE("a byte edited inside history/2's signed payload") {
    auto doc = ecluse::json::Json::parse(ecluse::test::read_file(history(dir, 2)));
    auto payload = ecluse::base64_decode(doc["payload"].get<std::string>()).value();
    const auto at = payload.find("\"release\"");
    REQUIRE(at != std::string::npos);
    payload[at + 1] = 'X';  // "Xelease": no longer the signed bytes
    doc["payload"] = ecluse::base64_encode(payload);
    ecluse::test::write_file(history(dir, 2), doc.dump());
    CHECK(open_reason(dir) == "keys.bad_keylist");
  }
  SUBCASE("keylist.json replaced by a list signed by a release key") {
    ecluse::test::write_file(dir / "keys" / "keylist.json",
                             signed_list(ring.list(), ring.list().version, *release));
    CHECK(open_reason(dir) == "keys.bad_keylist");
  }
  SUBCASE("keylist.json replaced by a newer version signed by a release key") {
    ecluse::test::write_file(dir / "keys" / "keylist.json",
                             signed_list(ring.list(), ring.list().version + 1, *release));
    CHECK(open_reason(dir) == "keys.bad_keylist");
  }
  SUBCASE("the last history version re-signed by a release key") {
    const auto text = signed_list(ring.list(), 3, *release);
    ecluse::test::write_file(history(dir, 3), text);
    ecluse::test::write_file(dir / "keys" / "keylist.json", text);
    CHECK(open_reason(dir) == "keys.bad_keylist");
  }
  SUBCASE("history/1 deleted") {
    REQUIRE(std::filesystem::remove(history(dir, 1)));
    CHECK(open_reason(dir) == "keys.bad_keylist");
  }
  SUBCASE("a version that skips a number, stored as the next version") {
    const auto text = signed_list(ring.list(), 5, *root);
    ecluse::test::write_file(history(dir, 4), text);
    ecluse::test::write_file(dir / "keys" / "keylist.json", text);
    CHECK(open_reason(dir) == "keys.bad_keylist");
  }
  SUBCASE("a version that skips a number, stored under its own number") {
    const auto text = signed_list(ring.list(), 5, *root);
    ecluse::test::write_file(history(dir, 5), text);
    ecluse::test::write_file(dir / "keys" / "keylist.json", text);
    CHECK(open_reason(dir) == "keys.bad_keylist");
  }
  SUBCASE("keylist.json without any history") {
    std::filesystem::remove_all(dir / "keys" / "history");
    CHECK(open_reason(dir) == "keys.bad_keylist");
  }
  // Nothing is signed with a list that does not open.
  CHECK(reason_of(ring.generate({Role::engineer, KeyType::ecdsa_p256, "mallory", ""},
                                ecluse::test::test_now()))
        == "keys.bad_keylist");
}

TEST_CASE("keys::Keyring: a key id is the hex SHA-256 of the DER SubjectPublicKeyInfo") {
  const TempDir dir;
  auto ring = basic_ring(dir);
  const auto bob = generate(ring, {Role::engineer, KeyType::ed25519, "bob", ""});
  REQUIRE(ring.list().keys.size() == 4);
  for (const auto& e : ring.list().keys) {
    CAPTURE(e.keyid);
    CHECK(e.keyid == ecluse::test::sha256_hex(e.public_key.der()));
    CHECK(e.keyid.size() == 64);
    CHECK(e.standing == Standing::active);
    CHECK(ecluse::test::read_file(dir / "keys" / "private" / (e.keyid + ".pem")).find("PRIVATE KEY")
          != std::string::npos);
    auto key = ring.signer(e.keyid);
    REQUIRE(key.has_value());
    CHECK(key->key_id() == e.keyid);
  }
  CHECK(bob.name == "bob");
  CHECK(bob.type == KeyType::ed25519);
  CHECK(ring.list().find(bob.keyid)->role == Role::engineer);
  CHECK(ring.list().active(Role::root).front()->name == "root");

  // The files are as docs/keys.md says: 0600 keys in a 0700 directory.
  struct stat st {};

  REQUIRE(::stat((dir / "keys" / "private").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777U) == 0700U);
  REQUIRE(::stat((dir / "keys" / "private" / (bob.keyid + ".pem")).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777U) == 0600U);
  CHECK(ecluse::test::read_file(dir / "keys" / "keylist.json")
        == ecluse::test::read_file(history(dir, 4)));
}

TEST_CASE("keys::Keyring::rotate retires the old key: what it signed still verifies") {
  const TempDir dir;
  auto ring = basic_ring(dir);
  const auto old_id = active_id(ring, Role::release);
  auto old_key = ring.signer(old_id);
  REQUIRE(old_key.has_value());
  const auto before = sign_with(*old_key, "signed before the rotation\n");

  auto rotated = ring.rotate(Role::release, "", ecluse::test::test_now());
  REQUIRE(rotated.has_value());
  CHECK(rotated->keyid != old_id);
  CHECK(rotated->standing == Standing::active);
  CHECK(rotated->type == KeyType::ecdsa_p256);
  CHECK(ring.list().version == 4);
  CHECK(ring.list().find(old_id)->standing == Standing::retired);
  CHECK_FALSE(ring.list().find(old_id)->retired.empty());
  CHECK(active_id(ring, Role::release) == rotated->keyid);

  auto verified = dsse::verify(before, ring.list().known(Role::release), 1, k_type);
  REQUIRE(verified.has_value());
  CHECK(verified->signers == std::vector<std::string>{old_id});
  CHECK(verified->payload == "signed before the rotation\n");

  auto now_signer = ring.active_signer(Role::release);
  REQUIRE(now_signer.has_value());
  CHECK(now_signer->key_id() == rotated->keyid);
  const auto after = sign_with(*now_signer, "signed after\n");
  CHECK(dsse::verify(after, ring.list().known(Role::release), 1, k_type).has_value());
  // The key list a fresh open sees is the same.
  auto reopened = Keyring::open(dir / "keys");
  REQUIRE(reopened.has_value());
  CHECK(reopened->list().version == 4);
  CHECK(reopened->list().find(old_id)->standing == Standing::retired);
}

TEST_CASE("keys::Keyring::revoke: an envelope by the revoked key is attest.revoked_key") {
  const TempDir dir;
  auto ring = basic_ring(dir);
  const auto release = active_id(ring, Role::release);
  auto key = ring.signer(release);
  REQUIRE(key.has_value());
  const auto env = sign_with(*key, "signed before the compromise\n");
  REQUIRE(dsse::verify(env, ring.list().known(Role::release), 1, k_type).has_value());

  auto revoked = ring.revoke(release.substr(0, 12), "key leaked", ecluse::test::test_now());
  REQUIRE(revoked.has_value());
  CHECK(revoked->standing == Standing::revoked);
  CHECK(revoked->revoked_reason == "key leaked");
  const auto v = dsse::verify(env, ring.list().known(Role::release), 1, k_type);
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().reason == "attest.revoked_key");
  // Revoked on disk too, and no longer an active signer.
  auto reopened = Keyring::open(dir / "keys");
  REQUIRE(reopened.has_value());
  CHECK(reopened->list().find(release)->standing == Standing::revoked);
  CHECK(reason_of(reopened->active_signer(Role::release)) == "keys.no_key");
  CHECK(reason_of(ring.rotate(Role::release, "", ecluse::test::test_now())) == "keys.no_key");
  // A new release key may be generated once the old one is revoked.
  const auto fresh = generate(ring, {Role::release, KeyType::ecdsa_p256, "", ""});
  CHECK(fresh.keyid != release);
}

TEST_CASE("keys::Keyring::rotate root: the history chain still verifies from version 1") {
  const TempDir dir;
  auto ring = basic_ring(dir);
  const auto old_root = active_id(ring, Role::root);
  auto rotated = ring.rotate(Role::root, "", ecluse::test::test_now());
  REQUIRE(rotated.has_value());
  CHECK(rotated->keyid != old_root);
  CHECK(ring.list().find(old_root)->standing == Standing::retired);
  CHECK(active_id(ring, Role::root) == rotated->keyid);

  // Version 4 is signed by the old root (version 3's) and the new one (its own).
  const auto v4 = ecluse::test::read_file(history(dir, 4));
  auto env = dsse::parse(v4, "4.keylist.json");
  REQUIRE(env.has_value());
  CHECK(env->signatures.size() == 2);
  ecluse::keys::KeyList previous;
  for (int v = 1; v <= 4; ++v) {
    CAPTURE(v);
    auto list = ecluse::keys::verify_keylist(
        ecluse::test::read_file(history(dir, v)), v == 1 ? nullptr : &previous, "history");
    REQUIRE(list.has_value());
    CHECK(list->version == static_cast<std::uint64_t>(v));
    previous = std::move(*list);
  }
  // Version 5 is signed by the new root (and the new key itself), no longer by the old root.
  const auto carol = generate(ring, {Role::engineer, KeyType::ecdsa_p256, "carol", ""});
  auto v5 = dsse::parse(ecluse::test::read_file(history(dir, 5)), "5.keylist.json");
  REQUIRE(v5.has_value());
  std::vector<std::string> v5_signers;
  for (const auto& sig : v5->signatures) {
    v5_signers.push_back(sig.keyid);
  }
  std::sort(v5_signers.begin(), v5_signers.end());
  std::vector<std::string> expected{rotated->keyid, carol.keyid};
  std::sort(expected.begin(), expected.end());
  CHECK(v5_signers == expected);
  auto reopened = Keyring::open(dir / "keys");
  REQUIRE(reopened.has_value());
  CHECK(reopened->list().version == 5);
  CHECK(reopened->list().active(Role::engineer, "carol").size() == 1);
  // With the old root retired, a version signed by it alone does not follow.
  auto old_key = ring.signer(old_root);
  REQUIRE(old_key.has_value());
  ecluse::test::write_file(history(dir, 6), signed_list(ring.list(), 6, *old_key));
  CHECK(open_reason(dir) == "keys.bad_keylist");
}

TEST_CASE("keys::Keyring::open repairs a keylist.json left one version behind by a crash") {
  const TempDir dir;
  auto ring = basic_ring(dir);
  const auto current = dir / "keys" / "keylist.json";
  const auto v3 = ecluse::test::read_file(history(dir, 3));
  SUBCASE("keylist.json is the previous version") {
    ecluse::test::write_file(current, ecluse::test::read_file(history(dir, 2)));
  }
  SUBCASE("keylist.json is missing") {
    REQUIRE(std::filesystem::remove(current));
  }
  REQUIRE(ecluse::test::read_file(current) != v3);
  auto reopened = Keyring::open(dir / "keys");
  REQUIRE(reopened.has_value());
  CHECK(reopened->list().version == 3);
  CHECK(reopened->list().active(Role::journal).size() == 1);
  CHECK(ecluse::test::read_file(current) == v3);
  CHECK(reopened->envelope().value() == v3);
}
