// ecluse keys init, export-public, init-ca and import-ca: the set-up steps of the operator's
// keys (one command for the embedded default) and what verifiers need.
#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/crypto/sshsig.hpp>
#include <ecluse/keys/keyring.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct Created {
  json::Json keys = json::Json::array();
  std::string text;
};

Status ensure_key(const pipeline::Session& s,
                  keys::Keyring& ring,
                  keys::GenerateRequest req,
                  Created& made) {
  if (!ring.list().active(req.role, req.role == keys::Role::engineer ? req.name : "").empty()) {
    return {};
  }
  ECLUSE_TRY(e, ring.generate(req, s.clock().now()));
  ECLUSE_CHECK(s.record("",
                        "keys.generated",
                        {{"keyid", e.keyid},
                         {"role", keys::to_string(e.role)},
                         {"name", e.name},
                         {"keylist_version", ring.list().version}}));
  made.keys.push_back(e.to_json());
  made.text += "generated " + std::string(keys::to_string(e.role)) + " key " + e.keyid.substr(0, 16)
               + " (" + printable(e.name) + ", " + std::string(crypto::to_string(e.type)) + ")\n";
  return {};
}

Status ensure_ca(const pipeline::Session& s,
                 keys::Keyring& ring,
                 const std::string& ca_name,
                 Created& made) {
  const auto release = ring.list().active(keys::Role::release);
  if (release.empty() || ring.certificate(release.front()->keyid)) {
    return {};
  }
  ECLUSE_TRY(cert, ring.init_ca(ca_name, 3650, s.clock().now()));
  ECLUSE_CHECK(s.record("",
                        "keys.ca_created",
                        {{"ca", cert.ca.info().sha256}, {"certificate", cert.leaf.info().sha256}}));
  made.text += "created operator CA " + cert.ca.info().sha256.substr(0, 16) + " ("
               + printable(cert.ca.info().subject) + ") and release certificate "
               + cert.leaf.info().sha256.substr(0, 16) + "\n";
  return {};
}

Result<Created> keys_init(const pipeline::Session& s,
                          const std::vector<std::string>& engineers,
                          crypto::KeyType type,
                          const std::string& ca_name) {
  ECLUSE_TRY(ring, keys::Keyring::open(s.ws().keys_dir()));
  Created made;
  for (const auto role : {keys::Role::root, keys::Role::release, keys::Role::journal}) {
    ECLUSE_CHECK(ensure_key(s, ring, {role, type, "", ""}, made));
  }
  for (const auto& name : engineers) {
    ECLUSE_CHECK(ensure_key(s, ring, {keys::Role::engineer, type, name, ""}, made));
  }
  ECLUSE_CHECK(ensure_ca(s, ring, ca_name, made));
  made.text += "key list version " + std::to_string(ring.list().version) + ", "
               + std::to_string(ring.list().keys.size()) + " keys\n";
  return made;
}

Status write_public(const keys::Keyring& ring, const std::filesystem::path& dir) {
  ECLUSE_TRY(envelope, ring.envelope());
  ECLUSE_CHECK(fs::make_dirs(dir / "keys", reason::k_workspace_io));
  ECLUSE_CHECK(fs::write_file_atomic(dir / "keylist.json", envelope, reason::k_workspace_io));
  for (const auto& e : ring.list().keys) {
    ECLUSE_CHECK(fs::write_file_atomic(
        dir / "keys" / (e.keyid + ".pem"), e.public_key.pem(), reason::k_workspace_io));
  }
  for (const auto* e : ring.list().active(keys::Role::release)) {
    if (auto cert = ring.certificate(e->keyid)) {
      ECLUSE_CHECK(
          fs::write_file_atomic(dir / "operator-ca.pem", cert->ca.pem(), reason::k_workspace_io));
      ECLUSE_CHECK(fs::write_file_atomic(dir / ("release-" + e->keyid.substr(0, 16) + ".pem"),
                                         cert->leaf.pem(),
                                         reason::k_workspace_io));
    }
  }
  return {};
}

Result<std::string> read_pem(const std::string& file) {
  return fs::read_file_bounded(
      file, 1U << 20U, reason::k_keys_unreadable, reason::k_keys_bad_key_file);
}

}  // namespace

