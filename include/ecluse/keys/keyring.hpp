// The workspace's keys/ directory: the signed key list and its history, references to the
// private keys ecluse may use, and the operator's X.509 material (docs/keys.md):
//
//   keys/keylist.json              the current key list (DSSE envelope, signed by root keys)
//   keys/history/N.keylist.json    every version, 1..N: each is checked against the one before
//   keys/private/KEYID.json        where a private key is: {"file": "KEYID.pem",
//                                  "passphrase_env": VAR} or {"pkcs11": URI, "module": PATH,
//                                  "pin_env": VAR}; files 0600 in a 0700 directory
//   keys/ca.pem                    the operator CA certificate (keys init-ca or import-ca)
//   keys/certs/KEYID.pem           the release certificate of release key KEYID
//
// Every change writes version N+1 (signed by the root keys whose private parts are here) into
// history first, then keylist.json, under keys/.lock.
//
// Reason codes: keys.* (see keylist.hpp and signing.hpp), workspace.io_error.
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/crypto/signing.hpp>
#include <ecluse/crypto/x509.hpp>
#include <ecluse/keys/keylist.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ecluse::keys {

struct GenerateRequest {
  Role role = Role::release;
  crypto::KeyType type = crypto::KeyType::ecdsa_p256;
  std::string name;            // engineers: required; others: optional label
  std::string passphrase_env;  // encrypt the PEM with this variable's value; empty: plain
};

struct Pkcs11Request {
  Role role = Role::release;
  std::string name;
  std::string uri;      // pkcs11:token=…;object=…
  std::string module;   // PKCS#11 module path; empty: the engine's default
  std::string pin_env;  // environment variable holding the PIN; empty: none
};

// The operator CA and the release certificate of the active release key.
struct ReleaseCertificate {
  crypto::Certificate ca;
  crypto::Certificate leaf;
};

class Keyring {
 public:
  // Opens dir (the workspace's keys/): verifies the whole history chain and that keylist.json
  // is its last version (repairing a copy left behind by a crash). No key list yet: version 0.
  static Result<Keyring> open(std::filesystem::path dir);

  [[nodiscard]] const KeyList& list() const { return m_list; }

  [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }

  // The private key of keyid (keys.private_missing when this workspace does not hold it).
  [[nodiscard]] Result<crypto::SigningKey> signer(const std::string& keyid) const;
  // The active key of role (engineers: of name) that this workspace holds privately.
  [[nodiscard]] Result<crypto::SigningKey> active_signer(Role role,
                                                         const std::string& name = {}) const;

  // A new key: root first (it signs version 1); release and journal keys have one active
  // key (rotate replaces it), engineers one per name.
  Result<KeyEntry> generate(const GenerateRequest& req, TimePoint now);
  // A key that lives in a PKCS#11 token.
  Result<KeyEntry> add_pkcs11(const Pkcs11Request& req, TimePoint now);
  // A new key of the same type (and name) as the active one; the old one is retired: it still
  // verifies what it signed, and signs nothing new. A rotated release key gets a release
  // certificate at once when the CA is here.
  Result<KeyEntry> rotate(Role role, const std::string& name, TimePoint now);
  // Marks a key revoked: its signatures stop counting everywhere.
  Result<KeyEntry> revoke(const std::string& keyid_prefix, const std::string& why, TimePoint now);

  // Creates the operator CA (signed by an active root key) and a release certificate for the
  // active release key (keys.no_key when either key is missing).
  Result<ReleaseCertificate> init_ca(const std::string& common_name,
                                     std::uint32_t days,
                                     TimePoint now);
  // Imports an existing CA and the release key's certificate it issued
  // (keys.certificate_mismatch when the certificate is not for the active release key or not
  // issued by the CA).
  Result<ReleaseCertificate> import_ca(std::string_view ca_pem,
                                       std::string_view leaf_pem,
                                       TimePoint now);
  // The CA and the certificate of release key keyid (keys.no_ca when absent).
  [[nodiscard]] Result<ReleaseCertificate> certificate(const std::string& keyid) const;

  // The key list envelope as stored (keylist.json), for export.
  [[nodiscard]] Result<std::string> envelope() const;

 private:
  Keyring(std::filesystem::path dir, KeyList list)
      : m_dir(std::move(dir)), m_list(std::move(list)) {}

  Status publish(KeyList next, const std::vector<const crypto::SigningKey*>& extra_signers);
  Status write_private(const std::string& keyid, const json::Json& ref) const;
  Result<ReleaseCertificate> issue_release(const crypto::Certificate& ca, TimePoint now);
  // After a release key rotation: a certificate for the new key when the CA is here.
  Status reissue_release(TimePoint now);

  std::filesystem::path m_dir;
  KeyList m_list;
};

}  // namespace ecluse::keys
