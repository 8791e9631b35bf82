// RFC 4251 §5 uint32, string and mpint, and the SSH public key blobs. Invariant: a read never
// goes past the bytes it was given, a length is checked against what remains before it is used,
// an mpint is accepted only in its one canonical form (non-negative, no needless leading zero
// byte), and a key blob is accepted only when it holds exactly one well-formed key of the three
// types (a P-256 point on the curve, RSA sizes capped) and nothing after it.
#include "ssh_wire.hpp"

#include <ecluse/core/printable.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

#include <array>

namespace ecluse::crypto::ssh {

namespace {

constexpr std::uint8_t k_high_bit = 0x80;
constexpr unsigned k_byte_bits = 8;
constexpr std::uint32_t k_byte_mask = 0xFF;
constexpr std::string_view k_ed25519 = "ssh-ed25519";
constexpr std::string_view k_ecdsa = "ecdsa-sha2-nistp256";
constexpr std::string_view k_curve = "nistp256";
constexpr std::string_view k_rsa = "ssh-rsa";
constexpr std::size_t k_ed25519_key = 32;
constexpr std::size_t k_p256_point = 65;  // 0x04 || X || Y
constexpr std::size_t k_p256_scalar = 32;
constexpr std::size_t k_max_rsa_n = 16384 / 8;
constexpr std::size_t k_max_rsa_e = 8;
constexpr std::size_t k_max_blob = std::size_t{64} * 1024;

using BnPtr = CHandle<BIGNUM, BN_free>;
using EcdsaSigPtr = CHandle<ECDSA_SIG, ECDSA_SIG_free>;
using ParamBldPtr = CHandle<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamsPtr = CHandle<OSSL_PARAM, OSSL_PARAM_free>;
using PkeyCtxPtr = CHandle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;

std::uint8_t byte_at(std::string_view s, std::size_t i) {
  return static_cast<std::uint8_t>(s[i]);
}

Result<std::string> rsa_blob(const EVP_PKEY* pkey) {
  BIGNUM* e = nullptr;
  BIGNUM* n = nullptr;
  const bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1
                  && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1;
  const BnPtr e_owner(e);
  const BnPtr n_owner(n);
  if (!ok) {
    return ossl::failure("cannot read an RSA public key");
  }
  std::string out;
  put_string(out, k_rsa);
  put_mpint(out, bn_bytes(e));
  put_mpint(out, bn_bytes(n));
  return out;
}

// Ed25519: the 32 raw bytes; P-256: the uncompressed point, whatever form the SPKI used.
Result<std::string> point_blob(EVP_PKEY* pkey, KeyType type) {
  std::array<unsigned char, k_p256_point> q{};
  std::size_t len = q.size();
  const bool ok =
      type == KeyType::ed25519
          ? EVP_PKEY_get_raw_public_key(pkey, q.data(), &len) == 1 && len == k_ed25519_key
          : EVP_PKEY_set_utf8_string_param(
                pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed")
                    == 1
                && EVP_PKEY_get_octet_string_param(
                       pkey, OSSL_PKEY_PARAM_PUB_KEY, q.data(), q.size(), &len)
                       == 1
                && len == k_p256_point;
  if (!ok) {
    return ossl::failure("cannot read a public key point");
  }
  const std::string_view point(reinterpret_cast<const char*>(q.data()), len);
  std::string out;
  put_string(out, type == KeyType::ed25519 ? k_ed25519 : k_ecdsa);
  if (type == KeyType::ecdsa_p256) {
    put_string(out, k_curve);
  }
  put_string(out, point);
  return out;
}

// EVP_PKEY_fromdata for a public key. A refusal is sshsig.malformed when refusal_malformed (a
// point off the curve is the signer's fault), internal.crypto otherwise (an RSA key OpenSSL
// cannot build from two checked integers is OpenSSL's).
Result<ossl::PkeyPtr> from_params(const char* type, OSSL_PARAM_BLD* bld, bool refusal_malformed) {
  const ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  const PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return ossl::failure(std::string("cannot set up a ") + type + " key");
  }
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    if (refusal_malformed) {
      return malformed(std::string("not a valid ") + type + " public key: " + ossl::drain_errors());
    }
    return ossl::failure(std::string("cannot build a ") + type + " key");
  }
  return ossl::PkeyPtr(pkey);
}

Result<ossl::PkeyPtr> ecdsa_from(WireReader& r) {
  const auto curve = r.string();
  const auto q = r.string();
  if (!r.finished() || curve != k_curve || q.size() != k_p256_point || q[0] != '\x04') {
    return malformed("an ecdsa-sha2-nistp256 key is not \"nistp256\" and an uncompressed point");
  }
  const ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld
      || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1
      || OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, q.data(), q.size())
             != 1) {
    return ossl::failure("cannot set up a P-256 key");
  }
  return from_params("EC", bld.get(), true);
}

Result<ossl::PkeyPtr> rsa_from(WireReader& r) {
  const auto e = r.mpint();
  const auto n = r.mpint();
  // Both odd (RSA moduli and public exponents are), 3 ≤ e < 2^64 (OpenSSL's limit), n ≤ 16384
  // bits (OpenSSH's); the 3072-bit minimum is ecluse's policy, checked by the caller.
  if (!r.finished() || e.empty() || n.empty() || e.size() > k_max_rsa_e || n.size() > k_max_rsa_n
      || (e.back() & 1) == 0 || (n.back() & 1) == 0 || e == "\x01") {
    return malformed("an ssh-rsa key is not two odd mpints within size limits (e > 1)");
  }
  const BnPtr eb(BN_bin2bn(uchars(e), static_cast<int>(e.size()), nullptr));
  const BnPtr nb(BN_bin2bn(uchars(n), static_cast<int>(n.size()), nullptr));
  const ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!eb || !nb || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, eb.get()) != 1
      || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, nb.get()) != 1) {
    return ossl::failure("cannot set up an RSA key");
  }
  return from_params("RSA", bld.get(), false);
}

}  // namespace

