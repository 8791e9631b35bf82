// The state store: drops, their stage results with evidence, findings and rejections, leases
// and the job queue. One interface, two backends written over the same SQL (SQLite embedded,
// PostgreSQL for several workers on several machines); stages never write SQL.
#pragma once

#include <ecluse/core/drop_state.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ecluse::store {

struct Rejection {
  std::string stage;
  std::string reason;
  std::string message;
  std::string item;
};

struct DropRecord {
  std::string id;  // hex SHA-256 of drop.json's bytes
  std::string vendor;
  std::string product;
  std::string version;
  std::string channel;
  std::string source;  // the directory it was ingested from
  DropState state = DropState::received;
  std::string created_at;
  std::string updated_at;
  std::optional<Rejection> rejection;
};

// One committed stage: the state it moved the drop to and the evidence it recorded.
struct StageRecord {
  std::string stage;
  DropState state_after = DropState::received;
  json::Json evidence;
  std::string committed_at;
};

struct Finding {
  std::string stage;
  std::string code;
  std::string severity;  // info, low, medium, high, critical
  std::string item;
  std::string detail;
};

// Findings as JSON with stable field names {stage, code, severity, item, detail}.
inline json::Json to_json(const std::vector<Finding>& findings) {
  auto out = json::Json::array();
  for (const auto& f : findings) {
    out.push_back({{"stage", f.stage},
                   {"code", f.code},
                   {"severity", f.severity},
                   {"item", f.item},
                   {"detail", f.detail}});
  }
  return out;
}

// An engineer's explicit permission for one drop to go below the highest accepted version.
struct DowngradeAllowance {
  std::string vendor;
  std::string product;
  std::string channel;
  std::string version;
  std::string reason;
  std::string actor;
  std::string created_at;
  std::string used_by;  // the drop that used it; empty while unused
};

// An engineer's decision on a held drop (decision "approve" or "reject").
struct Review {
  std::string drop;
  std::string name;
  std::string decision;
  std::string reason;
  std::string created_at;
  std::string key_id;    // the engineer key that signed it (empty: an unsigned review)
  std::string envelope;  // the signed approval (DSSE envelope), empty when unsigned
};

// A lease on a named piece of work ("drop:ID", "reverify"): who holds it and until when
// (seconds since the epoch). A lease that expired (its holder died) can be taken by anyone.
struct Lease {
  std::string name;
  std::string owner;
  std::int64_t expires_at = 0;
};

// What claim_lease() decided: granted (the caller holds `lease` now) or refused (`lease` is the
// holder's).
struct LeaseClaim {
  bool granted = false;
  Lease lease;
};

// A channel repository's branch head as reverify last saw it (history may only move forward).
struct RememberedHead {
  std::string channel;
  std::string head;
  std::string recorded_at;
};

// A job of the queue: one stage of one drop. The jobs of a drop form a chain (the drop's run
// from its directory): finishing one enqueues the next in the same transaction.
struct Job {
  std::int64_t id = 0;
  std::int64_t chain = 0;       // the chain's number: drops of one line run in this order
  std::string source;           // the drop directory
  std::string drop;             // the drop's id (hex SHA-256 of drop.json; empty when unreadable)
  std::string line;             // VENDOR/PRODUCT/CHANNEL (empty when unknown)
  std::string stage;            // the stage this job runs: intake, verify, …, sign, promote
  std::string promote_to;       // the channel a signed drop goes to (empty: none)
  std::string status;           // queued, running, done, failed
  std::string owner;            // the worker holding it ("HOST:PID:NONCE")
  std::int64_t expires_at = 0;  // its lease (seconds since the epoch)
  std::int64_t not_before = 0;  // a queued job waits until then (a retry)
  std::int64_t attempts = 0;    // times claimed
  std::string outcome;          // JSON: how its last run ended
  std::string created_at;
  std::string updated_at;
};

struct Enqueued {
  Job job;     // the chain's latest job
  bool added;  // false: (source, drop) had been enqueued before
};

