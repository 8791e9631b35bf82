// The workspace trust store: what is pinned for each vendor. Either X.509 (self-signed roots,
// optional intermediates and CRLs) or one raw public key (Ed25519 or ECDSA P-256).
//
// On disk (signatures/README.md): trust/VENDOR/vendor.json lists every file by fingerprint and
// is the commit point of each change; the files are roots/SHA256.pem, intermediates/SHA256.pem,
// crls/SHA256.pem and raw-key/KEYID.pem. A listed file that is missing, unreadable or does not
// match its fingerprint makes the store broken (trust.store_broken): our fault, not the vendor's.
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/signature.hpp>
#include <ecluse/crypto/x509.hpp>
#include <ecluse/workspace/workspace.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ecluse::trust {

enum class Kind { x509, raw_key };

std::string_view to_string(Kind k);

struct VendorTrust {
  std::string vendor;
  Kind kind = Kind::x509;
  crypto::Anchors anchors;                   // x509
  std::optional<crypto::PublicKey> raw_key;  // raw_key
  std::string updated_at;

  // Roots, intermediates, CRLs or the raw key, described (trust list --json).
  [[nodiscard]] json::Json to_json() const;
};

// A file given on the command line: its name (for messages) and bytes.
struct Material {
  std::string name;
  std::string bytes;
};

struct X509Additions {
  std::vector<Material> roots;
  std::vector<Material> intermediates;
  std::vector<Material> crls;
};

class TrustStore {
 public:
  explicit TrustStore(const workspace::Workspace& ws);

  // The trust pinned for vendor; nullopt when none. trust.store_broken when damaged.
  [[nodiscard]] Result<std::optional<VendorTrust>> load(const std::string& vendor) const;

  [[nodiscard]] Result<std::vector<VendorTrust>> list() const;

  // Pins X.509 material for vendor (creating it or adding to it). Roots must be self-signed CA
  // certificates and intermediates CA certificates with keys the policy allows; a CRL must be
  // issued by one of the vendor's roots or intermediates and replaces an older CRL of the same
  // issuer. Returns what changed (for the journal). trust.bad_material, trust.vendor_conflict.
  Result<json::Json> add_x509(const std::string& vendor, const X509Additions& add, TimePoint now);

  // Pins a raw public key for vendor (replacing none: one key per raw-key vendor).
  Result<json::Json> add_raw_key(const std::string& vendor, const Material& key, TimePoint now);

  // Removes one pinned item by fingerprint (or key id), or the whole vendor when fingerprint is
  // empty; removing a vendor's last root or its key removes the vendor. trust.unknown_vendor.
  Result<json::Json> remove(const std::string& vendor,
                            const std::string& fingerprint,
                            TimePoint now);

 private:
  const workspace::Workspace* m_ws;
};

}  // namespace ecluse::trust
