// The per-channel checks of a re-verification.
#include "checks.hpp"

#include <ecluse/crypto/dsse.hpp>
#include <ecluse/crypto/signature.hpp>
#include <ecluse/intake/intake.hpp>
#include <ecluse/tuf/metadata.hpp>
#include <ecluse/verify/verify.hpp>

#include <set>

namespace ecluse::reverify::detail {

std::string release_of(const std::string& path) {
  for (const char* top : {"targets/", "attestations/", "releases/"}) {
    if (!path.starts_with(top)) {
      continue;
    }
    const auto rest = path.substr(std::string_view(top).size());
    const auto a = rest.find('/');
    const auto b = a == std::string::npos ? a : rest.find('/', a + 1);
    return b == std::string::npos ? std::string() : rest.substr(0, b);
  }
  // A target path of targets.json ("PRODUCT/VERSION/NAME").
  const auto a = path.find('/');
  const auto b = a == std::string::npos ? a : path.find('/', a + 1);
  return b == std::string::npos || path.starts_with("metadata/") ? std::string()
                                                                 : path.substr(0, b);
}

Result<bool> check_history(const ChannelCheck& c, const std::optional<repo::Oid>& head) {
  ECLUSE_TRY(remembered, c.s.state().remembered_head(c.channel));
  if (!remembered) {
    return true;
  }
  if (!head) {
    c.add("",
          reason::k_reverify_history_rewritten.code,
          "branch main is gone; it was at " + remembered->head + " on " + remembered->recorded_at,
          "refs/heads/main");
    return false;
  }
  auto descends = c.repo.descends_from(*head, remembered->head);
  if (!descends || !*descends) {
    c.add("",
          reason::k_reverify_history_rewritten.code,
          "branch main is at " + *head + ", which does not descend from " + remembered->head
              + " (its head at the re-verification of " + remembered->recorded_at
              + "): history was rewritten or rolled back",
          "refs/heads/main");
    return false;
  }
  return true;
}

Result<promote::ChannelReport> check_content(const ChannelCheck& c, unsigned threads) {
  ECLUSE_TRY(head, c.repo.branch("main"));
  ECLUSE_TRY(tree, c.repo.read_tree(*head));
  promote::VerifyOptions vo;
  if (const auto it = tree.find("metadata/1.root.json"); it != tree.end()) {
    ECLUSE_TRY(root, c.repo.read_blob(it->second.blob));
    vo.trusted_root = std::move(root);
  }
  vo.now = c.at;
  vo.threads = threads;
  if (vo.trusted_root.empty()) {
    c.add("",
          reason::k_tuf_metadata_missing.code,
          "metadata/1.root.json is not in the tree",
          "metadata/1.root.json");
    return promote::ChannelReport{};
  }
  ECLUSE_TRY(report, promote::verify_channel(c.repo, vo));
  for (const auto& p : report.problems) {
    c.add(release_of(p.item), p.reason, p.message, p.item);
  }
  return report;
}

namespace {

// Which key of the list is this TUF key id? (nullptr: none)
const keys::KeyEntry* by_tuf_id(const keys::KeyList& list, const std::string& tuf_id) {
  for (const auto& e : list.keys) {
    if (auto id = tuf::key_id(e.public_key); id && *id == tuf_id) {
      return &e;
    }
  }
  return nullptr;
}

std::string standing_of(const keys::KeyEntry* e) {
  if (e == nullptr) {
    return "which the key list does not hold";
  }
  return "which the key list revokes (" + e->revoked + ": " + e->revoked_reason + ")";
}

// Every key the latest root.json gives a role: none may be revoked or unknown.
void check_roles(const ChannelCheck& c, const promote::ChannelState& st) {
  const auto it = st.metadata.find("root.json");
  if (it == st.metadata.end()) {
    return;  // reported by the content check
  }
  const auto doc = json::parse_strict(it->second);
  if (doc.failure != json::ParseFailure::none || !doc.value.is_object()) {
    return;
  }
  const auto roles =
      doc.value.value("signed", json::Json::object()).value("roles", json::Json::object());
  std::set<std::string> reported;
  for (const auto& [role, spec] : roles.items()) {
    for (const auto& id : spec.value("keyids", json::Json::array())) {
      if (!id.is_string() || reported.contains(id.get<std::string>())) {
        continue;
      }
      const auto* e = by_tuf_id(c.keylist, id.get<std::string>());
      if (e == nullptr || e->standing == keys::Standing::revoked) {
        reported.insert(id.get<std::string>());
        c.add("",
              reason::k_reverify_key_revoked.code,
              "the channel's TUF " + role + " role trusts key "
                  + id.get<std::string>().substr(0, 16) + ", " + standing_of(e),
              "metadata/root.json");
      }
    }
  }
}

// The keys that signed a release's verification summary: none may be revoked now.
void check_release_signers(const ChannelCheck& c,
                           const promote::ChannelState& st,
                           const promote::ReleaseRecord& rel) {
  const auto name = rel.product + "/" + rel.version;
  const auto path =
      promote::attestations_dir(rel.product, rel.version) + "/verification-summary.dsse.json";
  const auto it = st.tree.find(path);
  if (it == st.tree.end()) {
    return;  // reported by the content check
  }
  auto bytes = c.repo.read_blob(it->second.blob);
  auto env = bytes ? crypto::dsse::parse(*bytes, path)
                   : Result<crypto::dsse::Envelope>(tl::unexpected(bytes.error()));
  if (!env) {
    return;  // reported by the content check
  }
  for (const auto& sig : env->signatures) {
    const auto* e = c.keylist.find(sig.keyid);
    if (e == nullptr || e->standing == keys::Standing::revoked) {
      c.add(name,
            reason::k_reverify_key_revoked.code,
            name + " was signed by key " + sig.keyid.substr(0, 16) + ", " + standing_of(e),
            path);
    }
  }
}

}  // namespace

Status check_keys(const ChannelCheck& c, const promote::ChannelState& st) {
  check_roles(c, st);
  for (const auto& rel : st.releases) {
    if (!rel.withdrawn) {
      check_release_signers(c, st, rel);
    }
  }
  return {};
}

void check_cms(const ChannelCheck& c, const promote::ChannelState& st, const std::string& ca_pem) {
  auto roots = crypto::parse_certificates(ca_pem, reason::k_keys_no_ca, "keys/ca.pem");
  auto targets = tuf::current_targets(st.metadata);
  if (!targets) {
    return;  // reported by the content check
  }
  crypto::Anchors anchors;
  anchors.vendor = "operator";
  if (roots) {
    anchors.roots = std::move(*roots);
  }
  for (const auto& t : *targets) {
    const auto name = release_of(t.path);
    const auto ptr =
        t.custom.value("ecluse", json::Json::object()).value("signature", json::Json::object());
    const auto path = ptr.is_object() ? ptr.value("path", std::string()) : std::string();
    const auto it = st.tree.find(path);
    if (path.empty() || it == st.tree.end()) {
      continue;  // no signature is named (an imported release) or the content check reports it
    }
    auto p7s = c.repo.read_blob(it->second.blob);
    auto ok = !p7s ? Result<crypto::CmsReport>(tl::unexpected(p7s.error()))
              : anchors.roots.empty()
                  ? Result<crypto::CmsReport>(
                      fail(reason::k_keys_no_ca, "keys/ca.pem is missing or unreadable"))
                  : crypto::verify_cms_digest(
                      *p7s, t.sha256, anchors, c.s.ws().config().signature_policy, c.at);
    if (!ok) {
      c.add(name,
            reason::k_reverify_cms_invalid.code,
            "the operator CMS signature of " + t.path + " no longer verifies: " + ok.error().reason
                + ": " + ok.error().message,
            path);
    }
  }
}

void check_vendor(const ChannelCheck& c, const promote::ChannelState& st) {
  const intake::Context ictx{c.s.ws(), c.s.objects(), c.s.clock(), {}};
  const verify::Context vctx{c.s.ws(), c.s.state(), c.s.clock()};
  for (const auto& rel : st.releases) {
    if (rel.withdrawn) {
      continue;
    }
    const auto name = rel.product + "/" + rel.version;
    const auto drop = rel.release.value("drop", std::string());
    auto record = c.s.state().get_drop(drop);
    if (!record || !*record) {
      continue;  // promoted from another workspace (an import): its drop is not here
    }
    auto staged = intake::reload(ictx, drop, (*record)->source);
    auto ok =
        staged ? verify::recheck_signature(vctx, *staged) : Status(tl::unexpected(staged.error()));
    if (!ok) {
      c.add(name,
            reason::k_reverify_vendor_untrusted.code,
            "the vendor's signature of " + name + " (drop " + drop.substr(0, 12)
                + ") no longer verifies: " + ok.error().reason + ": " + ok.error().message,
            "drop.json.sig");
    }
  }
}

}  // namespace ecluse::reverify::detail
