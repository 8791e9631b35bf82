// crypto signing keys held in files: the rejections of key files first (modes, symlinks,
// missing, malformed, passphrases, unsupported types), then round trips for every key type,
// tampered signatures, key ids, the type names, and a check by the openssl command line.
#include <ecluse/crypto/signing.hpp>

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <sys/wait.h>

#include <array>
#include <cstdlib>
#include <map>
#include <string>

#include "support/support.hpp"

namespace crypto = ecluse::crypto;
namespace stdfs = std::filesystem;
using crypto::KeyType;
using ecluse::test::TempDir;

namespace {

constexpr std::array k_types{KeyType::ed25519, KeyType::ecdsa_p256, KeyType::rsa_3072};
const std::string k_message = "ecluse release 1.2.3\n";

// One generated key per type and passphrase, since RSA-3072 generation is slow.
const crypto::GeneratedKey& generated(KeyType type, const std::string& passphrase = "") {
  static std::map<std::pair<KeyType, std::string>, crypto::GeneratedKey> k_keys;
  const auto slot = std::make_pair(type, passphrase);
  if (const auto it = k_keys.find(slot); it != k_keys.end()) {
    return it->second;
  }
  auto key = crypto::generate_key(type, passphrase);
  REQUIRE(key.has_value());
  return k_keys.emplace(slot, std::move(*key)).first->second;
}

// A second key of the type, for "signed by another key".
const crypto::PublicKey& other_key(KeyType type) {
  static std::map<KeyType, crypto::GeneratedKey> k_keys;
  if (const auto it = k_keys.find(type); it != k_keys.end()) {
    return it->second.public_key;
  }
  auto key = crypto::generate_key(type);
  REQUIRE(key.has_value());
  return k_keys.emplace(type, std::move(*key)).first->second.public_key;
}

stdfs::path write_key(const stdfs::path& file, std::string_view pem, unsigned mode = 0600) {
  ecluse::test::write_file(file, std::string(pem));
  stdfs::permissions(file, static_cast<stdfs::perms>(mode), stdfs::perm_options::replace);
  return file;
}

ecluse::Result<crypto::SigningKey> load(KeyType type,
                                        const TempDir& dir,
                                        const std::string& passphrase = "") {
  return crypto::load_pem_key(write_key(dir / "key.pem", generated(type).private_pem.view()),
                              passphrase);
}

std::string reason_of(const ecluse::Result<crypto::SigningKey>& r) {
  return r ? std::string("loaded") : r.error().reason;
}

// An RSA-2048 private key as PEM: a valid key of a type ecluse does not sign with.
std::string rsa_2048_pem() {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  REQUIRE(pkey != nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  return pem;
}

bool verifies(const crypto::PublicKey& key, const std::string& message, const std::string& sig) {
  auto ok = crypto::verify_signature(key, message, sig);
  REQUIRE(ok.has_value());
  return *ok;
}

// Runs a fixed test command; its exit status.
int run(const std::string& cmd) {
  const int raw = std::system((cmd + " >/dev/null 2>&1").c_str());  // NOLINT(cert-env33-c)
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

// The openssl command line verifying sig over msg with pub.pem under the type's scheme.
std::string openssl_verify(KeyType type, const TempDir& dir, const std::string& sig_file) {
  const std::string pub = (dir / "pub.pem").string();
  const std::string msg = (dir / "msg").string();
  switch (type) {
    case KeyType::ed25519:
      return "openssl pkeyutl -verify -pubin -inkey " + pub + " -rawin -in " + msg + " -sigfile "
             + sig_file;
    case KeyType::ecdsa_p256:
      return "openssl dgst -sha256 -verify " + pub + " -signature " + sig_file + " " + msg;
    case KeyType::rsa_3072:
      return "openssl pkeyutl -verify -pubin -inkey " + pub + " -rawin -digest sha256"
             + " -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32"
             + " -pkeyopt rsa_mgf1_md:sha256 -in " + msg + " -sigfile " + sig_file;
  }
  return "false";
}

}  // namespace

TEST_CASE("crypto::load_pem_key rejects key files open to others or behind a symlink") {
  const TempDir dir;
  const auto pem = generated(KeyType::ed25519).private_pem.view();
  SUBCASE("mode 0644") {
    auto r = crypto::load_pem_key(write_key(dir / "key.pem", pem, 0644), "");
    CHECK(reason_of(r) == "keys.loose_permissions");
    CHECK(r.error().message.find("0644") != std::string::npos);
  }
  SUBCASE("mode 0640") {
    auto r = crypto::load_pem_key(write_key(dir / "key.pem", pem, 0640), "");
    CHECK(reason_of(r) == "keys.loose_permissions");
    CHECK(r.error().message.find("0640") != std::string::npos);
  }
  SUBCASE("mode 0604") {
    auto r = crypto::load_pem_key(write_key(dir / "key.pem", pem, 0604), "");
    CHECK(reason_of(r) == "keys.loose_permissions");
  }
  SUBCASE("a symlink to a 0600 key") {
    const auto target = write_key(dir / "real.pem", pem);
    stdfs::create_symlink(target, dir / "link.pem");
    auto r = crypto::load_pem_key(dir / "link.pem", "");
    CHECK(reason_of(r) == "keys.loose_permissions");
    CHECK(r.error().message.find("symlink") != std::string::npos);
  }
  SUBCASE("a directory") {
    stdfs::create_directory(dir / "key.d");
    CHECK(reason_of(crypto::load_pem_key(dir / "key.d", "")) == "keys.loose_permissions");
  }
}

TEST_CASE("crypto::load_pem_key rejects missing, malformed and unsupported key files") {
  const TempDir dir;
  SUBCASE("a missing file") {
    CHECK(reason_of(crypto::load_pem_key(dir / "absent.pem", "")) == "keys.unreadable");
  }
  SUBCASE("garbage") {
    const auto file = write_key(dir / "key.pem", "-----BEGIN PRIVATE KEY-----\nnot base64\n");
    CHECK(reason_of(crypto::load_pem_key(file, "")) == "keys.bad_key_file");
  }
  SUBCASE("an empty file") {
    CHECK(reason_of(crypto::load_pem_key(write_key(dir / "key.pem", ""), ""))
          == "keys.bad_key_file");
  }
  SUBCASE("a public key") {
    const auto file = write_key(dir / "key.pem", generated(KeyType::ed25519).public_key.pem());
    CHECK(reason_of(crypto::load_pem_key(file, "")) == "keys.bad_key_file");
  }
  SUBCASE("an RSA-2048 key") {
    auto r = crypto::load_pem_key(write_key(dir / "key.pem", rsa_2048_pem()), "");
    CHECK(reason_of(r) == "keys.unsupported_type");
    CHECK(r.error().message.find("2048") != std::string::npos);
  }
}

TEST_CASE("crypto::load_pem_key needs the right passphrase for an encrypted key") {
  const TempDir dir;
  const auto& key = generated(KeyType::ecdsa_p256, "correct horse");
  CHECK(key.private_pem.view().find("ENCRYPTED PRIVATE KEY") != std::string_view::npos);
  const auto file = write_key(dir / "key.pem", key.private_pem.view());
  SUBCASE("no passphrase") {
    CHECK(reason_of(crypto::load_pem_key(file, "")) == "keys.passphrase_missing");
  }
  SUBCASE("a wrong passphrase") {
    CHECK(reason_of(crypto::load_pem_key(file, "wrong horse")) == "keys.bad_passphrase");
  }
  SUBCASE("the right passphrase") {
    auto loaded = crypto::load_pem_key(file, "correct horse");
    REQUIRE(loaded.has_value());
    CHECK(loaded->key_id() == key.public_key.key_id());
    auto sig = loaded->sign(k_message);
    REQUIRE(sig.has_value());
    CHECK(verifies(key.public_key, k_message, *sig));
  }
}

TEST_CASE("crypto::verify_signature rejects tampered signatures, messages and other keys") {
  const TempDir dir;
  for (const auto type : k_types) {
    INFO(crypto::to_string(type));
    auto key = load(type, dir);
    REQUIRE(key.has_value());
    auto sig = key->sign(k_message);
    REQUIRE(sig.has_value());
    std::string flipped_sig = *sig;
    flipped_sig[flipped_sig.size() / 2] =
        static_cast<char>(flipped_sig[flipped_sig.size() / 2] ^ 1);
    std::string flipped_msg = k_message;
    flipped_msg[0] = static_cast<char>(flipped_msg[0] ^ 1);
    CHECK_FALSE(verifies(key->public_key(), k_message, flipped_sig));
    CHECK_FALSE(verifies(key->public_key(), flipped_msg, *sig));
    CHECK_FALSE(verifies(key->public_key(), k_message, ""));
    CHECK_FALSE(verifies(other_key(type), k_message, *sig));
  }
}

TEST_CASE("crypto::SigningKey signs what verify_signature accepts, for every key type") {
  const TempDir dir;
  for (const auto type : k_types) {
    INFO(crypto::to_string(type));
    auto key = load(type, dir);
    REQUIRE(key.has_value());
    CHECK(key->type() == type);
    CHECK(key->backend() == "file");
    CHECK(key->public_key().der() == generated(type).public_key.der());
    CHECK(key->key_id() == ecluse::test::sha256_hex(key->public_key().der()));
    CHECK(key->public_key().key_id() == key->key_id());
    auto sig = key->sign(k_message);
    REQUIRE(sig.has_value());
    CHECK(verifies(key->public_key(), k_message, *sig));
    auto empty = key->sign("");
    REQUIRE(empty.has_value());
    CHECK(verifies(key->public_key(), "", *empty));
  }
}

TEST_CASE("crypto::load_pem_key accepts a 0400 key file") {
  const TempDir dir;
  const auto file =
      write_key(dir / "key.pem", generated(KeyType::ed25519).private_pem.view(), 0400);
  CHECK(reason_of(crypto::load_pem_key(file, "")) == "loaded");
}

TEST_CASE("crypto::Secret moves its bytes and leaves the source empty") {
  for (const std::string& bytes : {std::string("1234"), std::string(100, 'k')}) {
    crypto::Secret a(bytes);
    crypto::Secret b(std::move(a));
    CHECK(b.view() == bytes);
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
    crypto::Secret c("older secret");
    c = std::move(b);
    CHECK(c.view() == bytes);
    CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
  }
}

TEST_CASE("crypto key types: names, schemes and the type of a public key") {
  CHECK(crypto::scheme_of(KeyType::ed25519) == "ed25519");
  CHECK(crypto::scheme_of(KeyType::ecdsa_p256) == "ecdsa-sha2-nistp256");
  CHECK(crypto::scheme_of(KeyType::rsa_3072) == "rsassa-pss-sha256");
  for (const auto type : k_types) {
    INFO(crypto::to_string(type));
    CHECK(crypto::parse_key_type(crypto::to_string(type)) == type);
    CHECK(crypto::key_type_of(generated(type).public_key) == type);
  }
  CHECK(crypto::to_string(KeyType::ecdsa_p256) == "ecdsa-p256");
  CHECK_FALSE(crypto::parse_key_type("rsa-2048").has_value());
  CHECK_FALSE(crypto::parse_key_type("ED25519").has_value());
  CHECK_FALSE(crypto::parse_key_type("").has_value());
}

TEST_CASE("crypto::SigningKey signatures verify with the openssl command line") {
  const TempDir dir;
  ecluse::test::write_file(dir / "msg", k_message);
  for (const auto type : k_types) {
    INFO(crypto::to_string(type));
    auto key = load(type, dir);
    REQUIRE(key.has_value());
    auto sig = key->sign(k_message);
    REQUIRE(sig.has_value());
    ecluse::test::write_file(dir / "pub.pem", key->public_key().pem());
    ecluse::test::write_file(dir / "sig", *sig);
    std::string bad = *sig;
    bad[bad.size() - 1] = static_cast<char>(bad[bad.size() - 1] ^ 1);
    ecluse::test::write_file(dir / "bad", bad);
    CHECK(run(openssl_verify(type, dir, (dir / "sig").string())) == 0);
    CHECK(run(openssl_verify(type, dir, (dir / "bad").string())) != 0);
  }
}
