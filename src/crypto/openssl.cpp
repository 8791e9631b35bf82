// Conversions shared by the OpenSSL adapters.
#include "openssl.hpp"

#include <ecluse/crypto/sha256.hpp>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <array>
#include <cctype>
#include <ctime>

namespace ecluse::crypto::ossl {

std::string drain_errors() {
  std::string detail;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    detail += detail.empty() ? "" : "; ";
    detail += buf.data();
  }
  return detail.empty() ? "unknown" : detail;
}

tl::unexpected<Error> failure(std::string_view what) {
  return fail(reason::k_internal_crypto, std::string(what) + ": " + drain_errors());
}

Bio mem_bio(std::string_view bytes) {
  return Bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::optional<TimePoint> to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return TimePoint(std::chrono::seconds(::timegm(&tm)));
}

std::string name_text(const X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr
      || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    ERR_clear_error();
    return "?";
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<std::size_t>(n)};
}

namespace {

std::string curve_name(const EVP_PKEY* key) {
  std::array<char, 80> group{};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(
          key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(), &len)
      != 1) {
    ERR_clear_error();
    return "unknown";
  }
  std::string g(group.data(), len);
  if (g == "prime256v1" || g == "P-256") {
    return "P-256";
  }
  if (g == "secp384r1" || g == "P-384") {
    return "P-384";
  }
  if (g == "secp521r1" || g == "P-521") {
    return "P-521";
  }
  return g;
}

}  // namespace

KeyInfo key_info(const EVP_PKEY* key) {
  KeyInfo k;
  if (key == nullptr) {
    k.type = "unknown";
    return k;
  }
  const char* type = EVP_PKEY_get0_type_name(key);
  k.type = type != nullptr ? type : "unknown";
  k.bits = EVP_PKEY_get_bits(key);
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    k.type = "EC";
    k.curve = curve_name(key);
  } else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
    k.type = "Ed25519";
  } else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    k.type = "RSA";
  } else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA_PSS) {
    k.type = "RSA-PSS";
  }
  return k;
}

namespace {

std::string serial_hex(const X509* x) {
  CHandle<BIGNUM, BN_free> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr));
  char* hex = bn ? BN_bn2hex(bn.get()) : nullptr;
  if (hex == nullptr) {
    ERR_clear_error();
    return "?";
  }
  std::string s(hex);
  OPENSSL_free(hex);
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

}  // namespace

CertInfo cert_info(const X509* x, std::string_view der) {
  CertInfo c;
  c.subject = name_text(X509_get_subject_name(x));
  c.issuer = name_text(X509_get_issuer_name(x));
  c.serial = serial_hex(x);
  auto d = sha256(der);
  c.sha256 = d ? d->hex() : "";
  c.not_before = to_time_point(X509_get0_notBefore(x)).value_or(TimePoint{});
  c.not_after = to_time_point(X509_get0_notAfter(x)).value_or(TimePoint{});
  c.key = key_info(X509_get0_pubkey(x));
  c.signature_algorithm = OBJ_nid2ln(X509_get_signature_nid(x));
  // X509_get_extension_flags caches extension parsing; it takes a non-const pointer.
  auto* mx = const_cast<X509*>(x);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  c.is_ca = (X509_get_extension_flags(mx) & EXFLAG_CA) != 0;
  c.self_signed = X509_self_signed(mx, 0) == 1;
  ERR_clear_error();
  return c;
}

Result<X509Ptr> to_x509(const Certificate& c) {
  auto x = decode_der<X509Ptr>(c.der(), d2i_X509);
  if (!x) {
    return failure("cannot decode a certificate parsed before");
  }
  return x;
}

Result<CrlPtr> to_crl(const Crl& c) {
  auto crl = decode_der<CrlPtr>(c.der(), d2i_X509_CRL);
  if (!crl) {
    return failure("cannot decode a CRL parsed before");
  }
  return crl;
}

bool looks_pem(std::string_view bytes) {
  return bytes.find("-----BEGIN ") != std::string_view::npos;
}

namespace {

bool only_space(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// One PEM block decoded by OpenSSL; the span must hold exactly one block.
Result<PemBlock> decode_block(std::string_view span,
                              const Reason& on_error,
                              const std::string& item) {
  auto bio = mem_bio(span);
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
    ERR_clear_error();
    return fail(on_error, item + ": not a valid PEM file", item);
  }
  PemBlock b{name, std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len))};
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  return b;
}

}  // namespace

Result<std::vector<PemBlock>> pem_blocks(std::string_view bytes,
                                         const Reason& on_error,
                                         const std::string& item) {
  constexpr std::string_view k_begin = "-----BEGIN ";
  constexpr std::string_view k_end = "-----END ";
  std::vector<PemBlock> blocks;
  std::size_t pos = 0;
  while (!only_space(bytes.substr(pos))) {
    const auto begin = bytes.find(k_begin, pos);
    const auto end = begin == std::string_view::npos ? begin : bytes.find(k_end, begin);
    const auto close =
        end == std::string_view::npos ? end : bytes.find("-----", end + k_end.size());
    if (begin == std::string_view::npos || !only_space(bytes.substr(pos, begin - pos))
        || close == std::string_view::npos) {
      return fail(on_error,
                  item + ": holds text outside PEM blocks, or a block without its END line",
                  item);
    }
    pos = close + 5;
    ECLUSE_TRY(block, decode_block(bytes.substr(begin, pos - begin), on_error, item));
    blocks.push_back(std::move(block));
  }
  if (blocks.empty()) {
    return fail(on_error, item + ": holds no PEM block", item);
  }
  return blocks;
}

std::string der_of(X509* x) {
  unsigned char* buf = nullptr;
  const int n = i2d_X509(x, &buf);
  if (n <= 0) {
    ERR_clear_error();
    return {};
  }
  std::string der(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
  OPENSSL_free(buf);
  return der;
}

std::string digest_name(int nid) {
  const char* sn = nid == NID_undef ? nullptr : OBJ_nid2sn(nid);
  if (sn == nullptr) {
    return "unknown";
  }
  std::string s(sn);
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (s == "sha-1") {
    return "sha1";
  }
  return s;
}

}  // namespace ecluse::crypto::ossl
