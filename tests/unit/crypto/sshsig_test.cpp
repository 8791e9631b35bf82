// crypto::ssh (OpenSSH PROTOCOL.sshsig): the rejections first (armor, base64, magic, version,
// truncation at every length, trailing bytes, hashes, keys, signature algorithms, namespaces,
// tampering, swapped keys), then round trips for every key type and cross-checks by the real
// tools: ssh-keygen -Y verify / -Y sign / -y, and git verify-commit / verify-tag.
#include <ecluse/core/base64.hpp>
#include <ecluse/crypto/sshsig.hpp>

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/ssh_wire.hpp"
#include "support/support.hpp"

namespace crypto = ecluse::crypto;
namespace ssh = ecluse::crypto::ssh;
namespace stdfs = std::filesystem;
using crypto::KeyType;
using ecluse::test::TempDir;

namespace {

constexpr std::array k_types{KeyType::ed25519, KeyType::ecdsa_p256, KeyType::rsa_3072};
const std::string k_message = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\necluse release\n";
const std::string k_principal = "someone@example";
// Per key type: the SSH key type name and the signature algorithm ssh::sign uses.
const std::map<KeyType, std::pair<std::string, std::string>> k_ssh_names{
    {KeyType::ed25519, {"ssh-ed25519", "ssh-ed25519"}},
    {KeyType::ecdsa_p256, {"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"}},
    {KeyType::rsa_3072, {"ssh-rsa", "rsa-sha2-512"}}};

// A file written for a test; secret ones (private keys) get mode 0600, as load_pem_key and
// ssh-keygen demand.
stdfs::path write(const stdfs::path& file, const std::string& bytes, bool secret = false) {
  ecluse::test::write_file(file, bytes);
  if (secret) {
    stdfs::permissions(
        file, stdfs::perms::owner_read | stdfs::perms::owner_write, stdfs::perm_options::replace);
  }
  return file;
}

// A shell word (paths convert to it): single-quoted, so nothing in it is interpreted.
std::string q(const std::string& word) {
  std::string out = "'";
  for (const char c : word) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

struct Ran {
  int status = -1;
  std::string out;  // stdout and stderr
};

// Runs a test command line (every argument quoted by the caller) with git's and ssh's user and
// system configuration out of the way.
Ran run(const std::string& cmd) {
  const std::string line =
      "env GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0 " + cmd
      + " 2>&1";
  FILE* p = ::popen(line.c_str(), "r");  // NOLINT(cert-env33-c)
  REQUIRE(p != nullptr);
  Ran r;
  std::array<char, 4096> buf{};
  for (std::size_t n = 0; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;) {
    r.out.append(buf.data(), n);
  }
  const int raw = ::pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

// Keys generated once per (type, index), loaded from a 0600 PEM file that stays for
// ssh-keygen (RSA-3072 generation is slow).
struct TestKey {
  stdfs::path pem;
  crypto::SigningKey key;
};

const TestKey& test_key(KeyType type, int index = 0) {
  static const TempDir k_dir;  // made before the keys, so removed after them
  static std::map<std::pair<KeyType, int>, TestKey> k_keys;
  const auto slot = std::make_pair(type, index);
  if (const auto it = k_keys.find(slot); it != k_keys.end()) {
    return it->second;
  }
  auto gen = crypto::generate_key(type);
  REQUIRE(gen.has_value());
  const std::string name = std::string(crypto::to_string(type)) + "-" + std::to_string(index);
  const auto pem = write(k_dir / (name + ".pem"), std::string(gen->private_pem.view()), true);
  auto loaded = crypto::load_pem_key(pem, "");
  REQUIRE(loaded.has_value());
  return k_keys.emplace(slot, TestKey{pem, std::move(*loaded)}).first->second;
}

std::string signed_by(KeyType type,
                      const std::string& message = k_message,
                      const std::string& ns = "git",
                      int index = 0) {
  auto sig = ssh::sign(test_key(type, index).key, message, ns);
  REQUIRE(sig.has_value());
  return *sig;
}

std::string reason_of(const ecluse::Result<crypto::PublicKey>& r) {
  return r ? std::string("verified") : r.error().reason;
}

std::string check(const std::string& armored, const std::string& message = k_message) {
  return reason_of(ssh::verify(armored, message, "git"));
}

// The blob inside an armored signature, and back (wrapped at 70 as ssh-keygen does).
std::string blob_of(const std::string& armored) {
  const auto begin = armored.find('\n') + 1;
  const auto end = armored.find("-----END");
  auto blob = ecluse::base64_decode(armored.substr(begin, end - begin));
  REQUIRE(blob.has_value());
  return *blob;
}

std::string armored(std::string_view blob) {
  const auto b64 = ecluse::base64_encode(blob);
  std::string out = "-----BEGIN SSH SIGNATURE-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 70) {
    out += b64.substr(i, 70) + "\n";
  }
  return out + "-----END SSH SIGNATURE-----\n";
}

std::string str(std::string_view field) {
  std::string out;
  ssh::put_string(out, field);
  return out;
}

// An SSHSIG blob taken apart, to be put together again with one field changed.
struct Blob {
  std::string magic, key, ns, reserved, hash, alg, sig;
  std::uint32_t version = 0;

  explicit Blob(const std::string& armor) {
    const auto bytes = blob_of(armor);
    ssh::WireReader r(bytes);
    magic = r.bytes(6);
    version = r.u32();
    key = r.string();
    ns = r.string();
    reserved = r.string();
    hash = r.string();
    ssh::WireReader s(r.string());
    alg = s.string();
    sig = s.string();
    REQUIRE((r.finished() && s.finished()));
  }

  [[nodiscard]] std::string signature_field() const { return str(alg) + str(sig); }

  [[nodiscard]] std::string bytes() const {
    std::string out = magic;
    ssh::put_u32(out, version);
    return out + str(key) + str(ns) + str(reserved) + str(hash) + str(signature_field());
  }

  [[nodiscard]] std::string armor() const { return armored(bytes()); }
};

// PROTOCOL.sshsig signed data, and a signature over it made by OpenSSL from the PEM key with
// any digest: for signatures ssh::sign never makes (sha256 hash, rsa-sha2-256, SHA-1).
std::string signed_data(const std::string& hash, const std::string& message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> h{};
  unsigned int len = 0;
  const EVP_MD* md = hash == "sha256" ? EVP_sha256() : EVP_sha512();
  REQUIRE(EVP_Digest(message.data(), message.size(), h.data(), &len, md, nullptr) == 1);
  return "SSHSIG" + str("git") + str("") + str(hash)
         + str(std::string_view(reinterpret_cast<const char*>(h.data()), len));
}

std::string openssl_sign(KeyType type, const EVP_MD* md, const std::string& data) {
  namespace ossl = crypto::ossl;
  const auto pem = ecluse::test::read_file(test_key(type).pem);
  const auto bio = ossl::mem_bio(pem);
  const ossl::PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  const ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  std::size_t len = 0;
  const bool ready =
      pkey && ctx && EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey.get()) == 1
      && (EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA
          || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1)
      && EVP_DigestSign(ctx.get(), nullptr, &len, ssh::uchars(data), data.size()) == 1;
  REQUIRE(ready);
  std::string sig(len, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sig.data());
  REQUIRE(EVP_DigestSign(ctx.get(), out, &len, ssh::uchars(data), data.size()) == 1);
  sig.resize(len);
  return sig;
}

// An ECDSA signature field with r replaced by raw mpint bytes (length prefix included).
std::string with_r(const Blob& b, const std::string& r_mpint) {
  ssh::WireReader rs(b.sig);
  (void)rs.string();
  const auto s = rs.string();
  return r_mpint + str(s);
}

std::string first_two_fields(const std::string& line) {
  const auto first = line.find(' ');
  const auto second = line.find_first_of(" \n", first + 1);
  return line.substr(0, second);
}

// An allowed-signers file (ssh-keygen(1) ALLOWED SIGNERS) giving k_principal the keys for git.
std::string allowed_signers(const TempDir& dir, const std::vector<KeyType>& types) {
  std::string text;
  for (const auto type : types) {
    const auto line = ssh::public_key_line(test_key(type).key.public_key());
    REQUIRE(line.has_value());
    text += k_principal + " namespaces=\"git\" " + *line + "\n";
  }
  return write(dir / "allowed", text).string();
}

}  // namespace

