// The pipeline driver: a linear list of stages, each committed before the next starts.
#include <ecluse/core/fault.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/intake/intake.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/pipeline/gc.hpp>
#include <ecluse/pipeline/lease.hpp>
#include <ecluse/pipeline/sign.hpp>
#include <ecluse/pipeline/stage_runner.hpp>
#include <ecluse/unpack/unpack.hpp>
#include <ecluse/verify/verify.hpp>

#include "verdict.hpp"

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

store::StageRecord intake_result(const Session& s, const intake::IntakeResult& in) {
  return store::StageRecord{"intake",
                            in.staged ? DropState::received : DropState::rejected,
                            in.evidence,
                            format_utc(s.clock().now())};
}

std::optional<store::Rejection> intake_rejection(const intake::IntakeResult& in) {
  if (in.staged) {
    return std::nullopt;
  }
  const auto& e = in.staged.error();
  return store::Rejection{"intake", e.reason, e.message, e.item};
}

// Journals intake's verdict: intake.received, or intake.rejected with its reason.
Status journal_intake(const Session& s, const intake::IntakeResult& in) {
  fault_point("intake.committed");
  auto drop = record_of(in.who, in.staged ? DropState::received : DropState::rejected);
  drop.rejection = intake_rejection(in);
  return journal_commit(s, in.who.id, commit_events(drop, intake_result(s, in)));
}

// Intake creates the drop's record: received with its evidence, or rejected with its reason.
Status commit_intake(const Session& s, const intake::IntakeResult& in) {
  auto drop = record_of(in.who, in.staged ? DropState::received : DropState::rejected);
  drop.rejection = intake_rejection(in);
  ECLUSE_CHECK(s.state().create_drop(drop, intake_result(s, in)));
  return journal_intake(s, in);
}

Result<IngestOutcome> outcome(const Session& s, const std::string& id, bool already_known) {
  ECLUSE_TRY(record, s.state().get_drop(id));
  if (!record) {
    return fail(reason::k_state_unknown_drop, "drop " + id + " vanished from the state store", id);
  }
  return IngestOutcome{std::move(*record), already_known, std::nullopt};
}

const StageSpec k_verify{"verify", DropState::received, DropState::verified};
const StageSpec k_unpack{"unpack", DropState::verified, DropState::unpacked};

using detail::stage_evidence;

// A known drop with nothing left to run: intake.replay, pointing at the earlier drop.
Result<IngestOutcome> replay(const Session& s,
                             store::DropRecord earlier,
                             const std::string& source) {
  auto why = Error::from(reason::k_intake_replay,
                         "drop.json is byte-identical to drop " + earlier.id.substr(0, 12) + " ("
                             + std::string(to_string(earlier.state)) + ", first ingested "
                             + earlier.created_at + "): nothing re-run",
                         earlier.id);
  ECLUSE_CHECK(
      s.record(earlier.id,
               "intake.replay",
               {{"source", source}, {"of", earlier.id}, {"state", to_string(earlier.state)}}));
  return IngestOutcome{std::move(earlier), true, std::move(why)};
}

// The verify stage of a drop: run (ran = true) or reloaded; nullopt when rejected. Drops of
// one (vendor, product, channel) are verified one at a time: the version checks read the line
// and the verdict is committed before another drop of the line is checked.
Result<std::optional<verify::VerifiedDrop>> verify_stage(const Session& s,
                                                         const intake::StagedDrop& staged,
                                                         bool& ran) {
  const auto& who = staged.identity();
  ECLUSE_TRY(line_lock,
             fs::lock_exclusive(
                 s.ws().locks_dir()
                     / ("line-" + who.vendor + "-" + who.product + "-" + who.channel + ".lock"),
                 reason::k_workspace_io));
  const verify::Context vctx{s.ws(), s.state(), s.clock()};
  return run_stage<verify::VerifiedDrop>(
      s,
      staged.id(),
      k_verify,
      [&] {
        ran = true;
        auto r = verify::verify(vctx, staged);
        return StageRun<verify::VerifiedDrop>{std::move(r.out), std::move(r.evidence)};
      },
      [&]() -> Result<verify::VerifiedDrop> {
        ECLUSE_TRY(evidence, stage_evidence(s, staged.id(), k_verify.name));
        return verify::reload(staged, std::move(evidence));
      });
}

// The unpack stage of a verified drop: run (ran = true) or reloaded; nullopt when rejected.
// Its findings are stored with the drop before the verdict is committed.
Result<std::optional<unpack::UnpackedDrop>> unpack_stage(const Session& s,
                                                         const verify::VerifiedDrop& verified,
                                                         bool& ran) {
  const unpack::Context uctx{s.ws(), s.objects()};
  std::vector<store::Finding> findings;
  auto out = run_stage<unpack::UnpackedDrop>(
      s,
      verified.id(),
      k_unpack,
      [&] {
        ran = true;
        auto r = unpack::unpack(uctx, verified);
        findings = std::move(r.findings);
        if (!findings.empty()) {
          if (auto stored = s.state().add_findings(verified.id(), findings); !stored) {
            return StageRun<unpack::UnpackedDrop>{fail(stored.error()), std::move(r.evidence)};
          }
        }
        return StageRun<unpack::UnpackedDrop>{std::move(r.out), std::move(r.evidence)};
      },
      [&]() -> Result<unpack::UnpackedDrop> {
        ECLUSE_TRY(evidence, stage_evidence(s, verified.id(), k_unpack.name));
        return unpack::reload(uctx, verified, std::move(evidence));
      });
  return out;
}

