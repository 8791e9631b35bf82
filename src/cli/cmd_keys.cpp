// ecluse keys init | generate | add-pkcs11 | list | rotate | revoke | export-public | init-ca |
// import-ca: the operator's keys and the signed key list (docs/keys.md).
#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/keys/keyring.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct KeysOptions {
  std::string role;
  std::string type = "ecdsa-p256";
  std::string name;
  std::string passphrase_env;
  std::string uri;
  std::string module;
  std::string pin_env;
  std::string keyid;
  std::string reason;
  std::string out_dir;
  std::string allowed_signers;
  std::string ca_file;
  std::string cert_file;
  std::string ca_name = "ecluse operator CA";
  std::uint32_t days = 3650;
  std::vector<std::string> engineers;
  bool json = false;
};

std::string key_line(const keys::KeyEntry& e) {
  return e.keyid.substr(0, 16) + "  " + std::string(keys::to_string(e.role)) + "  "
         + printable(e.name) + "  " + std::string(crypto::to_string(e.type)) + "  "
         + std::string(keys::to_string(e.standing)) + "  " + e.backend + "  " + e.created
         + (e.revoked.empty() ? std::string()
                              : "  revoked " + e.revoked + ": " + printable(e.revoked_reason))
         + "\n";
}

Result<keys::Role> role_of(const std::string& text) {
  const auto r = keys::parse_role(text);
  if (!r) {
    return fail(reason::k_usage, "--role must be root, release, engineer or journal", text);
  }
  return *r;
}

Result<crypto::KeyType> type_of(const std::string& text) {
  const auto t = crypto::parse_key_type(text);
  if (!t) {
    return fail(reason::k_usage, "--type must be ed25519, ecdsa-p256 or rsa-3072", text);
  }
  return *t;
}

// Opens the session and key ring, runs a change, journals it and prints the key it touched.
template <class Change>
int run_key_change(const GlobalOptions& g, const KeysOptions& o, const char* event, Change change) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto ring = keys::Keyring::open(session->ws().keys_dir());
  if (!ring) {
    return report(ring.error(), o.json);
  }
  Result<keys::KeyEntry> done = change(*ring, session->clock().now());
  if (!done) {
    return report(done.error(), o.json);
  }
  json::Json details{{"keyid", done->keyid},
                     {"role", keys::to_string(done->role)},
                     {"name", done->name},
                     {"status", keys::to_string(done->standing)},
                     {"keylist_version", ring->list().version}};
  if (auto ok = session->record("", event, details); !ok) {
    return report(ok.error(), o.json);
  }
  out(o.json ? json::dump_pretty(done->to_json()) + "\n"
             : std::string(event) + "  key list version " + std::to_string(ring->list().version)
                   + "\n" + key_line(*done));
  return k_exit_ok;
}

int run_list(const GlobalOptions& g, const KeysOptions& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto ring = keys::Keyring::open(session->ws().keys_dir());
  if (!ring) {
    return report(ring.error(), o.json);
  }
  if (o.json) {
    out(json::dump_pretty(ring->list().to_json()) + "\n");
    return k_exit_ok;
  }
  std::string text = "key list version " + std::to_string(ring->list().version) + "\n";
  for (const auto& e : ring->list().keys) {
    text += key_line(e);
  }
  out(ring->list().version == 0 ? "no keys yet: ecluse keys init\n" : text);
  return k_exit_ok;
}

}  // namespace

// Defined in cmd_keys_more.cpp.
int run_keys_init(const GlobalOptions& g,
                  const std::vector<std::string>& engineers,
                  const std::string& type,
                  const std::string& ca_name,
                  bool json);
int run_export_public(const GlobalOptions& g,
                      const std::string& out_dir,
                      const std::string& allowed_signers,
                      bool json);
int run_ca(const GlobalOptions& g,
           const std::string& ca,
           const std::string& cert,
           const std::string& name,
           std::uint32_t days,
           bool json);

static void add_key_creation(CLI::App* keys,
                             const std::shared_ptr<KeysOptions>& o,
                             const GlobalOptions& g,
                             Action& action) {
  auto json_flag = [&](CLI::App* c) {
    c->add_flag("--json", o->json, "print as JSON");
  };

  auto* gen = keys->add_subcommand("generate", "generate a key of a role (PEM, mode 0600)");
  gen->add_option("--role", o->role, "root, release, engineer or journal")->required();
  gen->add_option("--type", o->type, "ed25519, ecdsa-p256 (default) or rsa-3072");
  gen->add_option("--name", o->name, "the engineer's name (required for engineers)");
  gen->add_option(
      "--passphrase-env", o->passphrase_env, "encrypt the PEM with this variable's value");
  json_flag(gen);
  gen->callback([o, &g, &action] {
    action = [o, &g] {
      return run_key_change(
          g, *o, "keys.generated", [&](keys::Keyring& r, TimePoint now) -> Result<keys::KeyEntry> {
            ECLUSE_TRY(role, role_of(o->role));
            ECLUSE_TRY(type, type_of(o->type));
            return r.generate({role, type, o->name, o->passphrase_env}, now);
          });
    };
  });

  auto* p11 = keys->add_subcommand("add-pkcs11", "use a key held in a PKCS#11 token (HSM)");
  p11->add_option("--role", o->role, "root, release, engineer or journal")->required();
  p11->add_option("--uri", o->uri, "pkcs11:token=…;object=…")->required();
  p11->add_option("--module", o->module, "the PKCS#11 module (.so)");
  p11->add_option("--pin-env", o->pin_env, "environment variable holding the user PIN");
  p11->add_option("--name", o->name, "the engineer's name (required for engineers)");
  json_flag(p11);
  p11->callback([o, &g, &action] {
    action = [o, &g] {
      return run_key_change(
          g, *o, "keys.added", [&](keys::Keyring& r, TimePoint now) -> Result<keys::KeyEntry> {
            ECLUSE_TRY(role, role_of(o->role));
            return r.add_pkcs11({role, o->name, o->uri, o->module, o->pin_env}, now);
          });
    };
  });

  auto* list = keys->add_subcommand("list", "list every key with its role and standing");
  json_flag(list);
  list->callback([o, &g, &action] {
    action = [o, &g] {
      return run_list(g, *o);
    };
  });
}

