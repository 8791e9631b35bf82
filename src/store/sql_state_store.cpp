// The state store over SQL, written once for both backends (SQLite, PostgreSQL): forward-only
// schema migrations, and every state change checked against the drop state machine inside the
// transaction that makes it. Concurrency: SQLite serialises writers (BEGIN IMMEDIATE);
// PostgreSQL runs READ COMMITTED, and each writer first updates or locks the drop row it
// changes, so two writers of one drop queue behind each other.
#include <ecluse/store/state_store.hpp>

#include <array>
#include <set>

#include "sql.hpp"

namespace ecluse::store {

namespace {

using sql::Param;
using sql::Row;
using sql::Rows;
using sql::Tx;

// Schema migrations: index i brings the schema from version i to i + 1. Never edit a
// released entry; append a new one. {int} is a 64-bit integer column, {serial} an
// auto-numbered 64-bit primary key, in each dialect.
constexpr std::array<std::string_view, 7> k_migrations{
    R"sql(
CREATE TABLE drops(
  id TEXT PRIMARY KEY,
  vendor TEXT NOT NULL, product TEXT NOT NULL, version TEXT NOT NULL, channel TEXT NOT NULL,
  source TEXT NOT NULL, state TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  reject_stage TEXT, reject_reason TEXT, reject_message TEXT, reject_item TEXT);
CREATE INDEX drops_by_name ON drops(vendor, product, version);
CREATE TABLE stage_results(
  drop_id TEXT NOT NULL REFERENCES drops(id), seq {int} NOT NULL,
  stage TEXT NOT NULL, state_after TEXT NOT NULL, evidence TEXT NOT NULL,
  committed_at TEXT NOT NULL, PRIMARY KEY(drop_id, seq));
CREATE TABLE findings(
  drop_id TEXT NOT NULL REFERENCES drops(id), seq {int} NOT NULL,
  stage TEXT NOT NULL, code TEXT NOT NULL, severity TEXT NOT NULL,
  item TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY(drop_id, seq));
)sql",
    R"sql(
CREATE INDEX drops_by_line ON drops(vendor, product, channel);
CREATE TABLE downgrade_allowances(
  seq {serial},
  vendor TEXT NOT NULL, product TEXT NOT NULL, channel TEXT NOT NULL, version TEXT NOT NULL,
  reason TEXT NOT NULL, actor TEXT NOT NULL, created_at TEXT NOT NULL, used_by TEXT);
)sql",
    R"sql(
CREATE TABLE reviews(
  drop_id TEXT NOT NULL REFERENCES drops(id), seq {int} NOT NULL,
  name TEXT NOT NULL, decision TEXT NOT NULL, reason TEXT NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY(drop_id, seq));
)sql",
    R"sql(
ALTER TABLE reviews ADD COLUMN key_id TEXT;
ALTER TABLE reviews ADD COLUMN envelope TEXT;
)sql",
    R"sql(
CREATE TABLE leases(name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at {int} NOT NULL);
CREATE TABLE channel_heads(
  channel TEXT PRIMARY KEY, head TEXT NOT NULL, recorded_at TEXT NOT NULL);
)sql",
    R"sql(
ALTER TABLE stage_results ADD COLUMN journaled {int} NOT NULL DEFAULT 1;
)sql",
    R"sql(
CREATE TABLE job_chains(
  id {serial},
  source TEXT NOT NULL, drop_id TEXT NOT NULL, line TEXT NOT NULL, promote_to TEXT NOT NULL,
  created_at TEXT NOT NULL, UNIQUE(source, drop_id));
CREATE TABLE jobs(
  id {serial},
  chain {int} NOT NULL REFERENCES job_chains(id),
  stage TEXT NOT NULL, status TEXT NOT NULL,
  owner TEXT NOT NULL, expires_at {int} NOT NULL, not_before {int} NOT NULL,
  attempts {int} NOT NULL, outcome TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX jobs_open ON jobs(status, chain);
)sql",
};

