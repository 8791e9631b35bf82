// The driver's diff and policy steps: compare with the baseline, then one verdict by the policy.
#include "verdict.hpp"

#include <ecluse/pipeline/review.hpp>
#include <ecluse/pipeline/stage_runner.hpp>

#include <algorithm>

namespace ecluse::pipeline::detail {

namespace {

const StageSpec k_diff{"diff", DropState::unpacked, DropState::diffed};
const StageSpec k_test{"test", DropState::diffed, DropState::tested};

Result<store::DropRecord> record(const Session& s, const std::string& id) {
  ECLUSE_TRY(d, s.state().get_drop(id));
  if (!d) {
    return fail(reason::k_state_unknown_drop, "drop " + id + " vanished from the state store", id);
  }
  return std::move(*d);
}

policy::Metrics metrics_of(const json::Json& evidence) {
  const auto summary = evidence.value("summary", json::Json::object());
  return policy::Metrics{evidence.value("baseline", json::Json()).is_object(),
                         summary.value("changed_share", 0.0),
                         summary.value("size_growth", 0.0)};
}

// The rejection a verdict records: the deciding reason's code, naming its item.
Error rejection_of(const policy::Verdict& v) {
  const auto* why = v.deciding();
  const auto others = v.reasons.size() - 1;
  return Error{Errc::rejected,
               why->code,
               (why->item.empty() ? std::string() : why->item + ": ") + why->detail
                   + (others > 0 ? " (and " + std::to_string(others) + " more reasons)" : ""),
               why->item};
}

Status commit_verdict(const Session& s,
                      const store::DropRecord& d,
                      const policy::Verdict& v,
                      const json::Json& evidence) {
  if (v.decision == policy::Decision::reject) {
    const auto why = rejection_of(v);
    return commit_run(s, d.id, StageSpec{"policy", d.state, DropState::rejected}, &why, evidence);
  }
  const auto to = v.decision == policy::Decision::hold ? DropState::held : DropState::approved;
  return commit_run(s, d.id, StageSpec{"policy", d.state, to}, nullptr, evidence);
}

}  // namespace

Result<json::Json> stage_evidence(const Session& s,
                                  const std::string& id,
                                  const std::string& stage) {
  ECLUSE_TRY(results, s.state().stage_results(id));
  // The latest result of that stage.
  const auto it = std::find_if(results.rbegin(), results.rend(), [&](const store::StageRecord& r) {
    return r.stage == stage && r.state_after != DropState::rejected;
  });
  if (it != results.rend()) {
    return it->evidence;
  }
  return fail(reason::k_state_illegal_transition, "drop " + id + " has no committed " + stage, id);
}

Result<std::optional<diff::DiffedDrop>> diff_stage(const Session& s,
                                                   const unpack::UnpackedDrop& unpacked,
                                                   const policy::LoadedPolicy& policy,
                                                   const std::string& baseline,
                                                   bool& ran) {
  const diff::Context dctx{s.ws(), s.state(), s.objects(), policy.policy.endpoint_allow};
  return run_stage<diff::DiffedDrop>(
      s,
      unpacked.id(),
      k_diff,
      [&] {
        ran = true;
        auto self = record(s, unpacked.id());
        auto base =
            self ? diff::find_baseline(dctx, *self, baseline) : tl::unexpected<Error>(self.error());
        if (!base) {
          return StageRun<diff::DiffedDrop>{fail(base.error()), json::Json::object()};
        }
        auto r = diff::compare(dctx, unpacked, *base);
        if (r.out && !r.findings.empty()) {
          if (auto stored = s.state().add_findings(unpacked.id(), r.findings); !stored) {
            return StageRun<diff::DiffedDrop>{fail(stored.error()), std::move(r.evidence)};
          }
        }
        return StageRun<diff::DiffedDrop>{std::move(r.out), std::move(r.evidence)};
      },
      [&]() -> Result<diff::DiffedDrop> {
        ECLUSE_TRY(evidence, stage_evidence(s, unpacked.id(), k_diff.name));
        return diff::reload(dctx, unpacked, std::move(evidence));
      });
}

Result<std::optional<sandbox::TestedDrop>> test_stage(const Session& s,
                                                      const diff::DiffedDrop& diffed,
                                                      const policy::LoadedPolicy& policy,
                                                      bool& ran) {
  const auto& actions = policy.policy.actions;
  const auto not_run = actions.find(std::string(reason::k_test_not_run.code));
  const sandbox::Context tctx{
      s.ws(), s.objects(), not_run != actions.end() && not_run->second == policy::Action::allow};
  return run_stage<sandbox::TestedDrop>(
      s,
      diffed.id(),
      k_test,
      [&] {
        ran = true;
        auto r = sandbox::run_suite(tctx, diffed);
        if (r.out && !r.findings.empty()) {
          if (auto stored = s.state().add_findings(diffed.id(), r.findings); !stored) {
            return StageRun<sandbox::TestedDrop>{fail(stored.error()), std::move(r.evidence)};
          }
        }
        return StageRun<sandbox::TestedDrop>{std::move(r.out), std::move(r.evidence)};
      },
      [&]() -> Result<sandbox::TestedDrop> {
        ECLUSE_TRY(evidence, stage_evidence(s, diffed.id(), k_test.name));
        return sandbox::reload(tctx, diffed, std::move(evidence));
      });
}

Status policy_stage(const Session& s,
                    const sandbox::TestedDrop& tested,
                    const policy::LoadedPolicy& policy,
                    bool& ran) {
  const auto& diffed = tested.diffed();
  ECLUSE_TRY(d, record(s, tested.id()));
  if (d.state == DropState::tested) {
    ECLUSE_CHECK(check_not_interrupted("policy", d.id));
    ECLUSE_CHECK(s.spend_stage("policy", d.id));
    ran = true;
    ECLUSE_TRY(findings, s.state().findings(d.id));
    const auto v =
        policy::decide(findings, metrics_of(diffed.evidence()), policy.policy, d.channel);
    auto evidence = policy::to_json(v);
    evidence["policy"] = {{"file", policy::k_policy_file}, {"sha256", policy.sha256}};
    evidence["findings"] = findings.size();
    ECLUSE_CHECK(commit_verdict(s, d, v, evidence));
    ECLUSE_TRY(after, record(s, d.id));
    d = std::move(after);
  }
  return write_report(s, d);
}

}  // namespace ecluse::pipeline::detail