// How a worker ends a job: done or failed, or queued again (a retry, after not_before), with
// its outcome; next_stage enqueues the chain's next job in the same transaction.
struct JobEnd {
  std::int64_t id = 0;
  std::string owner;
  std::string status;  // done, failed, queued
  std::string outcome;
  std::int64_t not_before = 0;
  std::optional<std::string> next_stage;
  std::string drop;  // the drop's id as intake computed it (empty: unchanged)
  std::string at;
};

class StateStore {
 public:
  StateStore() = default;
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;
  StateStore(StateStore&&) = delete;
  StateStore& operator=(StateStore&&) = delete;
  virtual ~StateStore() = default;

  // Creates a drop in an initial state (received or rejected) together with the result of the
  // stage that decided it, atomically; drop.rejection is stored when present.
  // state.illegal_transition for a non-initial state; state.conflict when the id exists already.
  virtual Status create_drop(const DropRecord& drop, const StageRecord& result) = 0;

  // Moves a drop from `from` to result.state_after and stores the result, atomically.
  // state.illegal_transition when the state machine forbids it; state.conflict when the drop
  // is no longer in `from` (another process moved it).
  virtual Status commit_stage(const std::string& id, DropState from, const StageRecord& result) = 0;

  // Moves a drop from `from` to rejected (result.state_after must be rejected), recording why
  // and the rejecting stage's evidence, atomically.
  virtual Status reject(const std::string& id,
                        DropState from,
                        const Rejection& why,
                        const StageRecord& result) = 0;

  // Runs a drop again that was rejected before its content was authenticated (at intake or
  // verify: a transfer error, a bad or missing signature, trust not yet pinned, a rollback
  // not yet allowed): back to received with `result` (its new intake), or rejected again with
  // `why`. The drop's earlier results stay. state.illegal_transition for any other drop.
  virtual Status retry(const std::string& id,
                       const std::optional<Rejection>& why,
                       const StageRecord& result) = 0;

  virtual Result<std::optional<DropRecord>> get_drop(const std::string& id) = 0;
  // Drops whose id starts with prefix (hex), newest first.
  virtual Result<std::vector<DropRecord>> find_by_prefix(const std::string& prefix) = 0;
  virtual Result<std::vector<DropRecord>> find_by_name(const std::string& vendor,
                                                       const std::string& product,
                                                       const std::string& version) = 0;
  virtual Result<std::vector<DropRecord>> list_drops() = 0;
  // Every drop of one (vendor, product, channel), oldest first.
  virtual Result<std::vector<DropRecord>> find_line(const std::string& vendor,
                                                    const std::string& product,
                                                    const std::string& channel) = 0;
  virtual Result<std::vector<StageRecord>> stage_results(const std::string& id) = 0;
  // The journal outbox: the stage commits (create_drop, commit_stage, reject, retry) whose
  // journal entry has not been written yet, oldest first: after a crash between a commit and
  // its journal entry, the next process holding the drop's lease writes it
  // (pipeline::recover_journal). mark_journaled clears them once written.
  virtual Result<std::vector<StageRecord>> unjournaled(const std::string& id) = 0;
  virtual Status mark_journaled(const std::string& id) = 0;

  // Stores a stage's findings, replacing what that stage (each stage the list names) had
  // recorded for the drop: a stage run again after a crash before its commit records them once.
  virtual Status add_findings(const std::string& id, const std::vector<Finding>& findings) = 0;
  virtual Result<std::vector<Finding>> findings(const std::string& id) = 0;

  // Records an unused downgrade allowance.
  virtual Status add_downgrade_allowance(const DowngradeAllowance& a) = 0;
  // Marks the oldest allowance for exactly this (vendor, product, channel, version) used by
  // drop (idempotent: an allowance already used by the same drop is returned again) and returns
  // it; nullopt when there is none left.
  virtual Result<std::optional<DowngradeAllowance>> use_downgrade_allowance(
      const DowngradeAllowance& wanted, const std::string& drop) = 0;
  virtual Result<std::vector<DowngradeAllowance>> downgrade_allowances() = 0;

