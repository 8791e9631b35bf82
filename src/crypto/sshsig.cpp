// OpenSSH PROTOCOL.sshsig signatures: armor, blob, signed data, and the per-key-type signature
// encodings. Invariant: a signature is accepted only when its armor, blob and every nested
// field parse exactly (bounds-checked, canonical, nothing left over), its algorithm is the one
// its key's type signs with (never SHA-1), and OpenSSL verifies it over the signed data built
// from the caller's namespace and message, never from the blob's word alone.
#include <ecluse/core/base64.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/crypto/sshsig.hpp>

#include <openssl/rsa.h>

#include <array>

#include "signing_impl.hpp"
#include "ssh_wire.hpp"

namespace ecluse::crypto::ssh {

namespace {

// PROTOCOL.sshsig §2 "Armored format" and §3 "Blob format".
constexpr std::string_view k_begin = "-----BEGIN SSH SIGNATURE-----\n";
constexpr std::string_view k_end = "-----END SSH SIGNATURE-----";
constexpr std::string_view k_magic = "SSHSIG";
constexpr std::uint32_t k_version = 1;
constexpr std::string_view k_sign_hash = "sha512";
constexpr std::size_t k_wrap = 70;      // what ssh-keygen writes
constexpr std::size_t k_max_line = 76;  // what §2 allows
constexpr std::size_t k_max_blob = std::size_t{64} * 1024;
constexpr std::size_t k_max_armored = k_max_blob / 3 * 4 + k_max_blob / 32 + 128;
constexpr std::size_t k_ed25519_sig = 64;

// The PublicKey ecluse builds from DER SPKI, for a key of one of the three types.
Result<PublicKey> public_of(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(pkey, &der);
  if (n <= 0) {
    return ossl::failure("cannot encode an SSH public key");
  }
  const std::string bytes(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  ECLUSE_TRY(key, parse_public_key(bytes, reason::k_internal_crypto, "ssh public key"));
  if (!key_type_of(key)) {
    return fail(reason::k_keys_unsupported_type,
                "ssh public key: a " + std::to_string(key.info().bits)
                    + "-bit RSA key: ecluse accepts RSA of 3072 bits or more",
                key.key_id());
  }
  return key;
}

// The signature algorithms accepted per key type (RFC 8709, RFC 5656, RFC 8332), the first of
// each type being the one ecluse signs with. ssh-rsa (SHA-1) is not among them.
struct Scheme {
  KeyType type;
  std::string_view alg;
  const EVP_MD* (*md)();  // nullptr: Ed25519 hashes itself
};

constexpr std::array k_schemes{Scheme{KeyType::ed25519, "ssh-ed25519", nullptr},
                               Scheme{KeyType::ecdsa_p256, "ecdsa-sha2-nistp256", EVP_sha256},
                               Scheme{KeyType::rsa_3072, "rsa-sha2-512", EVP_sha512},
                               Scheme{KeyType::rsa_3072, "rsa-sha2-256", EVP_sha256}};

// The scheme of alg for a key of type (any of the type's when alg is empty); nullptr if none.
const Scheme* ssh_scheme(KeyType type, std::string_view alg = {}) {
  for (const auto& s : k_schemes) {
    if (s.type == type && (alg.empty() || s.alg == alg)) {
      return &s;
    }
  }
  return nullptr;
}

// PROTOCOL.sshsig §3 "Signed Data": the magic, the namespace, an empty reserved field, the
// hash algorithm and the digest of the message.
Result<std::string> signed_data(std::string_view ns, std::string_view hash, std::string_view msg) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> h{};
  unsigned int len = 0;
  const EVP_MD* md = hash == "sha256" ? EVP_sha256() : EVP_sha512();
  if (EVP_Digest(msg.data(), msg.size(), h.data(), &len, md, nullptr) != 1) {
    return ossl::failure("cannot hash the signed message");
  }
  std::string out(k_magic);
  put_string(out, ns);
  put_string(out, "");
  put_string(out, hash);
  put_string(out, std::string_view(reinterpret_cast<const char*>(h.data()), len));
  return out;
}

// DigestSign/DigestVerify setup for the type: RSA with PKCS#1 v1.5 padding (RFC 8332), the
// others as OpenSSL defines them. Works for engine keys: no private material is read.
bool init(EVP_MD_CTX* ctx, EVP_PKEY* pkey, KeyType type, const EVP_MD* md, bool sign) {
  EVP_PKEY_CTX* pctx = nullptr;
  const int ok = sign ? EVP_DigestSignInit(ctx, &pctx, md, nullptr, pkey)
                      : EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, pkey);
  return ok == 1
         && (type != KeyType::rsa_3072
             || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1);
}

Result<std::string> raw_sign(EVP_PKEY* pkey, KeyType type, std::string_view data) {
  const auto* scheme = ssh_scheme(type);
  if (scheme == nullptr) {
    return fail(reason::k_keys_unsupported_type, "the key type has no SSH signature scheme");
  }
  const EVP_MD* md = scheme->md == nullptr ? nullptr : scheme->md();
  const ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || !init(ctx.get(), pkey, type, md, true)
      || EVP_DigestSign(ctx.get(), nullptr, &len, uchars(data), data.size()) != 1) {
    return ossl::failure("cannot set up an SSH signature");
  }
  std::string sig(len, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sig.data());
  if (EVP_DigestSign(ctx.get(), out, &len, uchars(data), data.size()) != 1) {
    return ossl::failure("cannot make an SSH signature");
  }
  sig.resize(len);
  return sig;
}

