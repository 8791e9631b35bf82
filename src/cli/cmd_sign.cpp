// ecluse sign DROP (the sign stage for an approved drop, e.g. once keys are set up) and
// ecluse verify-attestation ENVELOPE: checks an envelope with nothing but a key list.
#include <ecluse/attest/attest.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/keys/keyring.hpp>
#include <ecluse/pipeline/sign.hpp>
#include <ecluse/queue/queue.hpp>

#include <unistd.h>

#include <array>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct SignOptions {
  std::string drop;
  std::string envelope;
  std::vector<std::string> artifacts;
  std::string keys;
  bool json = false;
};

Result<std::string> file_sha256(const std::string& file) {
  ECLUSE_TRY(fd, fs::open_read_nofollow(file, reason::k_usage));
  ECLUSE_TRY(h, crypto::Sha256::create());
  std::array<char, 1U << 16U> buf{};
  for (;;) {
    const auto n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      return fail(reason::k_usage, fs::errno_message("cannot read", file, errno), file);
    }
    if (n == 0) {
      break;
    }
    ECLUSE_CHECK(h.update(std::string_view(buf.data(), static_cast<std::size_t>(n))));
  }
  ECLUSE_TRY(d, h.finish());
  return d.hex();
}

// The key list: --keys FILE (one version, checked against its own root keys) or the
// workspace's (its whole history checked).
Result<keys::KeyList> key_list(const GlobalOptions& g, const std::string& file) {
  if (file.empty()) {
    ECLUSE_TRY(ws, workspace::Workspace::open(workspace::resolve_dir(g.workspace)));
    ECLUSE_TRY(ring, keys::Keyring::open(ws.keys_dir()));
    if (ring.list().version == 0) {
      return fail(reason::k_keys_no_key, "the workspace has no key list: give --keys KEYLIST");
    }
    return ring.list();
  }
  ECLUSE_TRY(text,
             fs::read_file_bounded(
                 file, 1U << 20U, reason::k_keys_unreadable, reason::k_keys_bad_keylist));
  return keys::verify_keylist(text, nullptr, file);
}

json::Json verified_json(const attest::VerifiedAttestation& v,
                         const SignOptions& o,
                         const keys::KeyList& k) {
  auto signers = json::Json::array();
  for (const auto& s : v.signers) {
    signers.push_back({{"keyid", s.keyid}, {"role", s.role}, {"name", s.name}});
  }
  auto subjects = json::Json::array();
  for (const auto& s : v.statement.subjects) {
    subjects.push_back({{"name", s.name}, {"sha256", s.sha256}});
  }
  auto matched = json::Json::array();
  for (std::size_t i = 0; i < v.matched.size(); ++i) {
    matched.push_back({{"file", o.artifacts[i]},
                       {"subject", v.matched[i].name},
                       {"sha256", v.matched[i].sha256}});
  }
  json::Json out{{"ok", true},
                 {"envelope", o.envelope},
                 {"predicateType", v.statement.predicate_type},
                 {"signers", signers},
                 {"threshold", v.threshold},
                 {"revoked_signatures_ignored", v.revoked},
                 {"subjects", subjects},
                 {"artifacts", matched},
                 {"keylist_version", k.version}};
  if (v.statement.predicate.contains("verificationResult")) {
    out["verificationResult"] = v.statement.predicate.at("verificationResult");
  }
  return out;
}

