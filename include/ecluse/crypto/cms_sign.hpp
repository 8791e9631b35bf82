// The operator's X.509 side: a CA certificate for the operator's own PKI, release
// certificates it issues (codeSigning), and detached CMS signatures per artifact, which
// `openssl cms -verify -binary -inform DER -content ARTIFACT -in ARTIFACT.p7s
// -CAfile OPERATOR_CA.pem -purpose any` accepts.
//
// Reason codes: keys.certificate_mismatch, keys.unsupported_type (an Ed25519 CMS signer),
// internal.crypto (also a request OpenSSL refuses: empty or over-long CN, C not two letters).
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/crypto/signing.hpp>
#include <ecluse/crypto/x509.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse::crypto {

// What a new certificate names: its subject C, O, CN (in that order; OpenSSL allows a CN of 1
// to 64 characters) and its validity.
struct CertificateRequest {
  std::string common_name;   // CN
  std::string organisation;  // O; empty: none
  std::string country;       // C (two letters); empty: none
  std::uint32_t days = 365;  // validity from `now`
  TimePoint now{};           // notBefore (minus 5 minutes of clock skew)
};

// A self-signed CA certificate for ca_key: basicConstraints CA:TRUE pathlen 0 (critical),
// keyUsage keyCertSign cRLSign (critical), subject and authority key identifiers, a random
// 128-bit serial, signed with SHA-256 (Ed25519: pure).
Result<Certificate> make_ca_certificate(const SigningKey& ca_key, const CertificateRequest& req);

// A leaf certificate for subject_key issued by ca (whose key is ca_key): CA:FALSE (critical),
// keyUsage digitalSignature (critical), extendedKeyUsage codeSigning, subject and authority key
// identifiers, a random 128-bit serial; the issuer signs with SHA-256 (RSA: PKCS#1 v1.5;
// Ed25519: pure). keys.certificate_mismatch when ca_key is not ca's key.
Result<Certificate> issue_code_signing_certificate(const SigningKey& ca_key,
                                                   const Certificate& ca,
                                                   const PublicKey& subject_key,
                                                   const CertificateRequest& req);

// A detached CMS SignedData (DER) over content's exact bytes by key, whose certificate is
// cert (included, with chain): SHA-256 digest, signed attributes (content type, message
// digest, signing time; no S/MIME capabilities), binary content (no MIME canonicalisation),
// signed with PKCS#1 v1.5 by RSA keys, ECDSA by P-256 keys. The signer's certificate is
// included once even when chain repeats it. keys.certificate_mismatch when cert does not
// certify key; keys.unsupported_type for an Ed25519 key, since OpenSSL 3.0 cannot make EdDSA
// CMS signatures (RFC 8419).
Result<std::string> sign_cms_detached(const SigningKey& key,
                                      const Certificate& cert,
                                      const std::vector<Certificate>& chain,
                                      std::string_view content);

// The same over a file's bytes, streamed (artifacts may be far larger than memory).
Result<std::string> sign_cms_detached_file(const SigningKey& key,
                                           const Certificate& cert,
                                           const std::vector<Certificate>& chain,
                                           const std::filesystem::path& file);

}  // namespace ecluse::crypto