// Journals the use of a downgrade allowance by a drop verify just accepted (ran), and stores
// what the policy will judge of the verification (CRL gaps, the downgrade): also when verify
// committed in an earlier run that crashed before storing them (the drop is still verified).
Status after_verify(const Session& s, const verify::VerifiedDrop& verified, bool ran) {
  if (!ran) {
    ECLUSE_TRY(record, s.state().get_drop(verified.id()));
    if (!record || record->state != DropState::verified) {
      return {};
    }
  }
  const auto version = verified.evidence().value("version", json::Json::object());
  if (ran && version.contains("downgrade_allowance")
      && version.at("downgrade_allowance").is_object()) {
    ECLUSE_CHECK(s.record(verified.id(), "verify.downgrade_used", version));
  }
  const auto findings = verify::findings_of(verified.evidence());
  return findings.empty() ? Status{} : s.state().add_findings(verified.id(), findings);
}

// Diff, test and verdict: the policy is read (and validated) before any runs, so a malformed
// policy evaluates nothing and leaves the drop where it was.
Status judge(const Session& s,
             const unpack::UnpackedDrop& unpacked,
             const IngestOptions& opts,
             bool& ran) {
  ECLUSE_TRY(policy, policy::load_policy(s.ws().root() / policy::k_policy_file));
  ECLUSE_TRY(diffed, detail::diff_stage(s, unpacked, policy, opts.baseline, ran));
  if (!diffed) {
    return {};
  }
  ECLUSE_TRY(tested, detail::test_stage(s, *diffed, policy, ran));
  if (!tested) {
    return {};
  }
  ECLUSE_CHECK(detail::policy_stage(s, *tested, policy, ran));
  // sign: an approved drop is signed with the operator's keys (a signed one is reloaded).
  ECLUSE_TRY(record, s.state().get_drop(tested->id()));
  if (record && forward_rank(record->state) >= forward_rank(DropState::approved)) {
    const bool was_approved = record->state == DropState::approved;
    ECLUSE_TRY(after, sign(s, record->id));
    ran = ran || (was_approved && after.state != DropState::approved);
  }
  return {};
}

// The stages after intake, from whatever state the drop was left in. Each later stage joins
// this list through run_stage(), which reloads committed stages instead of re-running them.
Status run_stages(const Session& s,
                  const intake::StagedDrop& staged,
                  const IngestOptions& opts,
                  bool& ran) {
  ECLUSE_TRY(verified, verify_stage(s, staged, ran));
  if (!verified) {
    return {};
  }
  ECLUSE_CHECK(after_verify(s, *verified, ran));
  ECLUSE_TRY(unpacked, unpack_stage(s, *verified, ran));
  if (unpacked) {
    ECLUSE_CHECK(judge(s, *unpacked, opts, ran));
  }
  return {};
}

// Runs the stages, then reports the outcome: a known drop with nothing left to run is a replay.
Result<IngestOutcome> run_after_intake(const Session& s,
                                       const intake::StagedDrop& staged,
                                       bool already_known,
                                       const std::string& source,
                                       const IngestOptions& opts) {
  bool ran = false;
  ECLUSE_CHECK(run_stages(s, staged, opts, ran));
  if (already_known && !ran) {
    ECLUSE_TRY(record, s.state().get_drop(staged.id()));
    if (record) {
      return replay(s, std::move(*record), source);
    }
  }
  return outcome(s, staged.id(), already_known);
}

// Was this drop rejected before its content was authenticated, so that submitting it again
// runs it again (store::StateStore::retry) rather than being a replay?
bool retryable(const store::DropRecord& d) {
  return d.state == DropState::rejected && d.rejection
         && (d.rejection->stage == "intake" || d.rejection->stage == "verify");
}

bool finished_from(const store::DropRecord& d, const std::string& source) {
  return d.source == source
         && (d.state == DropState::rejected || d.state == DropState::held
             || d.state == DropState::promoted);
}

// Runs intake again for a drop rejected before authentication, then the later stages.
Result<IngestOutcome> retry(const Session& s,
                            const intake::Context& ictx,
                            intake::DropCandidate candidate,
                            const store::DropRecord& earlier,
                            const IngestOptions& opts) {
  auto in = intake::intake(ictx, std::move(candidate));
  if (!in.staged && !is_rejection(in.staged.error())) {
    return fail(in.staged.error());
  }
  ECLUSE_CHECK(
      s.record(earlier.id,
               "intake.retry",
               {{"source", in.who.source},
                {"previous",
                 {{"stage", earlier.rejection->stage}, {"reason", earlier.rejection->reason}}}}));
  ECLUSE_CHECK(s.state().retry(earlier.id, intake_rejection(in), intake_result(s, in)));
  ECLUSE_CHECK(journal_intake(s, in));
  if (!in.staged) {
    return outcome(s, earlier.id, true);
  }
  return run_after_intake(s, *in.staged, true, in.who.source, opts);
}

