// Committing a stage's outcome: state store first (the commit point), then the journal.
#include <ecluse/core/fault.hpp>
#include <ecluse/core/interrupt.hpp>
#include <ecluse/pipeline/stage_runner.hpp>

namespace ecluse::pipeline {

bool is_rejection(const Error& e) {
  return e.code == Errc::rejected || e.code == Errc::resource_exhausted;
}

Status check_not_interrupted(const std::string& stage, const std::string& id) {
  if (!interrupt::requested()) {
    return {};
  }
  return fail(reason::k_pipeline_interrupted,
              "stopped before " + stage + " (a stop was asked for): drop " + id.substr(0, 12)
                  + " resumes from here on the next run",
              id);
}

std::vector<std::pair<std::string, json::Json>> commit_events(const store::DropRecord& drop,
                                                              const store::StageRecord& result) {
  const auto& stage = result.stage;
  if (result.state_after == DropState::rejected) {
    const auto why = drop.rejection.value_or(store::Rejection{stage, "", "", ""});
    json::Json details{{"reason", why.reason}, {"message", why.message}, {"item", why.item}};
    if (stage == "intake") {
      details["source"] = drop.source;
    }
    return {{stage + ".rejected", std::move(details)}};
  }
  if (stage == "intake") {
    return {{"intake.received",
             {{"source", drop.source},
              {"vendor", drop.vendor},
              {"product", drop.product},
              {"version", drop.version},
              {"channel", drop.channel}}}};
  }
  if (stage == "promote") {
    return {{"promote.promoted", result.evidence}};
  }
  std::vector<std::pair<std::string, json::Json>> out{
      {stage + ".done", {{"state", to_string(result.state_after)}}}};
  if (stage == "sign") {
    out.emplace_back("sign.signed",
                     json::Json{{"release_key", result.evidence.value("release_key", "")},
                                {"summary", result.evidence.value("summary", json::Json())}});
  }
  return out;
}

Status journal_commit(const Session& s,
                      const std::string& id,
                      const std::vector<std::pair<std::string, json::Json>>& events) {
  for (const auto& [event, details] : events) {
    ECLUSE_CHECK(s.record(id, event, details));
  }
  return s.state().mark_journaled(id);
}

Status commit_run(const Session& s,
                  const std::string& id,
                  const StageSpec& spec,
                  const Error* rejection,
                  const json::Json& evidence) {
  const auto now = format_utc(s.clock().now());
  fault_point(spec.name + ".ran");
  const store::StageRecord result{
      spec.name, rejection == nullptr ? spec.to : DropState::rejected, evidence, now};
  store::DropRecord drop;
  if (rejection == nullptr) {
    ECLUSE_CHECK(s.state().commit_stage(id, spec.from, result));
  } else {
    drop.rejection =
        store::Rejection{spec.name, rejection->reason, rejection->message, rejection->item};
    ECLUSE_CHECK(s.state().reject(id, spec.from, *drop.rejection, result));
  }
  fault_point(spec.name + ".committed");
  return journal_commit(s, id, commit_events(drop, result));
}

}  // namespace ecluse::pipeline
