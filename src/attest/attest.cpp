// The sign stage: one Statement per committed stage, the verification summary over them, and
// a CMS signature per artifact. Invariant: each Statement is serialised once and those bytes
// are signed and written; the evidence records the SHA-256 of every file as written.
#include <ecluse/attest/attest.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/core/version.hpp>
#include <ecluse/crypto/cms_sign.hpp>
#include <ecluse/crypto/dsse.hpp>
#include <ecluse/crypto/sha256.hpp>

#include <array>

#include "files.hpp"

namespace ecluse::attest {

struct SignedFactory {
  static SignedRelease make(std::string id, json::Json evidence) {
    return {std::move(id), std::move(evidence)};
  }
};

namespace {

constexpr std::string_view k_verifier_id = "https://ecluse.dev/verifier/v1";
constexpr std::string_view k_summary_name = "verification-summary";

json::Json drop_of(const ApprovedFacts& f) {
  const auto& m = f.manifest;
  return {{"id", f.drop_id},
          {"vendor", m.vendor},
          {"product", m.product},
          {"version", m.version.text()},
          {"channel", m.channel},
          {"drop_json", {{"sha256", f.drop_id}}}};
}

Result<std::string> envelope_of(const Statement& st, const crypto::SigningKey& key) {
  const std::array<const crypto::SigningKey*, 1> keys{&key};
  ECLUSE_TRY(env,
             crypto::dsse::sign(std::string(crypto::dsse::k_in_toto_type), serialise(st), keys));
  return crypto::dsse::serialise(env);
}

// Signs one Statement and writes attestations/NAME.dsse.json; its entry in the evidence.
Result<json::Json> write_statement(const Context& ctx,
                                   const std::string& name,
                                   const Statement& st,
                                   const crypto::SigningKey& key) {
  ECLUSE_TRY(env, envelope_of(st, key));
  const auto rel = "attestations/" + name + ".dsse.json";
  ECLUSE_TRY(digest, detail::write_evidence_file(ctx.drop_dir, rel, env));
  return json::Json{{"name", name},
                    {"file", rel},
                    {"uri", name + ".dsse.json"},
                    {"sha256", digest},
                    {"predicateType", st.predicate_type}};
}

// Who approved: the approval stage's counted approvals (empty when the policy passed it).
json::Json approvers(const ApprovedFacts& f) {
  auto out = json::Json::array();
  for (const auto& st : f.stages) {
    if (st.name != "approval") {
      continue;
    }
    for (const auto& a : st.evidence.value("approvals", json::Json::array())) {
      out.push_back({{"engineer", a.value("engineer", "")}, {"keyid", a.value("keyid", "")}});
    }
  }
  return out;
}

json::Json vsa_predicate(const ApprovedFacts& f, const json::Json& inputs, const Context& ctx) {
  auto input_list = json::Json::array();
  for (const auto& in : inputs) {
    input_list.push_back({{"uri", in.at("uri")}, {"digest", {{"sha256", in.at("sha256")}}}});
  }
  return {{"verifier", {{"id", k_verifier_id}, {"version", {{"ecluse", k_ecluse_version}}}}},
          {"timeVerified", format_utc(ctx.now)},
          {"resourceUri", "urn:ecluse:drop:" + f.drop_id},
          {"policy", {{"uri", "policy.json"}, {"digest", {{"sha256", f.policy_sha256}}}}},
          {"inputAttestations", input_list},
          {"verificationResult", "PASSED"},
          {"verifiedLevels", json::Json::array({"ECLUSE_QUARANTINE_V1"})},
          {"slsaVersion", "1.0"},
          {"ecluse",
           {{"drop", drop_of(f)},
            {"vendor", {{"name", f.manifest.vendor}, {"signer", f.vendor_signer}}},
            {"verdict", f.verdict},
            {"approved_by", approvers(f)}}}};
}

Result<json::Json> sign_artifacts(const Context& ctx, const ApprovedFacts& f, const Signer& s) {
  auto out = json::Json::array();
  const std::vector<crypto::Certificate> chain{s.certificate.ca};
  for (const auto& a : f.manifest.artifacts) {
    ECLUSE_TRY(p7s,
               crypto::sign_cms_detached_file(
                   s.release, s.certificate.leaf, chain, ctx.objects.object_path(a.sha256)));
    const auto rel = "signatures/" + a.path + ".p7s";
    ECLUSE_TRY(digest, detail::write_evidence_file(ctx.drop_dir, rel, p7s));
    out.push_back(json::Json{{"artifact", a.path}, {"file", rel}, {"sha256", digest}});
  }
  return out;
}

}  // namespace

std::vector<Subject> subjects_of(const intake::DropManifest& m) {
  std::vector<Subject> out;
  for (const auto& a : m.artifacts) {
    out.push_back({a.path, a.sha256.hex()});
  }
  return out;
}

Result<SignedRelease> attest(const Context& ctx, const ApprovedFacts& facts, const Signer& signer) {
  const auto subjects = subjects_of(facts.manifest);
  auto inputs = json::Json::array();
  for (const auto& stage : facts.stages) {
    const Statement st{subjects,
                       stage_predicate_type(stage.name),
                       {{"drop", drop_of(facts)},
                        {"stage", stage.name},
                        {"committed_at", stage.committed_at},
                        {"evidence", stage.evidence}}};
    ECLUSE_TRY(entry, write_statement(ctx, stage.name, st, signer.release));
    inputs.push_back(std::move(entry));
  }
  const Statement summary{subjects, std::string(k_vsa_type), vsa_predicate(facts, inputs, ctx)};
  ECLUSE_TRY(vsa, write_statement(ctx, std::string(k_summary_name), summary, signer.release));
  ECLUSE_TRY(signatures, sign_artifacts(ctx, facts, signer));
  const auto& leaf = signer.certificate.leaf.info();
  json::Json evidence{{"release_key", signer.release.key_id()},
                      {"certificate",
                       {{"sha256", leaf.sha256},
                        {"subject", leaf.subject},
                        {"not_after", format_utc(leaf.not_after)}}},
                      {"ca",
                       {{"sha256", signer.certificate.ca.info().sha256},
                        {"subject", signer.certificate.ca.info().subject}}},
                      {"attestations", inputs},
                      {"summary", vsa},
                      {"signatures", signatures},
                      {"signed_at", format_utc(ctx.now)}};
  return SignedFactory::make(facts.drop_id, std::move(evidence));
}

Result<SignedRelease> reload(const Context& ctx, const std::string& id, json::Json evidence) {
  std::vector<json::Json> files;
  for (const char* list : {"attestations", "signatures"}) {
    for (const auto& f : evidence.value(list, json::Json::array())) {
      files.push_back(f);
    }
  }
  files.push_back(evidence.value("summary", json::Json::object()));
  for (const auto& f : files) {
    ECLUSE_CHECK(detail::check_evidence_file(
        ctx.drop_dir, f.value("file", std::string()), f.value("sha256", std::string())));
  }
  return SignedFactory::make(id, std::move(evidence));
}

}  // namespace ecluse::attest