std::string verified_text(const json::Json& j) {
  std::string t = "verified " + printable(j.at("envelope").get<std::string>()) + "\n  statement  "
                  + printable(j.at("predicateType").get<std::string>());
  if (j.contains("verificationResult")) {
    const auto& r = j.at("verificationResult");
    t += "  (" + printable(r.is_string() ? r.get<std::string>() : json::dump_line(r)) + ")";
  }
  t += "\n  signed by  " + std::to_string(j.at("signers").size()) + " distinct key(s), threshold "
       + std::to_string(j.at("threshold").get<std::size_t>()) + ":";
  for (const auto& s : j.at("signers")) {
    const auto role = s.at("role").get<std::string>();
    const auto name = s.at("name").get<std::string>();
    t += " " + s.at("keyid").get<std::string>().substr(0, 16) + " (" + role
         + (name == role ? std::string() : " " + printable(name)) + ")";
  }
  t += "\n  subjects   " + std::to_string(j.at("subjects").size()) + "\n";
  for (const auto& a : j.at("artifacts")) {
    t += "  artifact   " + printable(a.at("file").get<std::string>()) + " = subject "
         + printable(a.at("subject").get<std::string>()) + " (sha256 "
         + a.at("sha256").get<std::string>().substr(0, 16) + "…)\n";
  }
  return t;
}

int run_verify_attestation(const GlobalOptions& g, const SignOptions& o) {
  auto list = key_list(g, o.keys);
  if (!list) {
    return report(list.error(), o.json);
  }
  auto text = fs::read_file_bounded(o.envelope,
                                    crypto::dsse::k_max_envelope_bytes,
                                    reason::k_attest_bad_envelope,
                                    reason::k_attest_bad_envelope);
  if (!text) {
    return report(text.error(), o.json);
  }
  std::vector<attest::ArtifactDigest> digests;
  for (const auto& a : o.artifacts) {
    auto d = file_sha256(a);
    if (!d) {
      return report(d.error(), o.json);
    }
    digests.push_back({a, *d});
  }
  auto v = attest::verify_attestation(*text, *list, digests, o.envelope);
  if (!v) {
    return report(v.error(), o.json);
  }
  const auto j = verified_json(*v, o, *list);
  out(o.json ? json::dump_pretty(j) + "\n" : verified_text(j));
  return k_exit_ok;
}

int run_sign(const GlobalOptions& g, const SignOptions& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto d = find_drop(*session, o.drop);
  if (!d) {
    return report(d.error(), o.json);
  }
  auto after = pipeline::sign(*session, d->id);
  if (!after) {
    return report(after.error(), o.json);
  }
  if (after->state != DropState::signed_off && after->state != DropState::promoted) {
    return report(
        Error::from(reason::k_state_illegal_transition,
                    "drop " + d->id.substr(0, 12) + " is " + std::string(to_string(after->state))
                        + ": only approved drops are signed",
                    d->id),
        o.json);
  }
  // A drop of the job queue (held, approved, then signed here) goes on to its channel there.
  auto queued = queue::continue_reviewed(*session, d->id);
  if (!queued) {
    return report(queued.error(), o.json);
  }
  auto j = drop_json(*after);
  j["queued"] = queued_json(*queued);
  out(o.json ? json::dump_pretty(j) + "\n"
             : "signed    " + after->id.substr(0, 12) + "  " + drop_name(*after) + "  ("
                   + (session->ws().drops_dir() / after->id / "attestations").string() + ")\n"
                   + queued_line(*queued));
  return k_exit_ok;
}

}  // namespace

void add_sign(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto o = std::make_shared<SignOptions>();
  auto* sign = app.add_subcommand("sign", "sign an approved drop with the operator's keys");
  sign->add_option("drop", o->drop, "drop id (prefix) or VENDOR/PRODUCT/VERSION")->required();
  sign->add_flag("--json", o->json, "print as JSON");
  sign->callback([o, &g, &action] {
    action = [o, &g] {
      return run_sign(g, *o);
    };
  });

  auto* va = app.add_subcommand(
      "verify-attestation",
      "check a DSSE envelope: signatures, threshold, revocations, the Statement, artifact digests");
  va->add_option("envelope", o->envelope, "the .dsse.json file")->required();
  va->add_option("--artifact", o->artifacts, "a file whose SHA-256 must be a subject (repeatable)");
  va->add_option("--keys", o->keys, "a key list (keys export-public); default: the workspace's");
  va->add_flag("--json", o->json, "print as JSON");
  va->callback([o, &g, &action] {
    action = [o, &g] {
      return run_verify_attestation(g, *o);
    };
  });
}

}  // namespace ecluse::cli