struct Signature {
  const EVP_MD* md = nullptr;
  std::string bytes;  // as OpenSSL verifies them
};

// The signature field: string algorithm, string bytes, for a key of that type.
Result<Signature> signature_of(KeyType type, std::string_view field) {
  WireReader r(field);
  const auto alg = r.string();
  const auto bytes = r.string();
  if (!r.finished()) {
    return malformed("the signature field is not an algorithm and a signature");
  }
  const auto* scheme = alg.empty() ? nullptr : ssh_scheme(type, alg);
  if (scheme == nullptr) {
    return malformed("signature algorithm \"" + printable(alg) + "\" for a "
                     + std::string(to_string(type)) + " key");
  }
  const EVP_MD* md = scheme->md == nullptr ? nullptr : scheme->md();
  if (type == KeyType::ecdsa_p256) {
    ECLUSE_TRY(der, ecdsa_to_der(bytes));
    return Signature{md, std::move(der)};
  }
  if (type == KeyType::ed25519 && bytes.size() != k_ed25519_sig) {
    return malformed("an Ed25519 signature is not 64 bytes");
  }
  return Signature{md, std::string(bytes)};
}

struct Fields {
  std::string_view key, ns, reserved, hash, signature;
};

// §3: MAGIC_PREAMBLE, uint32 version, then five strings and nothing else.
Result<Fields> parse_blob(std::string_view blob) {
  WireReader r(blob);
  const auto magic = r.bytes(k_magic.size());
  const auto version = r.u32();
  // Braced initialisers are evaluated in order: the fields are read front to back.
  const Fields f{r.string(), r.string(), r.string(), r.string(), r.string()};
  if (!r.finished() || magic != k_magic) {
    return malformed("not an SSHSIG blob (magic, field lengths or trailing bytes)");
  }
  if (version != k_version || !f.reserved.empty()) {
    return malformed("version " + std::to_string(version)
                     + " or a reserved field, not 1 and empty");
  }
  if (f.hash != "sha512" && f.hash != "sha256") {
    return malformed("hash algorithm \"" + printable(f.hash) + "\", not sha512 or sha256");
  }
  return f;
}

std::string armor(std::string_view blob) {
  const std::string b64 = base64_encode(blob);
  std::string out(k_begin);
  for (std::size_t i = 0; i < b64.size(); i += k_wrap) {
    out.append(b64, i, k_wrap).push_back('\n');
  }
  return out.append(k_end).append("\n");
}

bool is_base64_line(std::string_view line) {
  return !line.empty() && line.size() <= k_max_line
         && line.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
                == std::string_view::npos;
}

