// X.509 material as plain values: certificates, CRLs and public keys are parsed once by
// OpenSSL inside src/crypto/ and carried as their DER bytes plus what ecluse needs to show.
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse::crypto {

// A public key as the algorithm policy sees it.
struct KeyInfo {
  std::string type;   // "RSA", "RSA-PSS", "EC", "Ed25519", "Ed448", "DSA", … (OpenSSL's name)
  int bits = 0;       // modulus or curve size
  std::string curve;  // "P-256", "P-384", other curve names; empty for non-EC keys
};

json::Json to_json(const KeyInfo& k);

struct CertInfo {
  std::string subject;  // RFC 2253, UTF-8
  std::string issuer;
  std::string serial;  // lowercase hex
  std::string sha256;  // fingerprint of the DER encoding, lowercase hex
  TimePoint not_before{};
  TimePoint not_after{};
  KeyInfo key;
  std::string signature_algorithm;  // as the issuer signed it, e.g. "ecdsa-with-SHA256"
  bool is_ca = false;
  bool self_signed = false;
};

json::Json to_json(const CertInfo& c);

class Certificate {
 public:
  [[nodiscard]] const std::string& der() const { return m_der; }

  [[nodiscard]] const CertInfo& info() const { return m_info; }

  [[nodiscard]] std::string pem() const;

 private:
  friend struct X509Factory;

  Certificate(std::string der, CertInfo info) : m_der(std::move(der)), m_info(std::move(info)) {}

  std::string m_der;
  CertInfo m_info;
};

struct CrlInfo {
  std::string issuer;
  std::string sha256;  // of the DER encoding
  TimePoint this_update{};
  std::optional<TimePoint> next_update;
  std::size_t revoked = 0;       // entries
  std::string signature_digest;  // "sha256", …; empty for Ed25519
};

json::Json to_json(const CrlInfo& c);

class Crl {
 public:
  [[nodiscard]] const std::string& der() const { return m_der; }

  [[nodiscard]] const CrlInfo& info() const { return m_info; }

  [[nodiscard]] std::string pem() const;

 private:
  friend struct X509Factory;

  Crl(std::string der, CrlInfo info) : m_der(std::move(der)), m_info(std::move(info)) {}

  std::string m_der;
  CrlInfo m_info;
};

class PublicKey {
 public:
  [[nodiscard]] const std::string& der() const { return m_der; }  // SubjectPublicKeyInfo

  [[nodiscard]] const KeyInfo& info() const { return m_info; }

  [[nodiscard]] const std::string& key_id() const { return m_key_id; }  // hex SHA-256 of der()

  [[nodiscard]] std::string pem() const;

 private:
  friend struct X509Factory;

  PublicKey(std::string der, KeyInfo info, std::string key_id)
      : m_der(std::move(der)), m_info(std::move(info)), m_key_id(std::move(key_id)) {}

  std::string m_der;
  KeyInfo m_info;
  std::string m_key_id;
};

// Every certificate in a PEM bundle, or the one certificate of a DER file. Fails with
// `on_error` naming `item` when the bytes hold no certificate, trailing garbage or a bad one.
Result<std::vector<Certificate>> parse_certificates(std::string_view bytes,
                                                    const Reason& on_error,
                                                    const std::string& item);

// One CRL, PEM or DER.
Result<Crl> parse_crl(std::string_view bytes, const Reason& on_error, const std::string& item);

// One public key: PEM "PUBLIC KEY" (SubjectPublicKeyInfo), PEM certificate (its key) or DER SPKI.
Result<PublicKey> parse_public_key(std::string_view bytes,
                                   const Reason& on_error,
                                   const std::string& item);

// The public key a certificate certifies (internal.crypto when OpenSSL cannot encode it).
Result<PublicKey> public_key_of(const Certificate& cert);

// Does `crl` carry a valid signature by `issuer`'s key and name `issuer` as its issuer?
bool crl_issued_by(const Crl& crl, const Certificate& issuer);

// Does `cert` carry a valid signature by `issuer`'s key and name `issuer`'s subject as its
// issuer (X509_check_issued: names, key identifiers, key usage)?
bool certificate_issued_by(const Certificate& cert, const Certificate& issuer);

}  // namespace ecluse::crypto
