// Committing a stage's outcome: state store first (the commit point), then the journal.
#include <ecluse/pipeline/stage_runner.hpp>

namespace ecluse::pipeline {

bool is_rejection(const Error& e) {
  return e.code == Errc::rejected || e.code == Errc::resource_exhausted;
}

Status commit_run(const Session& s,
                  const std::string& id,
                  const StageSpec& spec,
                  const Error* rejection,
                  const json::Json& evidence) {
  const auto now = format_utc(s.clock().now());
  if (rejection == nullptr) {
    ECLUSE_CHECK(s.state().commit_stage(
        id, spec.from, store::StageRecord{spec.name, spec.to, evidence, now}));
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
