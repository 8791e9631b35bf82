// X.509 parsing: certificates, CRLs and public keys from PEM or DER, strictly (one known
// PEM block type, no trailing bytes), described as plain values.
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/crypto/x509.hpp>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "openssl.hpp"

namespace ecluse::crypto {

struct X509Factory {
  static Certificate cert(std::string der, CertInfo info) {
    return {std::move(der), std::move(info)};
  }

  static Crl crl(std::string der, CrlInfo info) { return {std::move(der), std::move(info)}; }

  static PublicKey key(std::string der, KeyInfo info, std::string id) {
    return {std::move(der), std::move(info), std::move(id)};
  }
};

namespace {

Result<Certificate> certificate_of(std::string der,
                                   const Reason& on_error,
                                   const std::string& item) {
  auto x = ossl::decode_der<ossl::X509Ptr>(der, d2i_X509);
  if (!x) {
    return fail(on_error, item + ": not a valid X.509 certificate", item);
  }
  auto info = ossl::cert_info(x.get(), der);
  return X509Factory::cert(std::move(der), std::move(info));
}

// The DER objects of bytes: each block with `label` when PEM, else bytes themselves.
Result<std::vector<std::string>> der_objects(std::string_view bytes,
                                             std::string_view label,
                                             const Reason& on_error,
                                             const std::string& item) {
  if (!ossl::looks_pem(bytes)) {
    return std::vector<std::string>{std::string(bytes)};
  }
  ECLUSE_TRY(blocks, ossl::pem_blocks(bytes, on_error, item));
  std::vector<std::string> out;
  for (auto& b : blocks) {
    if (b.label != label) {
      return fail(
          on_error,
          item + ": holds a PEM '" + b.label + "' block, expected '" + std::string(label) + "'",
          item);
    }
    out.push_back(std::move(b.der));
  }
  return out;
}

// Only complete CRLs are pinned: a delta CRL or one limited by an issuingDistributionPoint
// would, as the newest CRL of its issuer, hide revocations the full CRL lists; an unknown
// critical extension must not be ignored.
std::optional<std::string> crl_scope_refusal(X509_CRL* crl) {
  for (int i = 0; i < X509_CRL_get_ext_count(crl); ++i) {
    X509_EXTENSION* ext = X509_CRL_get_ext(crl, i);
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (nid == NID_delta_crl) {
      return "is a delta CRL: pin the issuer's complete CRL";
    }
    if (nid == NID_issuing_distribution_point) {
      return "is a partitioned CRL (issuingDistributionPoint): pin the issuer's complete CRL";
    }
    if (X509_EXTENSION_get_critical(ext) == 1 && nid != NID_crl_number
        && nid != NID_authority_key_identifier) {
      return "carries an unknown critical extension";
    }
  }
  return std::nullopt;
}

std::string to_pem(std::string_view der, const char* label) {
  auto bio = ossl::Bio(BIO_new(BIO_s_mem()));
  if (!bio
      || PEM_write_bio(bio.get(),
                       label,
                       "",
                       reinterpret_cast<const unsigned char*>(der.data()),
                       static_cast<long>(der.size()))
             <= 0) {
    ERR_clear_error();
    return {};
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<std::size_t>(n)};
}

}  // namespace

json::Json to_json(const KeyInfo& k) {
  json::Json j{{"type", k.type}, {"bits", k.bits}};
  if (!k.curve.empty()) {
    j["curve"] = k.curve;
  }
  return j;
}

json::Json to_json(const CertInfo& c) {
  return {{"subject", c.subject},
          {"issuer", c.issuer},
          {"serial", c.serial},
          {"sha256", c.sha256},
          {"not_before", format_utc(c.not_before)},
          {"not_after", format_utc(c.not_after)},
          {"key", to_json(c.key)},
          {"signature_algorithm", c.signature_algorithm},
          {"ca", c.is_ca},
          {"self_signed", c.self_signed}};
}

json::Json to_json(const CrlInfo& c) {
  return {
      {"issuer", c.issuer},
      {"sha256", c.sha256},
      {"this_update", format_utc(c.this_update)},
      {"next_update", c.next_update ? json::Json(format_utc(*c.next_update)) : json::Json(nullptr)},
      {"revoked_entries", c.revoked}};
}

std::string Certificate::pem() const {
  return to_pem(m_der, "CERTIFICATE");
}

std::string Crl::pem() const {
  return to_pem(m_der, "X509 CRL");
}

std::string PublicKey::pem() const {
  return to_pem(m_der, "PUBLIC KEY");
}

Result<std::vector<Certificate>> parse_certificates(std::string_view bytes,
                                                    const Reason& on_error,
                                                    const std::string& item) {
  ECLUSE_TRY(ders, der_objects(bytes, "CERTIFICATE", on_error, item));
  std::vector<Certificate> out;
  for (auto& der : ders) {
    ECLUSE_TRY(c, certificate_of(std::move(der), on_error, item));
    out.push_back(std::move(c));
  }
  return out;
}

Result<Crl> parse_crl(std::string_view bytes, const Reason& on_error, const std::string& item) {
  ECLUSE_TRY(ders, der_objects(bytes, "X509 CRL", on_error, item));
  if (ders.size() != 1) {
    return fail(
        on_error, item + ": holds " + std::to_string(ders.size()) + " CRLs, expected 1", item);
  }
  auto crl = ossl::decode_der<ossl::CrlPtr>(ders[0], d2i_X509_CRL);
  if (!crl) {
    return fail(on_error, item + ": not a valid X.509 CRL", item);
  }
  if (auto why = crl_scope_refusal(crl.get())) {
    return fail(on_error, item + ": " + *why, item);
  }
  const auto this_update = ossl::to_time_point(X509_CRL_get0_lastUpdate(crl.get()));
  const auto* next = X509_CRL_get0_nextUpdate(crl.get());
  const auto next_update = next != nullptr ? ossl::to_time_point(next) : std::nullopt;
  if (!this_update || (next != nullptr && !next_update)) {
    return fail(on_error, item + ": CRL has unreadable update times", item);
  }
  ECLUSE_TRY(digest, sha256(ders[0]));
  const auto* revoked = X509_CRL_get_REVOKED(crl.get());
  int md_nid = NID_undef;
  int pk_nid = NID_undef;
  (void)OBJ_find_sigid_algs(X509_CRL_get_signature_nid(crl.get()), &md_nid, &pk_nid);
  ERR_clear_error();
  CrlInfo info{ossl::name_text(X509_CRL_get_issuer(crl.get())),
               digest.hex(),
               *this_update,
               next_update,
               revoked == nullptr ? 0U : static_cast<std::size_t>(sk_X509_REVOKED_num(revoked)),
               md_nid == NID_undef ? std::string() : ossl::digest_name(md_nid)};
  return X509Factory::crl(std::move(ders[0]), std::move(info));
}

Result<PublicKey> parse_public_key(std::string_view bytes,
                                   const Reason& on_error,
                                   const std::string& item) {
  ECLUSE_TRY(ders, der_objects(bytes, "PUBLIC KEY", on_error, item));
  if (ders.size() != 1) {
    return fail(
        on_error, item + ": holds " + std::to_string(ders.size()) + " keys, expected 1", item);
  }
  auto key = ossl::decode_der<ossl::PkeyPtr>(ders[0], d2i_PUBKEY);
  if (!key) {
    return fail(on_error, item + ": not a valid public key (SubjectPublicKeyInfo)", item);
  }
  ECLUSE_TRY(digest, sha256(ders[0]));
  return X509Factory::key(std::move(ders[0]), ossl::key_info(key.get()), digest.hex());
}

bool crl_issued_by(const Crl& crl, const Certificate& issuer) {
  auto c = ossl::to_crl(crl);
  auto x = ossl::to_x509(issuer);
  if (!c || !x) {
    return false;
  }
  auto* key = X509_get0_pubkey(x->get());
  const bool ok =
      key != nullptr
      && X509_NAME_cmp(X509_CRL_get_issuer(c->get()), X509_get_subject_name(x->get())) == 0
      && X509_CRL_verify(c->get(), key) == 1;
  ERR_clear_error();
  return ok;
}

Result<PublicKey> public_key_of(const Certificate& cert) {
  ECLUSE_TRY(x, ossl::to_x509(cert));
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(X509_get0_pubkey(x.get()), &der);
  if (n <= 0) {
    return ossl::failure("cannot encode the key of certificate " + cert.info().subject);
  }
  std::string bytes(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  auto key = ossl::decode_der<ossl::PkeyPtr>(bytes, d2i_PUBKEY);
  if (!key) {
    return ossl::failure("cannot decode the key of certificate " + cert.info().subject);
  }
  ECLUSE_TRY(digest, sha256(bytes));
  return X509Factory::key(std::move(bytes), ossl::key_info(key.get()), digest.hex());
}

bool certificate_issued_by(const Certificate& cert, const Certificate& issuer) {
  auto c = ossl::to_x509(cert);
  auto i = ossl::to_x509(issuer);
  if (!c || !i) {
    return false;
  }
  auto* key = X509_get0_pubkey(i->get());
  const bool ok = key != nullptr && X509_check_issued(i->get(), c->get()) == X509_V_OK
                  && X509_verify(c->get(), key) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace ecluse::crypto