TEST_CASE("ssh::verify rejects armor that is not PROTOCOL.sshsig's, or not base64") {
  const auto good = signed_by(KeyType::ed25519);
  REQUIRE(check(good) == "verified");
  const auto body = good.substr(good.find('\n') + 1);
  const auto line1 = body.substr(0, body.find('\n'));
  const auto replace = [&](const std::string& from, const std::string& to) {
    auto s = good;
    return s.replace(s.find(from), from.size(), to);
  };
  std::string bad;  // empty unless a SUBCASE says otherwise
  SUBCASE("empty") {
    bad.clear();
  }
  SUBCASE("no begin line") {
    bad = body;
  }
  SUBCASE("a PGP begin line") {
    bad = replace("BEGIN SSH SIGNATURE", "BEGIN PGP SIGNATURE");
  }
  SUBCASE("text before the begin line") {
    bad = "x\n" + good;
  }
  SUBCASE("CRLF line ends") {
    bad = replace("SIGNATURE-----\n", "SIGNATURE-----\r\n");
  }
  SUBCASE("no end line") {
    bad = good.substr(0, good.find("-----END"));
  }
  SUBCASE("a truncated end line") {
    bad = replace("-----END SSH SIGNATURE-----", "-----END SSH SIGNATURE----");
  }
  SUBCASE("text after the end line") {
    bad = good + "x";
  }
  SUBCASE("a second signature after the first") {
    bad = good + good;
  }
  SUBCASE("a blank line inside") {
    bad = replace(line1 + "\n", line1 + "\n\n");
  }
  SUBCASE("a line indented by a space") {
    bad = replace(line1, " " + line1);
  }
  SUBCASE("a line over 76 characters") {
    const auto b64 = ecluse::base64_encode(blob_of(good));
    bad = "-----BEGIN SSH SIGNATURE-----\n" + b64 + "\n-----END SSH SIGNATURE-----\n";
  }
  SUBCASE("over the size limit") {
    bad = good.substr(0, 31) + std::string(std::size_t{100} * 1024, 'A') + good.substr(31);
  }
  // The first base64 line with n characters at 4 replaced by text.
  const auto line1_with = [&](std::size_t n, const std::string& text) {
    return replace(line1, std::string(line1).replace(4, n, text));
  };
  SUBCASE("a character outside the base64 alphabet") {
    bad = line1_with(1, "*");
  }
  SUBCASE("the URL-safe alphabet") {
    bad = line1_with(1, "-");
  }
  SUBCASE("padding in the middle") {
    bad = line1_with(1, "=");
  }
  SUBCASE("a base64 character missing") {
    bad = line1_with(1, "");
  }
  SUBCASE("a tab inside a line") {
    bad = line1_with(0, "\t");
  }
  CHECK(check(bad) == "sshsig.malformed");
}

