// Test-only PKI builder: real keys, X.509 certificates, CRLs and CMS signatures made at test
// time (OpenSSL behind a pimpl), so no private key ever lives in the repository.
#pragma once

#include <ecluse/core/clock.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse::test::pki {

enum class KeyType { ec_p256, ec_p384, ed25519, rsa1024, rsa2048, rsa3072, ec_secp256k1 };

// A key pair. Copies share one underlying key.
class Key {
 public:
  // Always a fresh key, distinct from every other (use for look-alike tests).
  static Key generate(KeyType t);
  // A per-process cached key: the same (t, slot) gives the same key every time. Cheap for RSA.
  static Key shared(KeyType t, unsigned slot = 0);
  std::string public_pem() const;   // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----")
  std::string private_pem() const;  // PKCS#8 PEM, unencrypted ("-----BEGIN PRIVATE KEY-----")
  KeyType type() const;

  struct Impl;
  std::shared_ptr<Impl> impl;
};

// What a certificate holds. When use_key is empty the key is fresh for EC and Ed25519, but for
// RSA (slow to generate) it is Key::shared(type, slot) with slot 0 for roots, 1 for issued CAs
// and 2 for issued leaves: two RSA certs of the same role and size then share a key. Pass
// use_key = Key::generate(...) wherever distinct keys matter.
struct CertSpec {
  std::string cn = "Test";             // subject CN
  std::string org = "Example Vendor";  // subject O (empty = none)
  KeyType key = KeyType::ec_p256;
  // CA: basicConstraints critical CA:TRUE and keyUsage critical keyCertSign,cRLSign.
  bool ca = false;
  // extendedKeyUsage short names ("codeSigning", "emailProtection", "serverAuth"); empty = no
  // EKU extension. Used for leaves only; a CA gets ca_eku instead (empty = none).
  std::vector<std::string> eku{"codeSigning"};
  std::vector<std::string> ca_eku;
  bool leaf_key_usage = true;  // leaf: keyUsage critical digitalSignature
  TimePoint not_before;        // required
  TimePoint not_after;         // required
  // Digest the ISSUER signs this cert with ("sha1", "sha256", ...); ignored for Ed25519 issuers.
  std::string sig_digest = "sha256";
  std::optional<Key> use_key;  // use this key instead of the default one
  long serial = 0;             // 0 = random positive 63-bit serial
};

class Cert {
 public:
  std::string der() const;
  std::string pem() const;         // "-----BEGIN CERTIFICATE-----"
  std::string serial_hex() const;  // uppercase hex as OpenSSL prints it, e.g. "4A0F..."

  struct Impl;
  std::shared_ptr<Impl> impl;
};

struct Issued {
  Key key;
  Cert cert;
};

// Self-signed, with subjectKeyIdentifier and authorityKeyIdentifier (keyid).
Issued make_root(const CertSpec& spec);
// Signed by issuer, with subjectKeyIdentifier and authorityKeyIdentifier (keyid).
Issued issue(const Issued& issuer, const CertSpec& spec);

// X509v2 CRL revoking `revoked` (revocation date = this_update), with authorityKeyIdentifier and
// a crlNumber, signed with SHA-256 (or Ed25519). PEM ("-----BEGIN X509 CRL-----") or DER.
std::string make_crl(const Issued& issuer,
                     const std::vector<Cert>& revoked,
                     TimePoint this_update,
                     TimePoint next_update,
                     bool pem = true);

struct CmsOptions {
  bool detached = true;                   // false = content embedded (attached)
  bool pem = false;                       // PEM ("-----BEGIN CMS-----") instead of DER
  std::string digest = "sha256";          // "md5", "sha1", "sha256", "sha384", "sha512"
  bool rsa_pss = false;                   // RSASSA-PSS for RSA signers
  bool signed_attributes = true;          // false = CMS_NOATTR
  std::optional<TimePoint> signing_time;  // signingTime attribute; else OpenSSL's current time
  bool include_signer_cert = true;        // false = CMS_NOCERTS
};

// CMS SignedData over content, signed by signer, with extra_certs (e.g. intermediates) added to
// the SignedData certificate set (each certificate once). RSA and EC signers only: OpenSSL 3.0
// cannot make Ed25519 CMS signatures, so an Ed25519 signer throws.
std::string sign_cms(std::string_view content,
                     const Issued& signer,
                     const std::vector<Cert>& extra_certs,
                     const CmsOptions& opt = {});

// Raw signature for "raw-key" vendors: Ed25519 = pure Ed25519 over content; EC = DER
// ECDSA-Sig-Value over SHA-256(content); RSA = PKCS#1 v1.5 over SHA-256(content) (what
// `openssl dgst -sha256 -sign` makes). Returned as base64(signature) + "\n".
std::string sign_raw(std::string_view content, const Key& key);

// Standard base64 with padding, one line, no trailing newline.
std::string base64(std::string_view bytes);

}  // namespace ecluse::test::pki