static void add_key_lifecycle(CLI::App* keys,
                              const std::shared_ptr<KeysOptions>& o,
                              const GlobalOptions& g,
                              Action& action) {
  auto json_flag = [&](CLI::App* c) {
    c->add_flag("--json", o->json, "print as JSON");
  };

  auto* rot = keys->add_subcommand(
      "rotate",
      "replace the active key of a role: the old one is retired (its signatures stay valid)");
  rot->add_option("role", o->role, "root, release, engineer or journal")->required();
  rot->add_option("--name", o->name, "the engineer whose key is rotated");
  json_flag(rot);
  rot->callback([o, &g, &action] {
    action = [o, &g] {
      return run_key_change(
          g, *o, "keys.rotated", [&](keys::Keyring& r, TimePoint now) -> Result<keys::KeyEntry> {
            ECLUSE_TRY(role, role_of(o->role));
            return r.rotate(role, o->name, now);
          });
    };
  });

  auto* rev =
      keys->add_subcommand("revoke", "revoke a key: its signatures stop counting everywhere");
  rev->add_option("keyid", o->keyid, "key id (at least 8 hex digits)")->required();
  rev->add_option("--reason", o->reason, "why (journaled, in the key list)")->required();
  json_flag(rev);
  rev->callback([o, &g, &action] {
    action = [o, &g] {
      return run_key_change(g, *o, "keys.revoked", [&](keys::Keyring& r, TimePoint now) {
        return r.revoke(o->keyid, o->reason, now);
      });
    };
  });
}

static void add_key_export(CLI::App* keys,
                           const std::shared_ptr<KeysOptions>& o,
                           const GlobalOptions& g,
                           Action& action) {
  auto json_flag = [&](CLI::App* c) {
    c->add_flag("--json", o->json, "print as JSON");
  };

  auto* exp = keys->add_subcommand("export-public",
                                   "write the signed key list, public keys and CA for verifiers");
  exp->add_option("--out", o->out_dir, "directory to write (default: print the key list)");
  exp->add_option("--allowed-signers",
                  o->allowed_signers,
                  "also write git's allowed-signers file (gpg.ssh.allowedSignersFile) of the "
                  "release keys");
  json_flag(exp);
  exp->callback([o, &g, &action] {
    action = [o, &g] {
      return run_export_public(g, o->out_dir, o->allowed_signers, o->json);
    };
  });

  auto* ca = keys->add_subcommand(
      "init-ca", "create the operator CA (root key) and the release key's certificate");
  ca->add_option("--name", o->ca_name, "the CA's common name");
  ca->add_option("--days", o->days, "validity in days (default 3650)");
  json_flag(ca);
  ca->callback([o, &g, &action] {
    action = [o, &g] {
      return run_ca(g, "", "", o->ca_name, o->days, o->json);
    };
  });

  auto* imp = keys->add_subcommand(
      "import-ca", "use an existing CA and the release key's certificate it issued");
  imp->add_option("--ca", o->ca_file, "CA certificate (PEM)")->required();
  imp->add_option("--cert", o->cert_file, "release certificate (PEM) for the active release key")
      ->required();
  json_flag(imp);
  imp->callback([o, &g, &action] {
    action = [o, &g] {
      return run_ca(g, o->ca_file, o->cert_file, "", 0, o->json);
    };
  });
}

void add_keys(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto o = std::make_shared<KeysOptions>();
  auto* keys = app.add_subcommand("keys", "the operator's keys, the signed key list and the CA");
  keys->require_subcommand(1);
  auto json_flag = [&](CLI::App* c) {
    c->add_flag("--json", o->json, "print as JSON");
  };

  auto* init = keys->add_subcommand(
      "init",
      "create what is missing: root, release and journal keys, the CA and release certificate");
  init->add_option("--type", o->type, "ed25519, ecdsa-p256 (default) or rsa-3072");
  init->add_option("--engineer", o->engineers, "also an engineer key for NAME (repeatable)");
  init->add_option("--ca-name", o->ca_name, "the CA's common name");
  json_flag(init);
  init->callback([o, &g, &action] {
    action = [o, &g] {
      return run_keys_init(g, o->engineers, o->type, o->ca_name, o->json);
    };
  });

  add_key_creation(keys, o, g, action);
  add_key_lifecycle(keys, o, g, action);
  add_key_export(keys, o, g, action);
}

}  // namespace ecluse::cli
