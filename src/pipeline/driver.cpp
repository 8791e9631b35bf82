// The pipeline driver: a linear list of stages, each committed before the next starts.
#include <ecluse/core/fs.hpp>
#include <ecluse/intake/intake.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/pipeline/stage_runner.hpp>

namespace ecluse::pipeline {

namespace {

store::DropRecord record_of(const intake::DropIdentity& who, DropState state) {
  store::DropRecord d;
  d.id = who.id;
  d.vendor = who.vendor;
  d.product = who.product;
  d.version = who.version;
  d.channel = who.channel;
  d.source = who.source;
  d.state = state;
  return d;
}

// Intake creates the drop's record: received with its evidence, or rejected with its reason.
Status commit_intake(const Session& s, const intake::IntakeResult& in) {
  const auto now = format_utc(s.clock().now());
  auto drop = record_of(in.who, in.staged ? DropState::received : DropState::rejected);
  if (!in.staged) {
    const auto& e = in.staged.error();
    drop.rejection = store::Rejection{"intake", e.reason, e.message, e.item};
  }
  ECLUSE_CHECK(
      s.state().create_drop(drop, store::StageRecord{"intake", drop.state, in.evidence, now}));
  if (drop.rejection) {
    return s.record(in.who.id,
                    "intake.rejected",
                    {{"source", in.who.source},
                     {"reason", drop.rejection->reason},
                     {"message", drop.rejection->message},
                     {"item", drop.rejection->item}});
  }
  return s.record(in.who.id,
                  "intake.received",
                  {{"source", in.who.source},
                   {"vendor", in.who.vendor},
                   {"product", in.who.product},
                   {"version", in.who.version},
                   {"channel", in.who.channel}});
}

Result<IngestOutcome> outcome(const Session& s, const std::string& id, bool already_known) {
  ECLUSE_TRY(record, s.state().get_drop(id));
  if (!record) {
    return fail(reason::k_state_unknown_drop, "drop " + id + " vanished from the state store", id);
  }
  return IngestOutcome{std::move(*record), already_known};
}

// The stages after intake, from whatever state the drop was left in. Each later stage joins
// this list through run_stage(), which reloads committed stages instead of re-running them.
Result<IngestOutcome> run_after_intake(const Session& s,
                                       const intake::StagedDrop& staged,
                                       bool already_known) {
  return outcome(s, staged.id(), already_known);
}

}  // namespace

Result<IngestOutcome> ingest(const Session& s,
                             const std::filesystem::path& drop_dir,
                             const store::ProgressFn& progress) {
  (void)s.objects().sweep_stale_temporaries();  // leftovers of writers killed mid-copy
  auto candidate = intake::open_drop(drop_dir, s.ws().config().limits);
  const intake::Context ictx{s.ws(), s.objects(), s.clock(), progress};
  // One intake per drop at a time: a second process waits, then finds the drop known.
  ECLUSE_CHECK(fs::make_dirs(s.ws().locks_dir(), reason::k_workspace_io));
  ECLUSE_TRY(lock,
             fs::lock_exclusive(s.ws().locks_dir() / ("intake-" + candidate.who.id + ".lock"),
                                reason::k_workspace_io));
  ECLUSE_TRY(known, s.state().get_drop(candidate.who.id));
  if (known) {
    // Seen before: committed stages are not re-run; a rejected drop stays rejected.
    if (known->state == DropState::rejected) {
      return IngestOutcome{std::move(*known), true};
    }
    ECLUSE_TRY(staged, intake::reload(ictx, known->id, known->source));
    return run_after_intake(s, staged, true);
  }

  // intake: copy the drop into quarantine, check it against drop.json, create its record
  auto in = intake::intake(ictx, std::move(candidate));
  if (!in.staged && !is_rejection(in.staged.error())) {
    return fail(in.staged.error());
  }
  if (auto committed = commit_intake(s, in); !committed) {
    if (committed.error().reason != reason::k_state_conflict.code) {
      return fail(committed.error());
    }
    // Another process ingested the same drop.json first: its record stands.
    return outcome(s, in.who.id, true);
  }
  if (!in.staged) {
    return outcome(s, in.who.id, false);
  }
  return run_after_intake(s, *in.staged, false);
}

}  // namespace ecluse::pipeline
