// The pipeline driver: runs the stages that exist, in order, for one drop; commits each
// stage's result and evidence before the next starts; resumes after a crash from the last
// committed stage and never runs a committed stage twice.
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/store/content_store.hpp>
#include <ecluse/store/journal.hpp>
#include <ecluse/store/state_store.hpp>
#include <ecluse/workspace/workspace.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace ecluse::pipeline {

// The workspace's state store (SQLite state.db, or the PostgreSQL database ecluse.json names),
// opened and migrated; a second connection for a thread of its own.
Result<std::unique_ptr<store::StateStore>> open_state(const workspace::Workspace& ws);

// Everything a run needs, opened once per command.
class Session {
 public:
  // Opens the state store and journal of an open workspace.
  static Result<Session> open(workspace::Workspace ws, const Clock& clock, std::string actor);

  [[nodiscard]] const workspace::Workspace& ws() const { return m_ws; }

  [[nodiscard]] store::StateStore& state() const { return *m_state; }

  [[nodiscard]] const store::Journal& journal() const { return m_journal; }

  [[nodiscard]] const store::ContentStore& objects() const { return m_objects; }

  [[nodiscard]] const Clock& clock() const { return *m_clock; }

  [[nodiscard]] const std::string& actor() const { return m_actor; }

  // Appends an event to the journal with the session's actor and time.
  Status record(const std::string& drop, const std::string& event, json::Json details) const;

  // How many more stages may run in this session: -1 without limit (the CLI); the queue's
  // workers run one stage per job. spend_stage() is called before a stage runs: it fails with
  // pipeline.yielded when none is left.
  void set_stage_budget(int stages) const { m_stages_left = stages; }

  Status spend_stage(const std::string& stage, const std::string& id) const;

 private:
  Session(workspace::Workspace ws,
          std::unique_ptr<store::StateStore> state,
          const Clock& clock,
          std::string actor);
  workspace::Workspace m_ws;
  std::unique_ptr<store::StateStore> m_state;
  store::Journal m_journal;
  store::ContentStore m_objects;
  const Clock* m_clock;
  std::string m_actor;
  mutable int m_stages_left = -1;
};

struct IngestOutcome {
  store::DropRecord drop;  // as committed at the end of the run
  bool already_known =
      false;  // the drop had been ingested before; committed stages were not re-run
  // intake.replay when drop.json is byte-identical to a drop already processed and this run
  // had nothing left to do for it (drop is then that earlier drop's record).
  std::optional<Error> replay;
  // IngestOptions::skip_finished found the drop finished from the same directory: nothing ran
  // and nothing was journaled.
  bool skipped = false;
};

struct IngestOptions {
  std::string baseline;  // diff against this drop (id or short id) instead of the last accepted
  // The watcher's rule: a drop already ingested from this same directory and finished
  // (rejected, held for review, promoted) is skipped silently instead of being a replay.
  bool skip_finished = false;
  // When another process holds the drop's lease: wait for it (the CLI), or fail at once with
  // state.lease_held (the watcher's workers: the watcher looks again later).
  bool wait_for_lease = true;
  // 0: every stage left; N: N stages run, then the run stops with pipeline.yielded before the
  // next (a queue job is one stage).
  int max_stages = 0;
};

// Runs a drop directory through every stage that exists today (intake, verify, unpack, diff,
// then the policy verdict: rejected, held for review, or approved). A drop the
// pipeline rejects is an outcome (drop.state == rejected, with its reason), not an error;
// errors are failures to evaluate (I/O, state store, trust store, internal), never blamed on
// the vendor. A drop seen before resumes from its last committed stage; when nothing is left
// to run it is a replay (outcome.replay, journaled as intake.replay) and does no work. A drop
// rejected before its content was authenticated (at intake or verify) runs again from intake
// (journaled intake.retry): a corrupted transfer, a forged signature file or trust pinned too
// late must not block the genuine drop with the same drop.json forever.
Result<IngestOutcome> ingest(const Session& s,
                             const std::filesystem::path& drop_dir,
                             const store::ProgressFn& progress = {},
                             const IngestOptions& opts = {});

// Runs a drop already taken in (by id) from its last committed stage, under its lease: what a
// queue worker does for the stages after intake. Unlike ingest, a drop with nothing left to run
// is simply its outcome (no intake.replay).
Result<IngestOutcome> resume(const Session& s,
                             const std::string& id,
                             const IngestOptions& opts = {});

}  // namespace ecluse::pipeline
