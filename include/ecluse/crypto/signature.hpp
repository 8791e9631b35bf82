// Vendor signature verification: a detached CMS SignedData chained to pinned roots under an
// explicit algorithm and code-signing policy, or a raw signature under a pinned public key.
//
// Reason codes: signature.* (the vendor's signature is refused); trust.crl_stale (our own
// CRL is out of date: an environment error, never blamed on the vendor); internal.crypto.
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/x509.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ecluse::crypto {

// What a vendor signature may use (ecluse.json "signature_policy"; docs/configuration.md).
struct AlgorithmPolicy {
  std::vector<std::string> digests{"sha256", "sha384", "sha512"};
  unsigned rsa_min_bits = 2048;
  std::vector<std::string> rsa_padding{"pkcs1", "pss"};
  std::vector<std::string> ec_curves{"P-256", "P-384"};
  bool ed25519 = true;

  [[nodiscard]] json::Json to_json() const;
};

// Why the key is refused by the policy, or nullopt when it is allowed.
std::optional<std::string> key_refusal(const KeyInfo& key, const AlgorithmPolicy& policy);

// Is the digest ("sha256", …) allowed by the policy?
bool digest_allowed(const std::string& digest, const AlgorithmPolicy& policy);

// The trust pinned for one vendor: anchors, optional intermediates and CRLs.
struct Anchors {
  std::string vendor;  // named in messages
  std::vector<Certificate> roots;
  std::vector<Certificate> intermediates;
  std::vector<Crl> crls;
};

struct CrlUse {
  CrlInfo crl;
  std::string covers;  // subject of the certificate it was checked against
};

struct CmsReport {
  std::string encoding;  // "der" or "pem"
  CertInfo signer;
  std::vector<CertInfo> chain;  // leaf first, pinned root last
  std::string digest;           // "sha256", …
  std::string signature_algorithm;
  std::string padding;                    // "pkcs1" or "pss" for RSA signers, else empty
  std::optional<TimePoint> signing_time;  // the signer's claim: shown, never used to validate
  TimePoint validated_at{};
  std::vector<CrlUse> crls;           // every CRL consulted
  std::vector<std::string> crl_gaps;  // certificates no pinned CRL covers (subjects)

  [[nodiscard]] json::Json to_json() const;
};

// Verifies `signature` (detached CMS SignedData, DER or PEM, exactly one signer) over the
// exact bytes of `content`, with the chain built to one of `anchors.roots` at time `at`.
Result<CmsReport> verify_cms(std::string_view signature,
                             std::string_view content,
                             const Anchors& anchors,
                             const AlgorithmPolicy& policy,
                             TimePoint at);

// The same for content known only by its SHA-256 (hex): the signed messageDigest attribute
// must equal it (a signature without signed attributes, or over another digest, is refused).
Result<CmsReport> verify_cms_digest(std::string_view signature,
                                    const std::string& content_sha256_hex,
                                    const Anchors& anchors,
                                    const AlgorithmPolicy& policy,
                                    TimePoint at);

struct RawReport {
  KeyInfo key;
  std::string key_id;
  std::string algorithm;  // "ed25519" or "ecdsa-sha256"

  [[nodiscard]] json::Json to_json() const;
};

// Verifies a raw signature (base64 text) over `content` with the pinned key: Ed25519, or
// ECDSA P-256 with SHA-256 (a DER ECDSA-Sig-Value, as `openssl dgst -sha256 -sign` writes).
Result<RawReport> verify_raw(std::string_view signature_b64,
                             std::string_view content,
                             const PublicKey& key,
                             const AlgorithmPolicy& policy);

}  // namespace ecluse::crypto
