// How the driver runs one stage so that it is resumable: a stage whose result is committed
// is reloaded, never re-run; a stage that runs commits its result and evidence (or the
// drop's rejection) in one state-store transaction before the next stage starts.
#pragma once

#include <ecluse/core/drop_state.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/pipeline/driver.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ecluse::pipeline {

struct StageSpec {
  std::string name;  // "verify", "unpack", …
  DropState from;    // the state the stage starts from
  DropState to;      // the state it commits on success
};

// What a stage's run function returns: its typed output or why it failed, with evidence.
template <class Out>
struct StageRun {
  Result<Out> out;
  json::Json evidence = json::Json::object();
};

// Is this error the drop's fault (a rejection) rather than a failure to evaluate it?
bool is_rejection(const Error& e);

// pipeline.interrupted when a stop was asked for (SIGTERM, SIGINT, a lost lease): no stage
// starts after that, so the drop resumes from its last committed stage on the next run.
Status check_not_interrupted(const std::string& stage, const std::string& id);

// The journal events of a committed stage result: STAGE.done (sign also sign.signed with the
// release key and summary) or STAGE.rejected; intake.received or intake.rejected; and
// promote.promoted. `drop` gives what the result does not hold (source, rejection).
std::vector<std::pair<std::string, json::Json>> commit_events(const store::DropRecord& drop,
                                                              const store::StageRecord& result);

// Journals events of a commit of drop id, then clears the drop's journal outbox.
Status journal_commit(const Session& s,
                      const std::string& id,
                      const std::vector<std::pair<std::string, json::Json>>& events);

// Writes the journal entries of drop id's commits that a process committed but did not live
// to journal (each marked "recovered", with its commit time; one already in the journal is not
// written again). Call while holding the drop's lease.
Status recover_journal(const Session& s, const std::string& id);

// Commits a stage's success or the drop's rejection, and journals it.
Status commit_run(const Session& s,
                  const std::string& id,
                  const StageSpec& spec,
                  const Error* rejection,
                  const json::Json& evidence);

// Runs a stage for drop `id`: reload() when the drop is already past spec.to's rank, run() when
// it is in spec.from. nullopt when the drop is (or just became) rejected.
template <class Out, class RunFn, class ReloadFn>
Result<std::optional<Out>> run_stage(const Session& s,
                                     const std::string& id,
                                     const StageSpec& spec,
                                     RunFn&& run,
                                     ReloadFn&& reload) {
  ECLUSE_TRY(record, s.state().get_drop(id));
  if (!record || record->state == DropState::rejected) {
    return std::optional<Out>{};
  }
  if (forward_rank(record->state) >= forward_rank(spec.to)) {
    ECLUSE_TRY(reloaded, reload());
    return std::optional<Out>{std::move(reloaded)};
  }
  if (record->state != spec.from) {
    return fail(reason::k_state_illegal_transition,
                "drop " + id + " is " + std::string(to_string(record->state)) + ", stage "
                    + spec.name + " needs " + std::string(to_string(spec.from)),
                id);
  }
  ECLUSE_CHECK(check_not_interrupted(spec.name, id));
  ECLUSE_CHECK(s.spend_stage(spec.name, id));
  StageRun<Out> result = run();
  if (!result.out && !is_rejection(result.out.error())) {
    return fail(result.out.error());
  }
  ECLUSE_CHECK(
      commit_run(s, id, spec, result.out ? nullptr : &result.out.error(), result.evidence));
  if (!result.out) {
    return std::optional<Out>{};
  }
  return std::optional<Out>{std::move(*result.out)};
}

}  // namespace ecluse::pipeline