// §2: the begin line, base64 lines of at most 76 characters, the end line, at most a newline.
Result<std::string> dearmor(std::string_view text) {
  if (text.size() > k_max_armored || !text.starts_with(k_begin)) {
    return malformed("no \"-----BEGIN SSH SIGNATURE-----\" line, or over 64 KiB");
  }
  text.remove_prefix(k_begin.size());
  std::string b64;
  while (!text.empty()) {
    const auto eol = std::min(text.find('\n'), text.size());
    const auto line = text.substr(0, eol);
    text.remove_prefix(std::min(eol + 1, text.size()));
    if (line == k_end) {
      auto blob = text.empty() ? base64_decode(b64) : std::nullopt;
      if (!blob || blob->size() > k_max_blob) {
        return malformed("bad base64, text after the end line, or a blob over 64 KiB");
      }
      return std::move(*blob);
    }
    if (!is_base64_line(line)) {
      return malformed("a line that is not base64 of at most 76 characters");
    }
    b64.append(line);
  }
  return malformed("no \"-----END SSH SIGNATURE-----\" line");
}

}  // namespace

Result<std::string> public_key_blob(const PublicKey& key) {
  const auto type = key_type_of(key);
  if (!type) {
    return fail(reason::k_keys_unsupported_type,
                "key " + key.key_id().substr(0, 16) + " (" + key.info().type
                    + ") has no SSH form in ecluse",
                key.key_id());
  }
  auto pkey = ossl::decode_der<ossl::PkeyPtr>(key.der(), d2i_PUBKEY);
  if (!pkey) {
    return ossl::failure("cannot decode key " + key.key_id().substr(0, 16));
  }
  return key_blob(pkey.get(), *type);
}

Result<std::string> public_key_line(const PublicKey& key) {
  ECLUSE_TRY(blob, public_key_blob(key));
  WireReader r(blob);
  return std::string(r.string()) + " " + base64_encode(blob);
}

Result<PublicKey> parse_public_key_blob(std::string_view blob) {
  ECLUSE_TRY(pkey, pkey_from_blob(blob));
  return public_of(pkey.get());
}

Result<std::string> sign(const SigningKey& key, std::string_view message, std::string_view ns) {
  if (ns.size() > k_max_blob) {
    return malformed("a namespace over 64 KiB");
  }
  ECLUSE_TRY(key_field, public_key_blob(key.public_key()));
  ECLUSE_TRY(data, signed_data(ns, k_sign_hash, message));
  ECLUSE_TRY(raw, raw_sign(key.impl().pkey.get(), key.type(), data));
  std::string sig;
  put_string(sig, ssh_scheme(key.type())->alg);
  if (key.type() == KeyType::ecdsa_p256) {
    ECLUSE_TRY(rs, ecdsa_to_ssh(raw));
    put_string(sig, rs);
  } else {
    put_string(sig, raw);
  }
  std::string blob(k_magic);
  put_u32(blob, k_version);
  for (const std::string_view field : {std::string_view(key_field), ns, {}, k_sign_hash, {sig}}) {
    put_string(blob, field);
  }
  return armor(blob);
}

Result<PublicKey> verify(std::string_view armored, std::string_view message, std::string_view ns) {
  ECLUSE_TRY(blob, dearmor(armored));
  ECLUSE_TRY(f, parse_blob(blob));
  ECLUSE_TRY(pkey, pkey_from_blob(f.key));
  ECLUSE_TRY(key, public_of(pkey.get()));
  const KeyType type = *key_type_of(key);
  ECLUSE_TRY(sig, signature_of(type, f.signature));
  if (f.ns != ns) {
    return fail(reason::k_sshsig_invalid,
                "ssh signature: made for namespace \"" + printable(f.ns) + "\", not \""
                    + printable(ns) + "\"");
  }
  ECLUSE_TRY(data, signed_data(ns, f.hash, message));
  const ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || !init(ctx.get(), pkey.get(), type, sig.md, false)) {
    return ossl::failure("cannot set up SSH signature verification");
  }
  const int ok =
      EVP_DigestVerify(ctx.get(), uchars(sig.bytes), sig.bytes.size(), uchars(data), data.size());
  ERR_clear_error();
  if (ok != 1) {
    return fail(reason::k_sshsig_invalid,
                "ssh signature: does not verify with key " + key.key_id().substr(0, 16));
  }
  return key;
}

}  // namespace ecluse::crypto::ssh