  // Records an approval of a held drop; when `complete` (the caller counted the verified
  // approvals, this one included, against the verdict), also moves it held →
  // result.state_after (approved) with `result`, in the same transaction. Returns whether it
  // moved. review.not_held when the drop is not held; state.unknown_drop.
  virtual Result<bool> approve(const Review& r, bool complete, const StageRecord& result) = 0;
  // Records a rejection of a held drop and moves it to rejected with `why`, atomically.
  virtual Status reject_review(const Review& r,
                               const Rejection& why,
                               const StageRecord& result) = 0;
  // Every review of a drop, oldest first.
  virtual Result<std::vector<Review>> reviews(const std::string& id) = 0;

  // Takes (or renews) the lease wanted.name for wanted.owner until wanted.expires_at, in one
  // transaction, when it is free, expired at `now`, or held by the same owner already.
  virtual Result<LeaseClaim> claim_lease(const Lease& wanted, std::int64_t now) = 0;
  // Gives a lease up (nothing happens when another owner holds it).
  virtual Status release_lease(const std::string& name, const std::string& owner) = 0;
  // Every lease on record (expired ones included), by name.
  virtual Result<std::vector<Lease>> leases() = 0;

  virtual Status remember_head(const RememberedHead& head) = 0;
  virtual Result<std::optional<RememberedHead>> remembered_head(const std::string& channel) = 0;

  // The job queue. enqueue starts a chain for (source, drop) with one queued job, unless that
  // pair was enqueued before (then nothing changes).
  virtual Result<Enqueued> enqueue(const Job& first) = 0;
  // Claims the oldest runnable job for owner until expires_at: queued and due at `now`, or
  // running with a lease expired at `now` (its worker died: taken over), and no earlier
  // unfinished chain of its line. PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, so workers
  // never wait for each other; SQLite: the same inside its write transaction.
  virtual Result<std::optional<Job>> claim_job(const std::string& owner,
                                               std::int64_t now,
                                               std::int64_t expires_at,
                                               const std::string& at) = 0;
  // Extends a running job's lease; false when it is no longer this owner's.
  virtual Result<bool> renew_job(std::int64_t id,
                                 const std::string& owner,
                                 std::int64_t expires_at) = 0;
  // Ends a running job of owner's (false: the lease was lost, nothing changed).
  virtual Result<bool> finish_job(const JobEnd& end) = 0;
  // Expires a running job's lease when owner (a dead process) still holds it: a
  // compare-and-swap, so of two workers finding it dead only one changes it.
  virtual Result<bool> expire_job(std::int64_t id, const std::string& owner) = 0;
  // The newest job of the newest chain that ran drop (nullopt: it never went through the queue).
  virtual Result<std::optional<Job>> latest_job_of(const std::string& drop) = 0;
  // Queues `stage` at the end of a finished chain (a drop held for review and approved since):
  // nullopt, changing nothing, when the chain has a queued or running job or ran that stage.
  virtual Result<std::optional<Job>> continue_chain(std::int64_t chain,
                                                    const std::string& stage,
                                                    const std::string& at) = 0;
  // Every job, oldest first; open_jobs: those queued or running.
  virtual Result<std::vector<Job>> jobs() = 0;
  virtual Result<std::vector<Job>> open_jobs() = 0;

  [[nodiscard]] virtual int schema_version() const = 0;
};

// Where the state lives: a libpq connection string (PostgreSQL), or empty for SQLite at
// sqlite_path.
struct StateStoreConfig {
  std::string connection;
  std::filesystem::path sqlite_path;
  std::uint32_t busy_timeout_ms = 10000;
};

// Opens (creating and migrating forward when needed) the SQLite state store at path, in WAL
// mode with the given busy timeout. store.schema_too_new when a newer ecluse wrote it.
Result<std::unique_ptr<StateStore>> open_sqlite(const std::filesystem::path& path,
                                                std::uint32_t busy_timeout_ms);
// Opens (creating and migrating forward when needed) the state store in a PostgreSQL database
// (conninfo: "postgresql://USER@HOST:PORT/DB" or "host=… dbname=…").
Result<std::unique_ptr<StateStore>> open_postgres(const std::string& conninfo);
Result<std::unique_ptr<StateStore>> open_state_store(const StateStoreConfig& config);

}  // namespace ecluse::store