TEST_CASE("ssh::verify rejects blobs that are not SSHSIG version 1 with sha512 or sha256") {
  Blob b(signed_by(KeyType::ecdsa_p256));
  std::string bytes;  // when set, the blob instead of b
  SUBCASE("wrong magic") {
    b.magic = "SSHSIH";
  }
  SUBCASE("version 0") {
    b.version = 0;
  }
  SUBCASE("version 2") {
    b.version = 2;
  }
  SUBCASE("a non-empty reserved field") {
    b.reserved = "x";
  }
  SUBCASE("hash md5") {
    b.hash = "md5";
  }
  SUBCASE("hash sha1") {
    b.hash = "sha1";
  }
  SUBCASE("hash SHA512 in capitals") {
    b.hash = "SHA512";
  }
  SUBCASE("no hash") {
    b.hash.clear();
  }
  SUBCASE("a blob over 64 KiB") {
    b.ns = std::string(std::size_t{64} * 1024, 'n');
  }
  SUBCASE("a length field of 0xffffffff") {
    bytes = b.bytes().replace(10, 4, std::string(4, '\xff'));
  }
  SUBCASE("only the magic") {
    bytes = "SSHSIG";
  }
  CHECK(check(armored(bytes.empty() ? b.bytes() : bytes)) == "sshsig.malformed");
}

