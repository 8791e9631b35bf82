// ecluse trust add-vendor | list | remove: the vendor trust pinned in the workspace.
#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/trust/trust_store.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct TrustOptions {
  std::string vendor;
  std::vector<std::string> roots;
  std::vector<std::string> intermediates;
  std::vector<std::string> crls;
  std::string raw_key;
  std::string fingerprint;
  bool json = false;
};

Result<std::vector<trust::Material>> read_all(const std::vector<std::string>& files) {
  std::vector<trust::Material> out;
  for (const auto& f : files) {
    ECLUSE_TRY(bytes,
               fs::read_file_bounded(
                   f, 1U << 20U, reason::k_trust_bad_material, reason::k_trust_bad_material));
    out.push_back({f, std::move(bytes)});
  }
  return out;
}

Result<json::Json> add_vendor(const pipeline::Session& s, const TrustOptions& o) {
  trust::TrustStore store(s.ws());
  if (!o.raw_key.empty()) {
    if (!o.roots.empty() || !o.intermediates.empty() || !o.crls.empty()) {
      return fail(reason::k_usage, "--raw-key excludes --root, --intermediate and --crl");
    }
    ECLUSE_TRY(key, read_all({o.raw_key}));
    return store.add_raw_key(o.vendor, key.front(), s.clock().now());
  }
  trust::X509Additions add;
  ECLUSE_TRY(roots, read_all(o.roots));
  ECLUSE_TRY(intermediates, read_all(o.intermediates));
  ECLUSE_TRY(crls, read_all(o.crls));
  add.roots = std::move(roots);
  add.intermediates = std::move(intermediates);
  add.crls = std::move(crls);
  if (add.roots.empty() && add.intermediates.empty() && add.crls.empty()) {
    return fail(reason::k_usage, "give --root FILE.pem (with --intermediate, --crl) or --raw-key");
  }
  return store.add_x509(o.vendor, add, s.clock().now());
}

// Runs a trust change, journals it and prints what changed.
template <class Change>
int run_change(const GlobalOptions& g, const TrustOptions& o, const char* event, Change change) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto done = change(*session, o);
  if (!done) {
    return report(done.error(), o.json);
  }
  if (auto ok = session->record("", event, *done); !ok) {
    return report(ok.error(), o.json);
  }
  out(o.json
          ? json::dump_pretty(*done) + "\n"
          : std::string(event) + " " + printable(o.vendor) + ": " + json::dump_line(*done) + "\n");
  return k_exit_ok;
}

std::string cert_line(const char* what, const crypto::CertInfo& c) {
  return std::string("  ") + what + " " + c.sha256.substr(0, 16) + "  " + printable(c.subject)
         + "  valid " + format_utc(c.not_before) + " .. " + format_utc(c.not_after) + "\n";
}

std::string vendor_text(const trust::VendorTrust& t) {
  std::string s = printable(t.vendor) + " (" + std::string(trust::to_string(t.kind)) + ", updated "
                  + t.updated_at + ")\n";
  for (const auto& c : t.anchors.roots) {
    s += cert_line("root        ", c.info());
  }
  for (const auto& c : t.anchors.intermediates) {
    s += cert_line("intermediate", c.info());
  }
  for (const auto& c : t.anchors.crls) {
    const auto& i = c.info();
    s += "  crl          " + i.sha256.substr(0, 16) + "  " + printable(i.issuer) + "  "
         + std::to_string(i.revoked) + " revoked, next update "
         + (i.next_update ? format_utc(*i.next_update) : std::string("none")) + "\n";
  }
  if (t.raw_key) {
    s += "  raw key      " + t.raw_key->key_id() + "  " + t.raw_key->info().type + " "
         + t.raw_key->info().curve + "\n";
  }
  return s;
}

int run_list(const GlobalOptions& g, const TrustOptions& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto vendors = trust::TrustStore(session->ws()).list();
  if (!vendors) {
    return report(vendors.error(), o.json);
  }
  if (o.json) {
    auto list = json::Json::array();
    for (const auto& v : *vendors) {
      list.push_back(v.to_json());
    }
    out(json::dump_pretty(json::Json{{"vendors", list}}) + "\n");
    return k_exit_ok;
  }
  std::string text;
  for (const auto& v : *vendors) {
    text += vendor_text(v);
  }
  out(text.empty() ? "no vendor trust pinned yet (ecluse trust add-vendor VENDOR --root FILE.pem)\n"
                   : text);
  return k_exit_ok;
}

void add_vendor_command(CLI::App& trust, const GlobalOptions& g, Action& action) {
  auto o = std::make_shared<TrustOptions>();
  auto* cmd = trust.add_subcommand(
      "add-vendor", "pin a vendor's roots (with intermediates, CRLs) or its raw public key");
  cmd->add_option("VENDOR", o->vendor, "vendor name, as in drop.json")->required();
  cmd->add_option("--root", o->roots, "self-signed root certificate(s), PEM or DER (repeatable)");
  cmd->add_option(
      "--intermediate", o->intermediates, "intermediate CA certificate(s) (repeatable)");
  cmd->add_option("--crl",
                  o->crls,
                  "CRL issued by a root or intermediate (repeatable; replaces "
                  "an older CRL of the same issuer)");
  cmd->add_option("--raw-key",
                  o->raw_key,
                  "Ed25519 or ECDSA P-256 public key (PEM) of a vendor "
                  "that signs without X.509");
  cmd->add_flag("--json", o->json, "print the change as JSON");
  cmd->callback([o, &g, &action] {
    action = [o, &g] {
      return run_change(g, *o, "trust.add_vendor", add_vendor);
    };
  });
}

void remove_command(CLI::App& trust, const GlobalOptions& g, Action& action) {
  auto o = std::make_shared<TrustOptions>();
  auto* cmd = trust.add_subcommand(
      "remove", "unpin a vendor, or one root, intermediate, CRL or key by fingerprint");
  cmd->add_option("VENDOR", o->vendor, "vendor name")->required();
  cmd->add_option("--fingerprint", o->fingerprint, "SHA-256 fingerprint (or key id) to remove");
  cmd->add_flag("--json", o->json, "print the change as JSON");
  cmd->callback([o, &g, &action] {
    action = [o, &g] {
      return run_change(
          g, *o, "trust.remove", [](const pipeline::Session& s, const TrustOptions& t) {
            return trust::TrustStore(s.ws()).remove(t.vendor, t.fingerprint, s.clock().now());
          });
    };
  });
}

}  // namespace

void add_trust(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto* trust = app.add_subcommand("trust", "manage the vendor trust pinned in the workspace");
  trust->require_subcommand(1);
  add_vendor_command(*trust, g, action);
  remove_command(*trust, g, action);
  auto o = std::make_shared<TrustOptions>();
  auto* list = trust->add_subcommand("list", "list pinned vendors, roots, CRLs and keys");
  list->add_flag("--json", o->json, "print as JSON");
  list->callback([o, &g, &action] {
    action = [o, &g] {
      return run_list(g, *o);
    };
  });
}

}  // namespace ecluse::cli