int run_keys_init(const GlobalOptions& g,
                  const std::vector<std::string>& engineers,
                  const std::string& type,
                  const std::string& ca_name,
                  bool json) {
  const auto t = crypto::parse_key_type(type);
  if (!t) {
    return report(
        Error::from(reason::k_usage, "--type must be ed25519, ecdsa-p256 or rsa-3072", type), json);
  }
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), json);
  }
  auto made = keys_init(*session, engineers, *t, ca_name);
  if (!made) {
    return report(made.error(), json);
  }
  out(json ? json::dump_pretty(json::Json{{"created", made->keys}}) + "\n" : made->text);
  return k_exit_ok;
}

// git's allowed-signers file: every release key that is not revoked may have signed a
// promotion commit or tag, as the committer of promotions.
Status write_allowed_signers(const pipeline::Session& s,
                             const keys::Keyring& ring,
                             const std::string& file) {
  std::string text;
  for (const auto& e : ring.list().keys) {
    if (e.role != keys::Role::release || e.standing == keys::Standing::revoked) {
      continue;
    }
    ECLUSE_TRY(line, crypto::ssh::public_key_line(e.public_key));
    text += s.ws().config().promotion.committer_email + " namespaces=\"git\" " + line + "\n";
  }
  return fs::write_file_atomic(file, text, reason::k_keys_unreadable);
}

int run_export_public(const GlobalOptions& g,
                      const std::string& out_dir,
                      const std::string& allowed_signers,
                      bool json) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), json);
  }
  auto ring = keys::Keyring::open(session->ws().keys_dir());
  if (!ring) {
    return report(ring.error(), json);
  }
  if (ring->list().version == 0) {
    return report(Error::from(reason::k_keys_no_key, "no key list yet: ecluse keys init"), json);
  }
  if (!allowed_signers.empty()) {
    if (auto ok = write_allowed_signers(*session, *ring, allowed_signers); !ok) {
      return report(ok.error(), json);
    }
    if (out_dir.empty()) {
      out(json ? json::dump_pretty(json::Json{{"allowed_signers", allowed_signers}}) + "\n"
               : "wrote " + allowed_signers + " (git gpg.ssh.allowedSignersFile)\n");
      return k_exit_ok;
    }
  }
  if (out_dir.empty()) {
    auto env = ring->envelope();
    if (!env) {
      return report(env.error(), json);
    }
    out(*env);
    return k_exit_ok;
  }
  if (auto ok = write_public(*ring, out_dir); !ok) {
    return report(ok.error(), json);
  }
  out(json ? json::dump_pretty(
                 json::Json{{"out", out_dir}, {"keylist_version", ring->list().version}})
                 + "\n"
           : "wrote " + out_dir + "/keylist.json (version " + std::to_string(ring->list().version)
                 + "), keys/*.pem and the operator CA\n");
  return k_exit_ok;
}

int run_ca(const GlobalOptions& g,
           const std::string& ca,
           const std::string& cert,
           const std::string& name,
           std::uint32_t days,
           bool json) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), json);
  }
  auto ring = keys::Keyring::open(session->ws().keys_dir());
  if (!ring) {
    return report(ring.error(), json);
  }
  Result<keys::ReleaseCertificate> done = fail(reason::k_internal, "unreachable");
  if (ca.empty()) {
    done = ring->init_ca(name, days == 0 ? 3650 : days, session->clock().now());
  } else {
    auto ca_pem = read_pem(ca);
    auto cert_pem = read_pem(cert);
    if (!ca_pem || !cert_pem) {
      return report(ca_pem ? cert_pem.error() : ca_pem.error(), json);
    }
    done = ring->import_ca(*ca_pem, *cert_pem, session->clock().now());
  }
  if (!done) {
    return report(done.error(), json);
  }
  const json::Json details{{"ca", to_json(done->ca.info())},
                           {"certificate", to_json(done->leaf.info())}};
  if (auto ok = session->record("", ca.empty() ? "keys.ca_created" : "keys.ca_imported", details);
      !ok) {
    return report(ok.error(), json);
  }
  out(json ? json::dump_pretty(details) + "\n"
           : "operator CA " + done->ca.info().sha256.substr(0, 16) + "  "
                 + printable(done->ca.info().subject) + "\nrelease certificate "
                 + done->leaf.info().sha256.substr(0, 16) + "  "
                 + printable(done->leaf.info().subject) + "  until "
                 + format_utc(done->leaf.info().not_after) + "\n");
  return k_exit_ok;
}

}  // namespace ecluse::cli
