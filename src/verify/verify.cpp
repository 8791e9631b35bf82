// The verify stage: trust for the drop's vendor, the signature over drop.json's exact bytes,
// then the version checks. Nothing of the payload is read here.
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/crypto/signature.hpp>
#include <ecluse/trust/trust_store.hpp>
#include <ecluse/verify/verify.hpp>

#include "versions.hpp"

namespace ecluse::verify {

struct VerifiedDropFactory {
  static VerifiedDrop make(intake::StagedDrop staged, json::Json evidence) {
    return {std::move(staged), std::move(evidence)};
  }
};

namespace {

// The signature checked against the vendor's pinned trust; its report as evidence.
Result<json::Json> check_signature(const Context& ctx,
                                   const intake::StagedDrop& staged,
                                   const trust::VendorTrust& trust) {
  const auto& sig = staged.signature();
  if (!sig) {
    return fail(reason::k_sig_missing, "the drop has no drop.json.sig", "drop.json.sig");
  }
  const auto& policy = ctx.ws.config().signature_policy;
  if (trust.kind == trust::Kind::raw_key) {
    ECLUSE_TRY(report, crypto::verify_raw(*sig, staged.drop_json(), *trust.raw_key, policy));
    return report.to_json();
  }
  ECLUSE_TRY(report,
             crypto::verify_cms(*sig, staged.drop_json(), trust.anchors, policy, ctx.clock.now()));
  return report.to_json();
}

json::Json base_evidence(const Context& ctx, const intake::StagedDrop& staged) {
  json::Json e{{"vendor", staged.identity().vendor},
               {"drop_json_sha256", staged.id()},
               {"policy", ctx.ws.config().signature_policy.to_json()},
               {"checked_at", format_utc(ctx.clock.now())}};
  if (staged.signature()) {
    auto d = crypto::sha256(*staged.signature());
    e["signature_file"] = {{"sha256", d ? d->hex() : ""}, {"size", staged.signature()->size()}};
  }
  return e;
}

}  // namespace

VerifyRun verify(const Context& ctx, const intake::StagedDrop& staged) {
  VerifyRun run{fail(reason::k_internal, "verify did not run"), base_evidence(ctx, staged)};
  const auto& vendor = staged.identity().vendor;
  auto trust = trust::TrustStore(ctx.ws).load(vendor);
  if (!trust || !*trust) {
    run.out = trust ? fail(reason::k_verify_unknown_vendor,
                           "no trust is pinned for vendor '" + vendor
                               + "' (ecluse trust add-vendor " + vendor + " --root FILE.pem)",
                           vendor)
                    : fail(trust.error());
    return run;
  }
  run.evidence["trust"] = {{"kind", trust::to_string((*trust)->kind)},
                           {"updated_at", (*trust)->updated_at}};
  auto signature = check_signature(ctx, staged, **trust);
  if (!signature) {
    run.out = fail(signature.error());
    return run;
  }
  run.evidence["signature"] = std::move(*signature);
  auto version = detail::check_version(ctx, staged);
  if (!version) {
    run.out = fail(version.error());
    return run;
  }
  run.evidence["version"] = std::move(*version);
  run.out = VerifiedDropFactory::make(staged, run.evidence);
  return run;
}

VerifiedDrop reload(intake::StagedDrop staged, json::Json evidence) {
  return VerifiedDropFactory::make(std::move(staged), std::move(evidence));
}

std::vector<store::Finding> findings_of(const json::Json& evidence) {
  std::vector<store::Finding> out;
  const auto sig = evidence.value("signature", json::Json::object());
  for (const auto& subject : sig.value("crl_gaps", json::Json::array())) {
    if (subject.is_string()) {
      out.push_back(store::Finding{"verify",
                                   std::string(reason::k_verify_crl_gap.code),
                                   "info",
                                   subject.get<std::string>(),
                                   "no pinned CRL covers this certificate: revocation unchecked"});
    }
  }
  const auto version = evidence.value("version", json::Json::object());
  const auto allowance = version.value("downgrade_allowance", json::Json());
  if (allowance.is_object()) {
    out.push_back(store::Finding{"verify",
                                 std::string(reason::k_verify_downgrade_used.code),
                                 "medium",
                                 allowance.value("version", std::string()),
                                 "downgrade allowed by " + allowance.value("actor", std::string())
                                     + ": " + allowance.value("reason", std::string())});
  }
  return out;
}

Status recheck_signature(const Context& ctx, const intake::StagedDrop& staged) {
  const auto& vendor = staged.identity().vendor;
  ECLUSE_TRY(trust, trust::TrustStore(ctx.ws).load(vendor));
  if (!trust) {
    return fail(reason::k_verify_unknown_vendor,
                "no trust is pinned for vendor '" + vendor + "' any more",
                vendor);
  }
  ECLUSE_TRY(report, check_signature(ctx, staged, *trust));
  (void)report;
  return {};
}

}  // namespace ecluse::verify