TEST_CASE("ssh::verify rejects a blob truncated at any length") {
  for (const auto type : k_types) {
    CAPTURE(crypto::to_string(type));
    const auto blob = blob_of(signed_by(type));
    for (std::size_t len = 0; len < blob.size(); ++len) {
      CAPTURE(len);
      CHECK(check(armored(blob.substr(0, len))) == "sshsig.malformed");
    }
  }
}

TEST_CASE("ssh::verify rejects trailing bytes at every level") {
  Blob b(signed_by(KeyType::ecdsa_p256));
  std::string bytes;
  SUBCASE("after the blob") {
    bytes = b.bytes() + '\0';
  }
  SUBCASE("after the key in the public key field") {
    b.key += '\0';
  }
  SUBCASE("after the signature in the signature field") {
    const auto field = b.signature_field();
    bytes = b.bytes();
    bytes.replace(bytes.size() - field.size() - 4, field.size() + 4, str(field + '\0'));
  }
  SUBCASE("after s in the ECDSA signature") {
    b.sig += '\0';
  }
  CHECK(check(armored(bytes.empty() ? b.bytes() : bytes)) == "sshsig.malformed");
}

TEST_CASE("ssh::verify rejects public keys that are not one of the three types") {
  Blob b(signed_by(KeyType::ecdsa_p256));
  const auto rsa_n = std::string(1, '\x00') + std::string(384, '\xc1');
  std::string expected = "sshsig.malformed";
  SUBCASE("type ssh-dss") {
    b.key = str("ssh-dss") + b.key.substr(23);
  }
  SUBCASE("type ecdsa-sha2-nistp384") {
    b.key = str("ecdsa-sha2-nistp384") + str("nistp384") + b.key.substr(35);
  }
  SUBCASE("curve nistp384 in a nistp256 key") {
    b.key = str("ecdsa-sha2-nistp256") + str("nistp384") + b.key.substr(35);
  }
  SUBCASE("a compressed point") {
    b.key = b.key.substr(0, 35) + str(std::string(1, '\x02') + b.key.substr(40, 32));
  }
  SUBCASE("a point off the curve") {
    b.key.back() = static_cast<char>(b.key.back() ^ 1);
  }
  SUBCASE("an Ed25519 key of 31 bytes") {
    b.key = str("ssh-ed25519") + str(std::string(31, 'k'));
  }
  SUBCASE("an Ed25519 key with trailing bytes") {
    b.key = Blob(signed_by(KeyType::ed25519)).key + "x";
  }
  SUBCASE("an RSA key with an even exponent") {
    b.key = str("ssh-rsa") + str(std::string("\x01\x00", 2)) + str(rsa_n);
  }
  SUBCASE("an RSA key with exponent 1") {
    b.key = str("ssh-rsa") + str("\x01") + str(rsa_n);
  }
  SUBCASE("an RSA key with a negative modulus") {
    b.key = str("ssh-rsa") + str("\x03") + str(std::string(384, '\xc1'));
  }
  SUBCASE("an empty key") {
    b.key.clear();
  }
  SUBCASE("an RSA key of 2048 bits") {
    const TempDir dir;
    REQUIRE(run("ssh-keygen -q -t rsa -b 2048 -N '' -f " + q(dir / "k")).status == 0);
    const auto line = ecluse::test::read_file(dir / "k.pub");
    auto blob = ecluse::base64_decode(line.substr(8, line.find(' ', 8) - 8));
    REQUIRE(blob.has_value());
    b.key = *blob;
    expected = "keys.unsupported_type";
  }
  CHECK(reason_of(ssh::parse_public_key_blob(b.key)) == expected);
  CHECK(check(b.armor()) == expected);
}

