// crypto::load_pkcs11_key against SoftHSM2 tokens made at run time: rejections first (absent
// tokens and objects, wrong PIN, modules that do not load, a second module), then ECDSA P-256
// and RSA-3072 keys that sign what verify_signature accepts, and Ed25519, which libp11 0.4.12
// cannot load. Skipped (with a message) only where softhsm2-util is not installed.
#include <ecluse/crypto/signing.hpp>

#include <doctest/doctest.h>

#include <sys/wait.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include <cstdlib>
#include <memory>
#include <string>

#include "support/support.hpp"

namespace crypto = ecluse::crypto;
using crypto::KeyType;
using crypto::Pkcs11Ref;
using ecluse::test::TempDir;

namespace {

const std::string k_module = "/usr/lib/softhsm/libsofthsm2.so";
const std::string k_pin = "1234";
const std::string k_message = "ecluse release 1.2.3\n";

// Runs a fixed test command quietly; its exit status.
int run(const std::string& cmd) {
  const int raw =
      std::system(("{ " + cmd + "; } >/dev/null 2>&1").c_str());  // NOLINT(cert-env33-c)
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

bool init_token(const std::string& label, const std::string& pin) {
  return run("softhsm2-util --init-token --free --label " + label + " --pin " + pin
             + " --so-pin 5678")
         == 0;
}

bool keypair(const std::string& token, const std::string& pin, const std::string& spec) {
  return run("pkcs11-tool --module " + k_module + " --token-label " + token + " --login --pin "
             + pin + " --keypairgen " + spec)
         == 0;
}

// One SoftHSM2 token store per process (SoftHSM2 reads SOFTHSM2_CONF once, when the engine
// first loads it): "ecluse-test" holds the keys that load, "ecluse-pin" is never logged into
// (a login lasts as long as the process), "ecluse-ed" holds an Ed25519 key apart, since a token
// holding one lists no private key at all to libp11 0.4.12.
struct Tokens {
  TempDir dir;

  Tokens() {
    const auto tokens = dir / "tokens";
    std::filesystem::create_directories(tokens);
    ecluse::test::write_file(dir / "softhsm2.conf",
                             "directories.tokendir = " + tokens.string()
                                 + "\nobjectstore.backend = file\nlog.level = ERROR\n");
    REQUIRE(::setenv("SOFTHSM2_CONF", (dir / "softhsm2.conf").c_str(), 1) == 0);
    REQUIRE(init_token("ecluse-test", k_pin));
    REQUIRE(keypair("ecluse-test", k_pin, "--key-type EC:prime256v1 --label release --id 01"));
    REQUIRE(keypair("ecluse-test", k_pin, "--key-type RSA:3072 --label rsa --id 02"));
    REQUIRE(run("pkcs11-tool --module " + k_module + " --token-label ecluse-test --read-object"
                + " --type pubkey --label release -o " + (dir / "release.der").string())
            == 0);
    REQUIRE(init_token("ecluse-pin", "2468"));
    REQUIRE(keypair("ecluse-pin", "2468", "--key-type EC:prime256v1 --label release --id 01"));
    REQUIRE(init_token("ecluse-ed", k_pin));
    REQUIRE(keypair("ecluse-ed", k_pin, "--key-type EC:edwards25519 --label ed --id 03"));
  }
};

// The tokens, or nullptr (with a message) where SoftHSM2 is not installed.
const Tokens* tokens() {
#if defined(__SANITIZE_ADDRESS__)
  // libp11 0.4.12 allocates process-lifetime state, and again in OPENSSL_cleanup at exit, after
  // a failed key load. ctest runs each case in its own process: nothing after this point is
  // a leak of ours (load_pkcs11_key's own scope covers the ecluse binary).
  __lsan_disable();
#endif
  static const bool k_installed = run("command -v softhsm2-util && command -v pkcs11-tool") == 0;
  if (!k_installed) {
    MESSAGE("softhsm2-util or pkcs11-tool not installed: PKCS#11 test skipped");
    return nullptr;
  }
  static const auto k_tokens = std::make_unique<Tokens>();
  return k_tokens.get();
}

std::string reason_of(const ecluse::Result<crypto::SigningKey>& r) {
  return r ? std::string("loaded") : r.error().reason;
}

bool verifies(const crypto::PublicKey& key, const std::string& message, const std::string& sig) {
  auto ok = crypto::verify_signature(key, message, sig);
  REQUIRE(ok.has_value());
  return *ok;
}

}  // namespace

TEST_CASE("crypto::load_pkcs11_key rejects absent tokens and objects") {
  if (tokens() == nullptr) {
    return;
  }
  SUBCASE("no token of that label") {
    auto r =
        crypto::load_pkcs11_key({"pkcs11:token=no-such-token;object=release", k_module, k_pin});
    CHECK(reason_of(r) == "keys.token_absent");
    CHECK(r.error().message.find("pkcs11:token=no-such-token;object=release") != std::string::npos);
  }
  SUBCASE("no object of that label") {
    auto r =
        crypto::load_pkcs11_key({"pkcs11:token=ecluse-test;object=no-such-key", k_module, k_pin});
    CHECK(reason_of(r) == "keys.token_absent");
  }
  SUBCASE("a public key only") {
    auto r = crypto::load_pkcs11_key(
        {"pkcs11:token=ecluse-test;object=release;type=public", k_module, k_pin});
    CHECK(reason_of(r) == "keys.token_absent");
  }
  SUBCASE("not a PKCS#11 URI") {
    CHECK(reason_of(crypto::load_pkcs11_key({"release", k_module, k_pin})) == "keys.token_absent");
  }
  SUBCASE("a PIN inside the URI stays out of the message") {
    auto r = crypto::load_pkcs11_key(
        {"pkcs11:token=no-such-token;object=release?pin-value=s3cr3t-pin", k_module, ""});
    CHECK(reason_of(r) == "keys.token_absent");
    CHECK(r.error().message.find("s3cr3t-pin") == std::string::npos);
    CHECK(r.error().item.find("s3cr3t-pin") == std::string::npos);
  }
}

TEST_CASE("crypto::load_pkcs11_key rejects a wrong or missing PIN") {
  if (tokens() == nullptr) {
    return;
  }
  SUBCASE("a wrong PIN") {
    auto r = crypto::load_pkcs11_key({"pkcs11:token=ecluse-pin;object=release", k_module, "97531"});
    CHECK(reason_of(r) == "keys.token_absent");
    CHECK(r.error().message.find("97531") == std::string::npos);
  }
  SUBCASE("no PIN") {
    auto r = crypto::load_pkcs11_key({"pkcs11:token=ecluse-pin;object=release", k_module, ""});
    CHECK(reason_of(r) == "keys.token_absent");
  }
}

TEST_CASE("crypto::load_pkcs11_key rejects modules that do not load") {
  if (tokens() == nullptr) {
    return;
  }
  const std::string uri = "pkcs11:token=ecluse-test;object=release";
  SUBCASE("a module path that does not exist") {
    auto r = crypto::load_pkcs11_key({uri, "/nonexistent/libnothing-pkcs11.so", k_pin});
    CHECK(reason_of(r) == "keys.pkcs11_unavailable");
    CHECK(r.error().message.find("/nonexistent/libnothing-pkcs11.so") != std::string::npos);
  }
  SUBCASE("a file that is no shared library") {
    const TempDir dir;
    ecluse::test::write_file(dir / "module.so", "not an ELF file\n");
    auto r = crypto::load_pkcs11_key({uri, (dir / "module.so").string(), k_pin});
    CHECK(reason_of(r) == "keys.pkcs11_unavailable");
  }
  SUBCASE("a second module in the same process") {
    REQUIRE(reason_of(crypto::load_pkcs11_key({uri, k_module, k_pin})) == "loaded");
    auto r = crypto::load_pkcs11_key({uri, "", k_pin});
    CHECK(reason_of(r) == "keys.pkcs11_unavailable");
    CHECK(r.error().message.find(k_module) != std::string::npos);
  }
}

TEST_CASE("crypto::load_pkcs11_key loads ECDSA P-256 and RSA-3072 keys that sign") {
  const auto* t = tokens();
  if (t == nullptr) {
    return;
  }
  for (const auto& [object, type] :
       {std::pair{"release", KeyType::ecdsa_p256}, std::pair{"rsa", KeyType::rsa_3072}}) {
    INFO(object);
    const std::string uri = std::string("pkcs11:token=ecluse-test;object=") + object;
    auto key = crypto::load_pkcs11_key({uri, k_module, k_pin});
    REQUIRE_MESSAGE(key.has_value(), (key ? "" : key.error().to_string()));
    CHECK(key->type() == type);
    CHECK(key->backend() == "pkcs11");
    CHECK(key->key_id() == ecluse::test::sha256_hex(key->public_key().der()));
    auto sig = key->sign(k_message);
    REQUIRE(sig.has_value());
    CHECK(verifies(key->public_key(), k_message, *sig));
    std::string flipped = *sig;
    flipped[flipped.size() - 1] = static_cast<char>(flipped[flipped.size() - 1] ^ 1);
    CHECK_FALSE(verifies(key->public_key(), k_message, flipped));
    CHECK_FALSE(verifies(key->public_key(), k_message + "x", *sig));
    // The same object again (here with its type given): the same key.
    auto again = crypto::load_pkcs11_key({uri + ";type=private", k_module, k_pin});
    REQUIRE(again.has_value());
    CHECK(again->key_id() == key->key_id());
  }
  // The token's own export of the EC public key names the same key.
  const auto exported = ecluse::test::read_file(t->dir / "release.der");
  auto key = crypto::load_pkcs11_key({"pkcs11:token=ecluse-test;id=%01", k_module, k_pin});
  REQUIRE(key.has_value());
  CHECK(key->key_id() == ecluse::test::sha256_hex(exported));
}

TEST_CASE("crypto::load_pkcs11_key keeps the engine for each key it loaded") {
  if (tokens() == nullptr) {
    return;
  }
  auto rsa = crypto::load_pkcs11_key({"pkcs11:token=ecluse-test;object=rsa", k_module, k_pin});
  REQUIRE(rsa.has_value());
  {
    auto ec = crypto::load_pkcs11_key({"pkcs11:token=ecluse-test;object=release", k_module, k_pin});
    REQUIRE(ec.has_value());
    REQUIRE(ec->sign(k_message).has_value());
  }
  // The EC key and its hold on the engine are gone; the RSA key still signs.
  auto sig = rsa->sign(k_message);
  REQUIRE(sig.has_value());
  CHECK(verifies(rsa->public_key(), k_message, *sig));
}

TEST_CASE("crypto::load_pkcs11_key and Ed25519 keys, which libp11 0.4.12 does not load") {
  if (tokens() == nullptr) {
    return;
  }
  auto key = crypto::load_pkcs11_key({"pkcs11:token=ecluse-ed;object=ed", k_module, k_pin});
  if (!key) {
    MESSAGE("Ed25519 on the token: " << key.error().to_string());
    CHECK(key.error().reason == "keys.token_absent");
    return;
  }
  // A newer libp11 loads them: then they must sign like the others.
  CHECK(key->type() == KeyType::ed25519);
  auto sig = key->sign(k_message);
  REQUIRE(sig.has_value());
  CHECK(verifies(key->public_key(), k_message, *sig));
}