std::string_view WireReader::bytes(std::size_t n) {
  if (m_failed || n > m_rest.size()) {
    m_failed = true;
    return {};
  }
  const auto out = m_rest.substr(0, n);
  m_rest.remove_prefix(n);
  return out;
}

std::uint32_t WireReader::u32() {
  const auto b = bytes(4);
  if (m_failed) {
    return 0;
  }
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    v = (v << k_byte_bits) | byte_at(b, i);
  }
  return v;
}

std::string_view WireReader::string() {
  const std::uint32_t len = u32();
  return bytes(len);
}

std::string_view WireReader::mpint() {
  auto v = string();
  if (v.empty()) {
    return v;
  }
  const bool negative = (byte_at(v, 0) & k_high_bit) != 0;
  // A leading zero is needed only to keep a set high bit of the next byte from reading as a sign.
  const bool needless_zero =
      byte_at(v, 0) == 0 && (v.size() == 1 || (byte_at(v, 1) & k_high_bit) == 0);
  if (negative || needless_zero) {
    m_failed = true;
    return {};
  }
  if (byte_at(v, 0) == 0) {
    v.remove_prefix(1);
  }
  return v;
}

void put_u32(std::string& out, std::uint32_t value) {
  for (const unsigned shift : {24U, 16U, 8U, 0U}) {
    out.push_back(static_cast<char>((value >> shift) & k_byte_mask));
  }
}

void put_string(std::string& out, std::string_view bytes) {
  // Every caller's bytes are bounded far below 4 GiB (keys, digests, signatures, blobs).
  put_u32(out, static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
}

void put_mpint(std::string& out, std::string_view magnitude) {
  while (!magnitude.empty() && magnitude.front() == '\0') {
    magnitude.remove_prefix(1);
  }
  const bool pad = !magnitude.empty() && (byte_at(magnitude, 0) & k_high_bit) != 0;
  put_u32(out, static_cast<std::uint32_t>(magnitude.size() + (pad ? 1U : 0U)));
  if (pad) {
    out.push_back('\0');
  }
  out.append(magnitude);
}

const unsigned char* uchars(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string bn_bytes(const BIGNUM* bn) {
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

tl::unexpected<Error> malformed(const std::string& what) {
  return fail(reason::k_sshsig_malformed, "ssh signature: " + what);
}

Result<std::string> key_blob(EVP_PKEY* pkey, KeyType type) {
  return type == KeyType::rsa_3072 ? rsa_blob(pkey) : point_blob(pkey, type);
}

Result<ossl::PkeyPtr> pkey_from_blob(std::string_view blob) {
  if (blob.size() > k_max_blob) {
    return malformed("a public key blob over 64 KiB");
  }
  WireReader r(blob);
  const auto type = r.string();
  if (type == k_ed25519) {
    const auto k = r.string();
    if (!r.finished() || k.size() != k_ed25519_key) {
      return malformed("an ssh-ed25519 key is not 32 bytes");
    }
    ossl::PkeyPtr p(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, uchars(k), k.size()));
    return p ? Result<ossl::PkeyPtr>(std::move(p)) : ossl::failure("cannot build an Ed25519 key");
  }
  if (type == k_ecdsa) {
    return ecdsa_from(r);
  }
  if (type == k_rsa) {
    return rsa_from(r);
  }
  return malformed("a public key of type \"" + printable(type) + "\"");
}

Result<std::string> ecdsa_to_ssh(std::string_view der) {
  const auto sig = ossl::decode_der<EcdsaSigPtr>(der, d2i_ECDSA_SIG);
  if (!sig) {
    return ossl::failure("cannot decode an ECDSA signature OpenSSL made");
  }
  std::string out;
  put_mpint(out, bn_bytes(ECDSA_SIG_get0_r(sig.get())));
  put_mpint(out, bn_bytes(ECDSA_SIG_get0_s(sig.get())));
  return out;
}

Result<std::string> ecdsa_to_der(std::string_view ssh) {
  WireReader r(ssh);
  const auto rb = r.mpint();
  const auto sb = r.mpint();
  if (!r.finished() || rb.empty() || sb.empty() || rb.size() > k_p256_scalar
      || sb.size() > k_p256_scalar) {
    return malformed("the ECDSA signature is not two canonical mpints r and s");
  }
  BnPtr rn(BN_bin2bn(uchars(rb), static_cast<int>(rb.size()), nullptr));
  BnPtr sn(BN_bin2bn(uchars(sb), static_cast<int>(sb.size()), nullptr));
  const EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!rn || !sn || !sig || ECDSA_SIG_set0(sig.get(), rn.get(), sn.get()) != 1) {
    return ossl::failure("cannot build an ECDSA signature");
  }
  (void)rn.release();  // now owned by sig
  (void)sn.release();
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(sig.get(), &der);
  if (n <= 0) {
    return ossl::failure("cannot encode an ECDSA signature");
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

}  // namespace ecluse::crypto::ssh