TEST_CASE("ssh::verify rejects signature algorithms and encodings that do not fit the key") {
  const auto edited = [](KeyType type, const auto& edit) {
    Blob b(signed_by(type));
    edit(b);
    return b.armor();
  };
  std::string bad;
  SUBCASE("an ecdsa-sha2-nistp256 signature from an Ed25519 key") {
    bad = edited(KeyType::ed25519, [](Blob& b) { b.alg = "ecdsa-sha2-nistp256"; });
  }
  SUBCASE("an ssh-ed25519 signature from an ECDSA key") {
    bad = edited(KeyType::ecdsa_p256, [](Blob& b) { b.alg = "ssh-ed25519"; });
  }
  SUBCASE("an ssh-ed25519 signature from an RSA key") {
    bad = edited(KeyType::rsa_3072, [](Blob& b) { b.alg = "ssh-ed25519"; });
  }
  SUBCASE("ssh-rsa: a genuine PKCS#1 v1.5 SHA-1 signature") {
    bad = edited(KeyType::rsa_3072, [](Blob& b) {
      b.alg = "ssh-rsa";
      b.sig = openssl_sign(KeyType::rsa_3072, EVP_sha1(), signed_data("sha512", k_message));
    });
  }
  SUBCASE("rsa-sha2-384, not an SSH algorithm") {
    bad = edited(KeyType::rsa_3072, [](Blob& b) { b.alg = "rsa-sha2-384"; });
  }
  SUBCASE("no algorithm") {
    bad = edited(KeyType::ed25519, [](Blob& b) { b.alg.clear(); });
  }
  SUBCASE("an Ed25519 signature of 63 bytes") {
    bad = edited(KeyType::ed25519, [](Blob& b) { b.sig.pop_back(); });
  }
  SUBCASE("an ECDSA r that is negative") {
    bad = edited(KeyType::ecdsa_p256,
                 [](Blob& b) { b.sig = with_r(b, str("\x80" + std::string(31, '\x01'))); });
  }
  SUBCASE("an ECDSA r with a needless leading zero") {
    bad = edited(KeyType::ecdsa_p256, [](Blob& b) {
      b.sig = with_r(b, str(std::string(1, '\0') + std::string(32, '\x01')));
    });
  }
  SUBCASE("an ECDSA r of 33 bytes") {
    bad = edited(KeyType::ecdsa_p256,
                 [](Blob& b) { b.sig = with_r(b, str(std::string(33, '\x01'))); });
  }
  SUBCASE("an ECDSA r of zero") {
    bad = edited(KeyType::ecdsa_p256, [](Blob& b) { b.sig = with_r(b, str("")); });
  }
  SUBCASE("an ECDSA signature in DER instead of two mpints") {
    bad = edited(KeyType::ecdsa_p256, [](Blob& b) {
      b.sig = openssl_sign(KeyType::ecdsa_p256, EVP_sha256(), signed_data("sha512", k_message));
    });
  }
  CHECK(check(bad) == "sshsig.malformed");
}

TEST_CASE("ssh::verify rejects signatures that do not verify") {
  // Each variant for every key type: a loop inside the SUBCASE, since doctest enters one
  // SUBCASE per run of the test case.
  const auto for_each_type = [](const auto& variant) {
    for (const auto type : k_types) {
      CAPTURE(crypto::to_string(type));
      const auto good = signed_by(type);
      REQUIRE(check(good) == "verified");
      variant(type, good);
    }
  };
  SUBCASE("another namespace") {
    for_each_type([](KeyType type, const std::string& good) {
      CHECK(reason_of(ssh::verify(good, k_message, "file")) == "sshsig.invalid");
      CHECK(check(signed_by(type, k_message, "gitx")) == "sshsig.invalid");
    });
  }
  SUBCASE("a modified message") {
    for_each_type([](KeyType, const std::string& good) {
      CHECK(check(good, k_message + " ") == "sshsig.invalid");
      CHECK(check(good, "") == "sshsig.invalid");
    });
  }
  SUBCASE("a flipped signature byte") {
    for_each_type([](KeyType, const std::string& good) {
      auto blob = blob_of(good);
      blob.back() = static_cast<char>(blob.back() ^ 0x01);
      CHECK(check(armored(blob)) == "sshsig.invalid");
    });
  }
  SUBCASE("a signature by another key, this key's blob swapped in") {
    for_each_type([](KeyType type, const std::string& good) {
      Blob other(signed_by(type, k_message, "git", 1));
      other.key = Blob(good).key;
      CHECK(check(other.armor()) == "sshsig.invalid");
    });
  }
  SUBCASE("hash sha256 claimed for a signature over the sha512 digest") {
    for_each_type([](KeyType, const std::string& good) {
      Blob b(good);
      b.hash = "sha256";
      CHECK(check(b.armor()) == "sshsig.invalid");
    });
  }
}

