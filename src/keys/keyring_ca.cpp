// The operator's X.509 material in keys/: a CA whose key is an active root key, and one
// release certificate (codeSigning) per release key, which per-artifact CMS signatures carry.
#include <ecluse/crypto/cms_sign.hpp>
#include <ecluse/keys/keyring.hpp>

#include "keyring_files.hpp"

namespace ecluse::keys {

namespace {

constexpr std::uint32_t k_release_days = 2 * 365;

Result<crypto::Certificate> one_certificate(std::string_view pem, const std::string& item) {
  ECLUSE_TRY(certs, crypto::parse_certificates(pem, reason::k_keys_bad_key_file, item));
  if (certs.size() != 1) {
    return fail(reason::k_keys_bad_key_file,
                item + ": holds " + std::to_string(certs.size()) + " certificates, expected 1",
                item);
  }
  return std::move(certs.front());
}

Result<const KeyEntry*> active_release(const KeyList& list) {
  const auto active = list.active(Role::release);
  if (active.empty()) {
    return fail(reason::k_keys_no_key,
                "no active release key: ecluse keys generate --role release",
                "release");
  }
  return active.front();
}

}  // namespace

Result<ReleaseCertificate> Keyring::issue_release(const crypto::Certificate& ca, TimePoint now) {
  ECLUSE_TRY(release, active_release(m_list));
  ECLUSE_TRY(root, active_signer(Role::root));
  const crypto::CertificateRequest req{
      "ecluse release " + release->keyid.substr(0, 16), "", "", k_release_days, now};
  ECLUSE_TRY(leaf, crypto::issue_code_signing_certificate(root, ca, release->public_key, req));
  ECLUSE_CHECK(fs::make_dirs(m_dir / "certs", reason::k_workspace_io));
  ECLUSE_CHECK(fs::write_file_atomic(
      m_dir / "certs" / (release->keyid + ".pem"), leaf.pem(), reason::k_workspace_io));
  return ReleaseCertificate{ca, std::move(leaf)};
}

Status Keyring::reissue_release(TimePoint now) {
  if (!detail::file_exists(m_dir / "ca.pem")) {
    return {};
  }
  ECLUSE_TRY(ca_text, detail::read_small(m_dir / "ca.pem"));
  ECLUSE_TRY(ca, one_certificate(ca_text, "keys/ca.pem"));
  ECLUSE_CHECK(issue_release(ca, now));
  return {};
}

Result<ReleaseCertificate> Keyring::init_ca(const std::string& common_name,
                                            std::uint32_t days,
                                            TimePoint now) {
  ECLUSE_TRY(lock, detail::lock_keys(m_dir));
  ECLUSE_TRY(root, active_signer(Role::root));
  ECLUSE_CHECK(active_release(m_list));
  const crypto::CertificateRequest req{common_name, "", "", days, now};
  ECLUSE_TRY(ca, crypto::make_ca_certificate(root, req));
  ECLUSE_CHECK(fs::write_file_atomic(m_dir / "ca.pem", ca.pem(), reason::k_workspace_io));
  return issue_release(ca, now);
}

Result<ReleaseCertificate> Keyring::import_ca(std::string_view ca_pem,
                                              std::string_view leaf_pem,
                                              TimePoint now) {
  ECLUSE_TRY(lock, detail::lock_keys(m_dir));
  ECLUSE_TRY(ca, one_certificate(ca_pem, "--ca"));
  ECLUSE_TRY(leaf, one_certificate(leaf_pem, "--cert"));
  ECLUSE_TRY(release, active_release(m_list));
  ECLUSE_TRY(leaf_key, crypto::public_key_of(leaf));
  if (leaf_key.key_id() != release->keyid) {
    return fail(reason::k_keys_certificate_mismatch,
                "--cert certifies key " + leaf_key.key_id().substr(0, 16)
                    + ", not the active release key " + release->keyid.substr(0, 16),
                "--cert");
  }
  if (!crypto::certificate_issued_by(leaf, ca)) {
    return fail(reason::k_keys_certificate_mismatch, "--cert is not issued by --ca", "--cert");
  }
  if (leaf.info().not_after <= now || !ca.info().is_ca) {
    return fail(reason::k_keys_certificate_mismatch,
                "--cert has expired or --ca is not a CA certificate",
                "--cert");
  }
  ECLUSE_CHECK(fs::write_file_atomic(m_dir / "ca.pem", ca.pem(), reason::k_workspace_io));
  ECLUSE_CHECK(fs::make_dirs(m_dir / "certs", reason::k_workspace_io));
  ECLUSE_CHECK(fs::write_file_atomic(
      m_dir / "certs" / (release->keyid + ".pem"), leaf.pem(), reason::k_workspace_io));
  return ReleaseCertificate{std::move(ca), std::move(leaf)};
}

Result<ReleaseCertificate> Keyring::certificate(const std::string& keyid) const {
  const auto leaf_file = m_dir / "certs" / (keyid + ".pem");
  if (!detail::file_exists(m_dir / "ca.pem") || !detail::file_exists(leaf_file)) {
    return fail(reason::k_keys_no_ca,
                "no operator CA or no certificate for release key " + keyid.substr(0, 16)
                    + ": ecluse keys init-ca (or keys import-ca)",
                keyid);
  }
  ECLUSE_TRY(ca_text, detail::read_small(m_dir / "ca.pem"));
  ECLUSE_TRY(leaf_text, detail::read_small(leaf_file));
  ECLUSE_TRY(ca, one_certificate(ca_text, "keys/ca.pem"));
  ECLUSE_TRY(leaf, one_certificate(leaf_text, "keys/certs/" + keyid + ".pem"));
  return ReleaseCertificate{std::move(ca), std::move(leaf)};
}

}  // namespace ecluse::keys