std::string dialect_sql(std::string_view text, sql::Dialect d) {
  std::string out(text);
  const bool pg = d == sql::Dialect::postgres;
  for (const auto& [token, value] :
       {std::pair{std::string_view("{int}"), pg ? "BIGINT" : "INTEGER"},
        std::pair{std::string_view("{serial}"),
                  pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"}}) {
    for (auto at = out.find(token); at != std::string::npos; at = out.find(token, at)) {
      out.replace(at, token.size(), value);
    }
  }
  return out;
}

constexpr std::string_view k_allowance_columns =
    "vendor, product, channel, version, reason, actor, created_at, used_by";

DowngradeAllowance read_allowance(const Row& s, std::size_t at) {
  return DowngradeAllowance{s.text(at),
                            s.text(at + 1),
                            s.text(at + 2),
                            s.text(at + 3),
                            s.text(at + 4),
                            s.text(at + 5),
                            s.text(at + 6),
                            s.text_or_null(at + 7).value_or("")};
}

constexpr std::string_view k_drop_columns =
    "id, vendor, product, version, channel, source, state, created_at, updated_at, "
    "reject_stage, reject_reason, reject_message, reject_item";

DropRecord read_drop(const Row& s) {
  DropRecord d;
  d.id = s.text(0);
  d.vendor = s.text(1);
  d.product = s.text(2);
  d.version = s.text(3);
  d.channel = s.text(4);
  d.source = s.text(5);
  d.state = parse_drop_state(s.text(6)).value_or(DropState::rejected);
  d.created_at = s.text(7);
  d.updated_at = s.text(8);
  if (auto reason = s.text_or_null(10)) {
    d.rejection = Rejection{s.text(9), *reason, s.text(11), s.text(12)};
  }
  return d;
}

StageRecord read_stage(const Row& s) {
  const auto evidence = json::parse_strict(s.text(2));
  return StageRecord{s.text(0),
                     parse_drop_state(s.text(1)).value_or(DropState::rejected),
                     evidence.failure == json::ParseFailure::none ? evidence.value : json::Json(),
                     s.text(3)};
}

constexpr std::string_view k_job_columns =
    "j.id, j.chain, c.source, c.drop_id, c.line, j.stage, c.promote_to, j.status, j.owner, "
    "j.expires_at, j.not_before, j.attempts, j.outcome, j.created_at, j.updated_at";

Job read_job(const Row& s) {
  return Job{s.integer(0),
             s.integer(1),
             s.text(2),
             s.text(3),
             s.text(4),
             s.text(5),
             s.text(6),
             s.text(7),
             s.text(8),
             s.integer(9),
             s.integer(10),
             s.integer(11),
             s.text(12),
             s.text(13),
             s.text(14)};
}

tl::unexpected<Error> illegal(const std::string& id, DropState from, DropState to) {
  return fail(reason::k_state_illegal_transition,
              "drop " + id + ": transition " + std::string(to_string(from)) + " -> "
                  + std::string(to_string(to)) + " is not allowed",
              id);
}

class SqlStateStore final : public StateStore {
 public:
  SqlStateStore(std::unique_ptr<sql::Connection> conn, int version)
      : m_conn(std::move(conn)), m_version(version) {}

  Status create_drop(const DropRecord& drop, const StageRecord& result) override {
    if (!is_initial_state(result.state_after)) {
      return fail(reason::k_state_illegal_transition,
                  "drop " + drop.id + ": cannot start in state "
                      + std::string(to_string(result.state_after)),
                  drop.id);
    }
    ECLUSE_TRY(tx, Tx::begin(*m_conn));
    // ON CONFLICT DO NOTHING: of two processes creating one drop, the second sees 0 rows.
    ECLUSE_TRY(ins,
               q("INSERT INTO drops(id, vendor, product, version, channel, source, "
                 "state, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?) "
                 "ON CONFLICT(id) DO NOTHING",
                 {drop.id,
                  drop.vendor,
                  drop.product,
                  drop.version,
                  drop.channel,
                  drop.source,
                  std::string(to_string(result.state_after)),
                  result.committed_at,
                  result.committed_at}));
    if (ins.changes != 1) {
      return fail(reason::k_state_conflict, "drop " + drop.id + " already exists", drop.id);
    }
    if (drop.rejection) {
      ECLUSE_CHECK(set_rejection(drop.id, *drop.rejection));
    }
    ECLUSE_CHECK(append_result(drop.id, result, false));
    return tx.commit();
  }

  Status commit_stage(const std::string& id, DropState from, const StageRecord& result) override {
    if (result.state_after == DropState::rejected
        || !is_legal_transition(from, result.state_after)) {
      return illegal(id, from, result.state_after);
    }
    ECLUSE_TRY(tx, Tx::begin(*m_conn));
    ECLUSE_CHECK(move_state(id, from, result.state_after, result.committed_at));
    ECLUSE_CHECK(append_result(id, result, false));
    return tx.commit();
  }

  Status reject(const std::string& id,
                DropState from,
                const Rejection& why,
                const StageRecord& result) override {
    if (result.state_after != DropState::rejected
        || !is_legal_transition(from, DropState::rejected)) {
      return illegal(id, from, result.state_after);
    }
    ECLUSE_TRY(tx, Tx::begin(*m_conn));
    ECLUSE_CHECK(move_state(id, from, DropState::rejected, result.committed_at));
    ECLUSE_CHECK(set_rejection(id, why));
    ECLUSE_CHECK(append_result(id, result, false));
    return tx.commit();
  }

  Status retry(const std::string& id,
               const std::optional<Rejection>& why,
               const StageRecord& result) override {
    ECLUSE_TRY(tx, Tx::begin(*m_conn));
    ECLUSE_CHECK(lock_drop(id));
    ECLUSE_TRY(drop, get_drop(id));
    if (!drop || drop->state != DropState::rejected || !drop->rejection
        || (drop->rejection->stage != "intake" && drop->rejection->stage != "verify")) {
      return fail(reason::k_state_illegal_transition,
                  "drop " + id + " was not rejected before authentication: it cannot be retried",
                  id);
    }
    const auto to = why ? DropState::rejected : DropState::received;
    ECLUSE_CHECK(
        q("UPDATE drops SET state=?, updated_at=?, reject_stage=NULL, "
          "reject_reason=NULL, reject_message=NULL, reject_item=NULL "
          "WHERE id=? AND state='rejected'",
          {std::string(to_string(to)), result.committed_at, id}));
    if (why) {
      ECLUSE_CHECK(set_rejection(id, *why));
    }
    ECLUSE_CHECK(append_result(id, result, false));
    return tx.commit();
  }

  Result<std::optional<DropRecord>> get_drop(const std::string& id) override {
    ECLUSE_TRY(r, q("SELECT " + std::string(k_drop_columns) + " FROM drops WHERE id=?", {id}));
    if (r.rows.empty()) {
      return std::optional<DropRecord>{};
    }
    return std::optional<DropRecord>{read_drop(r.rows.front())};
  }

  Result<std::vector<DropRecord>> find_by_prefix(const std::string& prefix) override {
    return query_drops("WHERE substr(id, 1, ?) = ? ORDER BY created_at DESC, id",
                       {static_cast<std::int64_t>(prefix.size()), prefix});
  }

  Result<std::vector<DropRecord>> find_by_name(const std::string& vendor,
                                               const std::string& product,
                                               const std::string& version) override {
    return query_drops("WHERE vendor=? AND product=? AND version=? ORDER BY created_at DESC, id",
                       {vendor, product, version});
  }

  Result<std::vector<DropRecord>> list_drops() override {
    return query_drops("ORDER BY created_at DESC, id", {});
  }

  Result<std::vector<DropRecord>> find_line(const std::string& vendor,
                                            const std::string& product,
                                            const std::string& channel) override {
    return query_drops("WHERE vendor=? AND product=? AND channel=? ORDER BY created_at, id",
                       {vendor, product, channel});
  }

  Status add_downgrade_allowance(const DowngradeAllowance& a) override {
    return q("INSERT INTO downgrade_allowances(" + std::string(k_allowance_columns)
                 + ") VALUES(?,?,?,?,?,?,?,NULL)",
             {a.vendor, a.product, a.channel, a.version, a.reason, a.actor, a.created_at})
        .map([](const Rows&) {});
  }

  Result<std::optional<DowngradeAllowance>> use_downgrade_allowance(
      const DowngradeAllowance& w, const std::string& drop) override {
    ECLUSE_TRY(tx, Tx::begin(*m_conn));
    ECLUSE_TRY(r,
               q("SELECT seq, " + std::string(k_allowance_columns)
                     + " FROM downgrade_allowances WHERE vendor=? AND product=? AND "
                       "channel=? AND version=? AND (used_by IS NULL OR used_by=?) "
                       "ORDER BY (used_by IS NULL), seq LIMIT 1"
                     + for_update(),
                 {w.vendor, w.product, w.channel, w.version, drop}));
    if (r.rows.empty()) {
      return std::optional<DowngradeAllowance>{};
    }
    auto a = read_allowance(r.rows.front(), 1);
    a.used_by = drop;
    ECLUSE_CHECK(q("UPDATE downgrade_allowances SET used_by=? WHERE seq=?",
                   {drop, r.rows.front().integer(0)}));
    ECLUSE_CHECK(tx.commit());
    return std::optional<DowngradeAllowance>{std::move(a)};
  }

  Result<std::vector<DowngradeAllowance>> downgrade_allowances() override {
    ECLUSE_TRY(
        r,
        q("SELECT " + std::string(k_allowance_columns) + " FROM downgrade_allowances ORDER BY seq",
          {}));
    std::vector<DowngradeAllowance> out;
    for (const auto& row : r.rows) {
      out.push_back(read_allowance(row, 0));
    }
    return out;
  }

  Result<std::vector<StageRecord>> stage_results(const std::string& id) override {
    return query_stages("WHERE drop_id=? ORDER BY seq", id);
  }

  Status add_findings(const std::string& id, const std::vector<Finding>& list) override {
    ECLUSE_TRY(tx, Tx::begin(*m_conn));
    ECLUSE_CHECK(lock_drop(id));
    std::set<std::string> stages;
    for (const auto& f : list) {
      stages.insert(f.stage);
    }
    for (const auto& stage : stages) {
      ECLUSE_CHECK(q("DELETE FROM findings WHERE drop_id=? AND stage=?", {id, stage}));
    }
    ECLUSE_TRY(next, next_seq("findings", id));
    for (const auto& f : list) {
      ECLUSE_CHECK(q("INSERT INTO findings VALUES(?,?,?,?,?,?,?)",
                     {id, next++, f.stage, f.code, f.severity, f.item, f.detail}));
    }
    return tx.commit();
  }

  Result<std::vector<Finding>> findings(const std::string& id) override {
    ECLUSE_TRY(r,
               q("SELECT stage, code, severity, item, detail FROM findings "
                 "WHERE drop_id=? ORDER BY seq",
                 {id}));
    std::vector<Finding> out;
    for (const auto& s : r.rows) {
      out.push_back(Finding{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
    }
    return out;
  }

  Result<bool> approve(const Review& r, bool complete, const StageRecord& result) override {
    ECLUSE_TRY(tx, Tx::begin(*m_conn));
    ECLUSE_CHECK(lock_drop(r.drop));
    ECLUSE_CHECK(expect_held(r.drop));
    ECLUSE_CHECK(insert_review(r));
    if (complete) {
      ECLUSE_CHECK(move_state(r.drop, DropState::held, result.state_after, result.committed_at));
      ECLUSE_CHECK(append_result(r.drop, result));
    }
    ECLUSE_CHECK(tx.commit());
    return complete;
  }

  Status reject_review(const Review& r, const Rejection& why, const StageRecord& result) override {
    ECLUSE_TRY(tx, Tx::begin(*m_conn));
    ECLUSE_CHECK(lock_drop(r.drop));
    ECLUSE_CHECK(expect_held(r.drop));
    ECLUSE_CHECK(insert_review(r));
    ECLUSE_CHECK(move_state(r.drop, DropState::held, DropState::rejected, result.committed_at));
    ECLUSE_CHECK(set_rejection(r.drop, why));
    ECLUSE_CHECK(append_result(r.drop, result));
    return tx.commit();
  }

  Result<std::vector<Review>> reviews(const std::string& id) override {
    ECLUSE_TRY(r,
               q("SELECT name, decision, reason, created_at, key_id, envelope FROM reviews "
                 "WHERE drop_id=? ORDER BY seq",
                 {id}));
    std::vector<Review> out;
    for (const auto& s : r.rows) {
      out.push_back(Review{id,
                           s.text(0),
                           s.text(1),
                           s.text(2),
                           s.text(3),
                           s.text_or_null(4).value_or(""),
                           s.text_or_null(5).value_or("")});
    }
    return out;
  }

  Result<std::vector<StageRecord>> unjournaled(const std::string& id) override {
    return query_stages("WHERE drop_id=? AND journaled=0 ORDER BY seq", id);
  }

  Status mark_journaled(const std::string& id) override {
    return q("UPDATE stage_results SET journaled=1 WHERE drop_id=? AND journaled=0", {id})
        .map([](const Rows&) {});
  }

  Result<LeaseClaim> claim_lease(const Lease& wanted, std::int64_t now) override {
    // One statement: a free, expired or own lease is taken; a live one of another owner is
    // left alone (0 rows changed) and read back.
    ECLUSE_TRY(up,
               q("INSERT INTO leases VALUES(?,?,?) ON CONFLICT(name) DO UPDATE SET "
                 "owner=excluded.owner, expires_at=excluded.expires_at "
                 "WHERE leases.owner=excluded.owner OR leases.expires_at<=?",
                 {wanted.name, wanted.owner, wanted.expires_at, now}));
    if (up.changes == 1) {
      return LeaseClaim{true, wanted};
    }
    ECLUSE_TRY(r, q("SELECT owner, expires_at FROM leases WHERE name=?", {wanted.name}));
    if (r.rows.empty()) {
      return claim_lease(wanted, now);  // released between the two statements
    }
    return LeaseClaim{false, Lease{wanted.name, r.rows[0].text(0), r.rows[0].integer(1)}};
  }

  Status release_lease(const std::string& name, const std::string& owner) override {
    return q("DELETE FROM leases WHERE name=? AND owner=?", {name, owner}).map([](const Rows&) {});
  }

  Result<std::vector<Lease>> leases() override {
    ECLUSE_TRY(r, q("SELECT name, owner, expires_at FROM leases ORDER BY name", {}));
    std::vector<Lease> out;
    for (const auto& s : r.rows) {
      out.push_back(Lease{s.text(0), s.text(1), s.integer(2)});
    }
    return out;
  }

  Status remember_head(const RememberedHead& head) override {
    return q("INSERT INTO channel_heads VALUES(?,?,?) ON CONFLICT(channel) DO "
             "UPDATE SET head=excluded.head, recorded_at=excluded.recorded_at",
             {head.channel, head.head, head.recorded_at})
        .map([](const Rows&) {});
  }

  Result<std::optional<RememberedHead>> remembered_head(const std::string& channel) override {
    ECLUSE_TRY(r, q("SELECT head, recorded_at FROM channel_heads WHERE channel=?", {channel}));
    if (r.rows.empty()) {
      return std::optional<RememberedHead>{};
    }
    return std::optional<RememberedHead>{
        RememberedHead{channel, r.rows[0].text(0), r.rows[0].text(1)}};
  }

  Result<Enqueued> enqueue(const Job& j) override {
    ECLUSE_TRY(tx, Tx::begin(*m_conn));
    ECLUSE_TRY(ins,
               q("INSERT INTO job_chains(source, drop_id, line, promote_to, created_at) "
                 "VALUES(?,?,?,?,?) ON CONFLICT(source, drop_id) DO NOTHING",
                 {j.source, j.drop, j.line, j.promote_to, j.created_at}));
    ECLUSE_TRY(chain,
               q("SELECT id FROM job_chains WHERE source=? AND drop_id=?", {j.source, j.drop}));
    if (chain.rows.empty()) {
      return fail(reason::k_store_db, "state store: the job chain of " + j.source + " vanished");
    }
    const auto id = chain.rows[0].integer(0);
    if (ins.changes == 1) {
      ECLUSE_CHECK(insert_job(id, j.stage, j.created_at));
    }
    ECLUSE_CHECK(tx.commit());
    ECLUSE_TRY(jobs, query_jobs("WHERE j.chain=? ORDER BY j.id DESC LIMIT 1", {id}));
    return Enqueued{jobs.at(0), ins.changes == 1};
  }

  Result<std::optional<Job>> claim_job(const std::string& owner,
                                       std::int64_t now,
                                       std::int64_t expires_at,
                                       const std::string& at) override {
    // The oldest runnable job (queued and due, or running with an expired lease) whose line has
    // no earlier unfinished chain: drops of one line run in the order they were enqueued.
    // PostgreSQL skips rows other workers are claiming; SQLite holds the write lock.
    const std::string pick =
        "SELECT j.id FROM jobs j JOIN job_chains c ON c.id=j.chain WHERE "
        "((j.status='queued' AND j.not_before<=?) OR (j.status='running' AND j.expires_at<=?)) "
        "AND NOT EXISTS (SELECT 1 FROM jobs e JOIN job_chains ec ON ec.id=e.chain "
        "WHERE ec.line<>'' AND ec.line=c.line AND e.chain<j.chain "
        "AND e.status IN ('queued','running')) ORDER BY j.chain, j.id LIMIT 1";
    ECLUSE_TRY(tx, Tx::begin(*m_conn));
    ECLUSE_TRY(r,
               q(m_conn->dialect() == sql::Dialect::postgres ? pick + " FOR UPDATE OF j SKIP LOCKED"
                                                             : pick,
                 {now, now}));
    if (r.rows.empty()) {
      return std::optional<Job>{};
    }
    const auto id = r.rows[0].integer(0);
    ECLUSE_CHECK(
        q("UPDATE jobs SET status='running', owner=?, expires_at=?, "
          "attempts=attempts+1, updated_at=? WHERE id=?",
          {owner, expires_at, at, id}));
    ECLUSE_CHECK(tx.commit());
    ECLUSE_TRY(job, query_jobs("WHERE j.id=?", {id}));
    return std::optional<Job>{job.at(0)};
  }

  Result<bool> renew_job(std::int64_t id,
                         const std::string& owner,
                         std::int64_t expires_at) override {
    ECLUSE_TRY(r,
               q("UPDATE jobs SET expires_at=? WHERE id=? AND owner=? AND status='running'",
                 {expires_at, id, owner}));
    return r.changes == 1;
  }

  Result<bool> finish_job(const JobEnd& end) override {
    ECLUSE_TRY(tx, Tx::begin(*m_conn));
    ECLUSE_TRY(r,
               q("UPDATE jobs SET status=?, outcome=?, not_before=?, updated_at=?, "
                 "owner=CASE WHEN ?='queued' THEN '' ELSE owner END "
                 "WHERE id=? AND owner=? AND status='running'",
                 {end.status, end.outcome, end.not_before, end.at, end.status, end.id, end.owner}));
    if (r.changes != 1) {
      return false;  // the lease expired and another worker took the job over
    }
    if (end.next_stage) {
      ECLUSE_TRY(chain, q("SELECT chain FROM jobs WHERE id=?", {end.id}));
      const auto c = chain.rows.at(0).integer(0);
      if (!end.drop.empty()) {
        ECLUSE_CHECK(
            q("UPDATE job_chains SET drop_id=? WHERE id=? AND NOT EXISTS (SELECT 1 "
              "FROM job_chains o WHERE o.source=job_chains.source AND o.drop_id=?)",
              {end.drop, c, end.drop}));
      }
      ECLUSE_CHECK(insert_job(c, *end.next_stage, end.at));
    }
    ECLUSE_CHECK(tx.commit());
    return true;
  }

  Result<bool> expire_job(std::int64_t id, const std::string& owner) override {
    ECLUSE_TRY(r,
               q("UPDATE jobs SET expires_at=0 WHERE id=? AND owner=? AND status='running' "
                 "AND expires_at<>0",
                 {id, owner}));
    return r.changes == 1;
  }

  Result<std::optional<Job>> latest_job_of(const std::string& drop) override {
    ECLUSE_TRY(r, query_jobs("WHERE c.drop_id=? ORDER BY j.chain DESC, j.id DESC LIMIT 1", {drop}));
    return r.empty() ? std::optional<Job>{} : std::optional<Job>(r.front());
  }

  Result<std::optional<Job>> continue_chain(std::int64_t chain,
                                            const std::string& stage,
                                            const std::string& at) override {
    ECLUSE_TRY(tx, Tx::begin(*m_conn));
    // PostgreSQL: the chain's row locked, so two callers queue the stage once; SQLite holds
    // the write lock already.
    const std::string lock = m_conn->dialect() == sql::Dialect::postgres ? " FOR UPDATE" : "";
    ECLUSE_TRY(c, q("SELECT id FROM job_chains WHERE id=?" + lock, {chain}));
    if (c.rows.empty()) {
      return fail(reason::k_store_db, "state store: no job chain " + std::to_string(chain));
    }
    ECLUSE_TRY(busy,
               q("SELECT 1 FROM jobs WHERE chain=? AND (status IN ('queued','running') OR stage=?)",
                 {chain, stage}));
    if (!busy.rows.empty()) {
      return std::optional<Job>{};
    }
    ECLUSE_CHECK(insert_job(chain, stage, at));
    ECLUSE_CHECK(tx.commit());
    ECLUSE_TRY(added, query_jobs("WHERE j.chain=? ORDER BY j.id DESC LIMIT 1", {chain}));
    return std::optional<Job>(added.at(0));
  }

  Result<std::vector<Job>> jobs() override { return query_jobs("ORDER BY j.id", {}); }

  Result<std::vector<Job>> open_jobs() override {
    return query_jobs("WHERE j.status IN ('queued','running') ORDER BY j.id", {});
  }

  [[nodiscard]] int schema_version() const override { return m_version; }

 private:
  Result<Rows> q(const std::string& text, const std::vector<Param>& params) {
    return m_conn->query(text, params);
  }

  [[nodiscard]] std::string for_update() const {
    return m_conn->dialect() == sql::Dialect::postgres ? " FOR UPDATE" : "";
  }

  // PostgreSQL: takes the drop row's lock, so writers of one drop run one after the other
  // (SQLite's BEGIN IMMEDIATE has serialised every writer already).
  Status lock_drop(const std::string& id) {
    if (m_conn->dialect() != sql::Dialect::postgres) {
      return {};
    }
    return q("SELECT id FROM drops WHERE id=? FOR UPDATE", {id}).map([](const Rows&) {});
  }

  Status insert_job(std::int64_t chain, const std::string& stage, const std::string& at) {
    return q("INSERT INTO jobs(chain, stage, status, owner, expires_at, not_before, attempts, "
             "outcome, created_at, updated_at) VALUES(?,?,'queued','',0,0,0,'',?,?)",
             {chain, stage, at, at})
        .map([](const Rows&) {});
  }

  Result<std::vector<Job>> query_jobs(const std::string& where, const std::vector<Param>& args) {
    ECLUSE_TRY(r,
               q("SELECT " + std::string(k_job_columns)
                     + " FROM jobs j JOIN job_chains c ON c.id=j.chain " + where,
                 args));
    std::vector<Job> out;
    for (const auto& row : r.rows) {
      out.push_back(read_job(row));
    }
    return out;
  }

  Status expect_held(const std::string& id) {
    ECLUSE_TRY(drop, get_drop(id));
    if (!drop) {
      return fail(reason::k_state_unknown_drop, "no drop " + id, id);
    }
    if (drop->state != DropState::held) {
      return fail(reason::k_review_not_held,
                  "drop " + id.substr(0, 12) + " is " + std::string(to_string(drop->state))
                      + ", not held for review",
                  id);
    }
    return {};
  }

  Status insert_review(const Review& r) {
    ECLUSE_TRY(seq, next_seq("reviews", r.drop));
    return q("INSERT INTO reviews VALUES(?,?,?,?,?,?,?,?)",
             {r.drop, seq, r.name, r.decision, r.reason, r.created_at, r.key_id, r.envelope})
        .map([](const Rows&) {});
  }

  Status move_state(const std::string& id, DropState from, DropState to, const std::string& at) {
    ECLUSE_TRY(r,
               q("UPDATE drops SET state=?, updated_at=? WHERE id=? AND state=?",
                 {std::string(to_string(to)), at, id, std::string(to_string(from))}));
    if (r.changes != 1) {
      return fail(reason::k_state_conflict,
                  "drop " + id + " is no longer in state " + std::string(to_string(from)),
                  id);
    }
    return {};
  }

  Status set_rejection(const std::string& id, const Rejection& why) {
    return q("UPDATE drops SET reject_stage=?, reject_reason=?, reject_message=?, "
             "reject_item=? WHERE id=?",
             {why.stage, why.reason, why.message, why.item, id})
        .map([](const Rows&) {});
  }

  Result<std::int64_t> next_seq(std::string_view table, const std::string& id) {
    ECLUSE_TRY(r,
               q("SELECT COALESCE(MAX(seq), 0) + 1 FROM " + std::string(table) + " WHERE drop_id=?",
                 {id}));
    return r.rows.empty() ? 1 : r.rows[0].integer(0);
  }

  // journaled false: a stage commit whose journal entry is yet to be written (mark_journaled).
  Status append_result(const std::string& id, const StageRecord& r, bool journaled = true) {
    ECLUSE_TRY(seq, next_seq("stage_results", id));
    return q("INSERT INTO stage_results VALUES(?,?,?,?,?,?,?)",
             {id,
              seq,
              r.stage,
              std::string(to_string(r.state_after)),
              json::dump_line(r.evidence),
              r.committed_at,
              std::int64_t{journaled ? 1 : 0}})
        .map([](const Rows&) {});
  }

  Result<std::vector<StageRecord>> query_stages(const std::string& where, const std::string& id) {
    ECLUSE_TRY(
        r,
        q("SELECT stage, state_after, evidence, committed_at FROM stage_results " + where, {id}));
    std::vector<StageRecord> out;
    for (const auto& row : r.rows) {
      out.push_back(read_stage(row));
    }
    return out;
  }

  Result<std::vector<DropRecord>> query_drops(const std::string& where,
                                              const std::vector<Param>& args) {
    ECLUSE_TRY(r, q("SELECT " + std::string(k_drop_columns) + " FROM drops " + where, args));
    std::vector<DropRecord> out;
    for (const auto& row : r.rows) {
      out.push_back(read_drop(row));
    }
    return out;
  }

  std::unique_ptr<sql::Connection> m_conn;
  int m_version;
};

// The schema version: SQLite's user_version; on PostgreSQL a one-row table.
Result<int> schema_version_of(sql::Connection& c) {
  if (c.dialect() == sql::Dialect::sqlite) {
    ECLUSE_TRY(r, c.query("PRAGMA user_version", {}));
    return r.rows.empty() ? 0 : static_cast<int>(r.rows[0].integer(0));
  }
  ECLUSE_CHECK(c.script("CREATE TABLE IF NOT EXISTS ecluse_schema(version BIGINT NOT NULL)"));
  ECLUSE_TRY(r, c.query("SELECT version FROM ecluse_schema", {}));
  if (r.rows.empty()) {
    ECLUSE_CHECK(c.query("INSERT INTO ecluse_schema VALUES(0)", {}));
    return 0;
  }
  return static_cast<int>(r.rows[0].integer(0));
}

Status set_schema_version(sql::Connection& c, int version) {
  if (c.dialect() == sql::Dialect::sqlite) {
    return c.script("PRAGMA user_version = " + std::to_string(version));
  }
  return c.query("UPDATE ecluse_schema SET version=?", {std::int64_t{version}})
      .map([](const Rows&) {});
}

// The schema version without writing or locking anything: 0 when PostgreSQL has no version
// table yet. Every connection asks; only one that finds an old schema migrates.
Result<int> current_schema_version(sql::Connection& c) {
  if (c.dialect() == sql::Dialect::sqlite) {
    return schema_version_of(c);
  }
  ECLUSE_TRY(
      exists,
      c.query("SELECT CASE WHEN to_regclass('ecluse_schema') IS NULL THEN 0 ELSE 1 END", {}));
  if (exists.rows.empty() || exists.rows[0].integer(0) == 0) {
    return 0;
  }
  ECLUSE_TRY(r, c.query("SELECT version FROM ecluse_schema", {}));
  return r.rows.empty() ? 0 : static_cast<int>(r.rows[0].integer(0));
}

Result<int> migrate(sql::Connection& c, const std::string& where) {
  const int known = static_cast<int>(k_migrations.size());
  ECLUSE_TRY(current, current_schema_version(c));
  if (current == known) {
    return known;  // the common case: no transaction, no lock, no write
  }
  ECLUSE_TRY(tx, Tx::begin(c));
  if (c.dialect() == sql::Dialect::postgres) {
    // Workers starting together: one migrates, the others wait for it and find it done.
    ECLUSE_CHECK(c.query("SELECT pg_advisory_xact_lock(?)", {std::int64_t{0x65636c757365}}));
  }
  ECLUSE_TRY(version, schema_version_of(c));  // again, under the lock
  if (version > known) {
    return fail(reason::k_store_schema_too_new,
                where + " has schema version " + std::to_string(version)
                    + ", newer than this ecluse knows (" + std::to_string(known) + ")");
  }
  for (int v = version; v < known; ++v) {
    ECLUSE_CHECK(c.script(dialect_sql(k_migrations.at(static_cast<std::size_t>(v)), c.dialect())));
  }
  ECLUSE_CHECK(set_schema_version(c, known));
  ECLUSE_CHECK(tx.commit());
  return known;
}

Result<std::unique_ptr<StateStore>> open_over(std::unique_ptr<sql::Connection> conn,
                                              const std::string& where) {
  ECLUSE_TRY(version, migrate(*conn, where));
  return std::unique_ptr<StateStore>(std::make_unique<SqlStateStore>(std::move(conn), version));
}

}  // namespace

Result<std::unique_ptr<StateStore>> open_sqlite(const std::filesystem::path& path,
                                                std::uint32_t busy_timeout_ms) {
  ECLUSE_TRY(conn, sql::connect_sqlite(path.string(), busy_timeout_ms));
  return open_over(std::move(conn), "state.db");
}

Result<std::unique_ptr<StateStore>> open_postgres(const std::string& conninfo) {
  ECLUSE_TRY(conn, sql::connect_postgres(conninfo));
  return open_over(std::move(conn), "the PostgreSQL state store");
}

Result<std::unique_ptr<StateStore>> open_state_store(const StateStoreConfig& c) {
  if (c.connection.empty()) {
    return open_sqlite(c.sqlite_path, c.busy_timeout_ms);
  }
  return open_postgres(c.connection);
}

}  // namespace ecluse::store
