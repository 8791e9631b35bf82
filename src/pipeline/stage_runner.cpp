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

Status commit_run(const Session& s,
                  const std::string& id,
                  const StageSpec& spec,
                  const Error* rejection,
                  const json::Json& evidence) {
  const auto now = format_utc(s.clock().now());
  fault_point(spec.name + ".ran");
  if (rejection == nullptr) {
    ECLUSE_CHECK(s.state().commit_stage(
        id, spec.from, store::StageRecord{spec.name, spec.to, evidence, now}));
    fault_point(spec.name + ".committed");
    return s.record(id, spec.name + ".done", {{"state", to_string(spec.to)}});
  }
  const store::Rejection why{spec.name, rejection->reason, rejection->message, rejection->item};
  ECLUSE_CHECK(s.state().reject(
      id, spec.from, why, store::StageRecord{spec.name, DropState::rejected, evidence, now}));
  return s.record(id,
                  spec.name + ".rejected",
                  {{"reason", why.reason}, {"message", why.message}, {"item", why.item}});
}

}  // namespace ecluse::pipeline