TEST_CASE("ssh::sign and ssh::verify round trip for every key type") {
  for (const auto type : k_types) {
    CAPTURE(crypto::to_string(type));
    const auto& k = test_key(type).key;
    for (const std::string& message : {k_message, std::string(), std::string("\0\xff\n", 3)}) {
      const auto sig = signed_by(type, message);
      auto got = ssh::verify(sig, message, "git");
      REQUIRE(got.has_value());
      CHECK(got->key_id() == k.key_id());
      CHECK(got->der() == k.public_key().der());
    }
    const auto sig = signed_by(type);
    CHECK(sig.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
    CHECK(sig.ends_with("\n-----END SSH SIGNATURE-----\n"));
    std::istringstream lines(sig);
    for (std::string line; std::getline(lines, line);) {
      CHECK(line.size() <= 70);
    }
    const Blob b(sig);
    CHECK(b.hash == "sha512");
    CHECK(b.ns == "git");
    CHECK(b.alg == k_ssh_names.at(type).second);
  }
}

TEST_CASE("ssh::verify accepts a sha256 message hash and rsa-sha2-256") {
  SUBCASE("Ed25519 over a sha256 digest") {
    Blob b(signed_by(KeyType::ed25519));
    b.hash = "sha256";
    b.sig = openssl_sign(KeyType::ed25519, nullptr, signed_data("sha256", k_message));
    CHECK(check(b.armor()) == "verified");
  }
  SUBCASE("rsa-sha2-256") {
    Blob b(signed_by(KeyType::rsa_3072));
    b.alg = "rsa-sha2-256";
    b.sig = openssl_sign(KeyType::rsa_3072, EVP_sha256(), signed_data("sha512", k_message));
    CHECK(check(b.armor()) == "verified");
  }
}

TEST_CASE("ssh::public_key_blob and parse_public_key_blob round trip for every key type") {
  for (const auto type : k_types) {
    CAPTURE(crypto::to_string(type));
    const auto& pub = test_key(type).key.public_key();
    auto blob = ssh::public_key_blob(pub);
    REQUIRE(blob.has_value());
    auto back = ssh::parse_public_key_blob(*blob);
    REQUIRE(back.has_value());
    CHECK(back->key_id() == pub.key_id());
    auto line = ssh::public_key_line(pub);
    REQUIRE(line.has_value());
    CHECK(*line == k_ssh_names.at(type).first + " " + ecluse::base64_encode(*blob));
  }
}

TEST_CASE("ssh::public_key_line matches ssh-keygen -y for PEM keys") {
  for (const auto type : {KeyType::ecdsa_p256, KeyType::rsa_3072}) {
    CAPTURE(crypto::to_string(type));
    const auto ran = run("ssh-keygen -y -f " + q(test_key(type).pem));
    REQUIRE_MESSAGE(ran.status == 0, ran.out);
    auto line = ssh::public_key_line(test_key(type).key.public_key());
    REQUIRE(line.has_value());
    CHECK(*line == first_two_fields(ran.out));
  }
}

TEST_CASE("ssh-keygen -Y verify accepts signatures made by ssh::sign") {
  for (const auto type : k_types) {
    CAPTURE(crypto::to_string(type));
    const TempDir dir;
    const auto allowed = allowed_signers(dir, {type});
    write(dir / "msg", k_message);
    write(dir / "sig", signed_by(type));
    const auto verify = [&](const std::string& ns) {
      return run("ssh-keygen -Y verify -f " + q(allowed) + " -I " + q(k_principal) + " -n " + q(ns)
                 + " -s " + q(dir / "sig") + " < " + q(dir / "msg"));
    };
    const auto ok = verify("git");
    CHECK_MESSAGE(ok.status == 0, ok.out);
    CHECK(verify("file").status != 0);
  }
}

TEST_CASE("ssh::verify accepts signatures made by ssh-keygen -Y sign") {
  const TempDir dir;
  write(dir / "msg", k_message);
  const auto sign_with = [&](const stdfs::path& key_file) {
    std::error_code ec;
    stdfs::remove(dir / "msg.sig", ec);
    const auto ran = run("ssh-keygen -Y sign -f " + q(key_file) + " -n git " + q(dir / "msg"));
    REQUIRE_MESSAGE(ran.status == 0, ran.out);
    return ecluse::test::read_file(dir / "msg.sig");
  };
  SUBCASE("ECDSA P-256 and RSA-3072 keys from PEM files ecluse generated") {
    for (const auto type : {KeyType::ecdsa_p256, KeyType::rsa_3072}) {
      CAPTURE(crypto::to_string(type));
      const auto& k = test_key(type);
      const auto pub = run("ssh-keygen -y -f " + q(k.pem));
      REQUIRE(pub.status == 0);
      write(k.pem.string() + ".pub", pub.out);  // ssh-keygen -Y sign reads it beside the key
      auto got = ssh::verify(sign_with(k.pem), k_message, "git");
      REQUIRE_MESSAGE(got.has_value(), got.error().to_string());
      CHECK(got->key_id() == k.key.key_id());
    }
  }
  SUBCASE("an Ed25519 key ssh-keygen generated") {
    REQUIRE(run("ssh-keygen -q -t ed25519 -N '' -f " + q(dir / "ed")).status == 0);
    auto got = ssh::verify(sign_with(dir / "ed"), k_message, "git");
    REQUIRE_MESSAGE(got.has_value(), got.error().to_string());
    auto line = ssh::public_key_line(*got);
    REQUIRE(line.has_value());
    CHECK(*line == first_two_fields(ecluse::test::read_file(dir / "ed.pub")));
    CHECK(reason_of(ssh::verify(sign_with(dir / "ed"), k_message, "file")) == "sshsig.invalid");
  }
}

TEST_CASE("git verify-commit and verify-tag accept objects signed with ssh::sign") {
  const TempDir dir;
  const auto repo = dir / "repo";
  const std::string git = "git -C " + q(repo) + " ";
  const std::string ident =
      "-c user.name=Someone -c user.email=" + q(k_principal) + " -c commit.gpgsign=false ";
  REQUIRE(run("git init -q " + q(repo)).status == 0);
  REQUIRE(run(git + ident + "commit -q --allow-empty -m 'ecluse release 1.2.3'").status == 0);
  const auto allowed = allowed_signers(dir, {k_types.begin(), k_types.end()});
  const std::string verify = git + "-c gpg.ssh.allowedSignersFile=" + q(allowed) + " ";
  const auto store = [&](const std::string& type, const std::string& object) {
    write(dir / "object", object);
    const auto ran = run(git + "hash-object -t " + type + " -w --stdin < " + q(dir / "object"));
    REQUIRE_MESSAGE(ran.status == 0, ran.out);
    return ran.out.substr(0, ran.out.find('\n'));
  };
  const auto head = run(git + "rev-parse HEAD");
  REQUIRE(head.status == 0);

  SUBCASE("a commit with a gpgsig header, for every key type") {
    const auto commit = run(git + "cat-file commit HEAD").out;
    for (const auto type : k_types) {
      CAPTURE(crypto::to_string(type));
      auto sig = signed_by(type, commit);
      sig.pop_back();
      std::string header = "gpgsig ";  // continuation lines start with a space
      for (const char c : sig) {
        header += c == '\n' ? std::string("\n ") : std::string(1, c);
      }
      auto signed_commit = commit;
      signed_commit.insert(signed_commit.find("\n\n") + 1, header + "\n");
      const auto ok = run(verify + "verify-commit " + q(store("commit", signed_commit)));
      CHECK_MESSAGE(ok.status == 0, ok.out);
      auto tampered = signed_commit;
      tampered.replace(tampered.find("1.2.3"), 5, "1.2.4");
      CHECK(run(verify + "verify-commit " + q(store("commit", tampered))).status != 0);
    }
  }
  SUBCASE("a tag with the signature after its message") {
    const std::string tag = "object " + head.out.substr(0, head.out.find('\n'))
                            + "\ntype commit\ntag v1.2.3\ntagger Someone <" + k_principal
                            + "> 1764000000 +0000\n\necluse release 1.2.3\n";
    const auto oid = store("tag", tag + signed_by(KeyType::ecdsa_p256, tag));
    const auto ok = run(verify + "verify-tag " + q(oid));
    CHECK_MESSAGE(ok.status == 0, ok.out);
    CHECK(run(verify + "verify-tag "
              + q(store("tag", tag + signed_by(KeyType::ecdsa_p256, tag, "file"))))
              .status
          != 0);
  }
}