Result<IngestOutcome> ingest_claimed(const Session& s,
                                     intake::DropCandidate candidate,
                                     const store::ProgressFn& progress,
                                     const IngestOptions& opts);

}  // namespace

Result<IngestOutcome> ingest(const Session& s,
                             const std::filesystem::path& drop_dir,
                             const store::ProgressFn& progress,
                             const IngestOptions& opts) {
  // gc may not remove objects this run has stored but not yet recorded.
  ECLUSE_TRY(store_lock, lock_store(s, false));
  (void)s.objects().sweep_stale_temporaries();  // leftovers of writers killed mid-copy
  s.set_stage_budget(opts.max_stages == 0 ? -1 : opts.max_stages);
  auto candidate = intake::open_drop(drop_dir, s.ws().config().limits);
  // One process at a time works on a drop, on this machine or another (a lease in the state
  // store); a process that dies loses it within one TTL.
  const auto who = candidate.who;
  ECLUSE_TRY(lease, LeaseHolder::claim(s, "drop:" + who.id, opts.wait_for_lease));
  // What a process that crashed between a commit and its journal entry left unjournaled.
  ECLUSE_CHECK(recover_journal(s, who.id));
  auto out = ingest_claimed(s, std::move(candidate), progress, opts);
  if (lease->lost()) {
    return fail(reason::k_state_lease_lost,
                "the lease on drop " + who.short_id()
                    + " expired and was taken over: stopped at the last commit point",
                who.id);
  }
  return out;
}

Result<IngestOutcome> resume(const Session& s, const std::string& id, const IngestOptions& opts) {
  ECLUSE_TRY(store_lock, lock_store(s, false));
  s.set_stage_budget(opts.max_stages == 0 ? -1 : opts.max_stages);
  ECLUSE_TRY(lease, LeaseHolder::claim(s, "drop:" + id, opts.wait_for_lease));
  ECLUSE_CHECK(recover_journal(s, id));
  ECLUSE_TRY(known, s.state().get_drop(id));
  if (!known) {
    return fail(reason::k_state_unknown_drop, "no drop " + id + " in the state store", id);
  }
  if (known->state != DropState::rejected) {
    const intake::Context ictx{s.ws(), s.objects(), s.clock(), {}};
    ECLUSE_TRY(staged, intake::reload(ictx, known->id, known->source));
    bool ran = false;
    ECLUSE_CHECK(run_stages(s, staged, opts, ran));
  }
  if (lease->lost()) {
    return fail(reason::k_state_lease_lost,
                "the lease on drop " + id.substr(0, 12)
                    + " expired and was taken over: stopped at the last commit point",
                id);
  }
  return outcome(s, id, true);
}

namespace {

Result<IngestOutcome> ingest_claimed(const Session& s,
                                     intake::DropCandidate candidate,
                                     const store::ProgressFn& progress,
                                     const IngestOptions& opts) {
  const intake::Context ictx{s.ws(), s.objects(), s.clock(), progress};
  // One intake per drop at a time: a second process waits, then finds the drop known.
  ECLUSE_CHECK(fs::make_dirs(s.ws().locks_dir(), reason::k_workspace_io));
  ECLUSE_TRY(lock,
             fs::lock_exclusive(s.ws().locks_dir() / ("intake-" + candidate.who.id + ".lock"),
                                reason::k_workspace_io));
  ECLUSE_TRY(known, s.state().get_drop(candidate.who.id));
  if (known && opts.skip_finished && finished_from(*known, candidate.who.source)) {
    return IngestOutcome{std::move(*known), true, std::nullopt, true};
  }
  if (known) {
    // Seen before: committed stages are not re-run; a rejected drop stays rejected.
    if (retryable(*known)) {
      return retry(s, ictx, std::move(candidate), *known, opts);
    }
    if (known->state == DropState::rejected) {
      return replay(s, std::move(*known), candidate.who.source);
    }
    ECLUSE_TRY(staged, intake::reload(ictx, known->id, known->source));
    return run_after_intake(s, staged, true, candidate.who.source, opts);
  }

  // intake: copy the drop into quarantine, check it against drop.json, create its record
  ECLUSE_CHECK(check_not_interrupted("intake", candidate.who.id));
  ECLUSE_CHECK(s.spend_stage("intake", candidate.who.id));
  auto in = intake::intake(ictx, std::move(candidate));
  if (!in.staged && !is_rejection(in.staged.error())) {
    return fail(in.staged.error());
  }
  fault_point("intake.staged");
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
  return run_after_intake(s, *in.staged, false, in.who.source, opts);
}

}  // namespace

}  // namespace ecluse::pipeline
