// The SQLite state store: WAL, busy timeout, forward-only schema migrations, and every state
// change checked against the drop state machine inside the transaction that makes it.
#include <ecluse/store/state_store.hpp>

#include <array>
#include <set>

#include "sqlite.hpp"

namespace ecluse::store {

namespace {

using sqlite::Stmt;

// Schema migrations: index i brings the schema from version i to i + 1. Never edit a
// released entry; append a new one.
constexpr std::array<std::string_view, 6> k_migrations{
    R"sql(
CREATE TABLE drops(
  id TEXT PRIMARY KEY,
  vendor TEXT NOT NULL, product TEXT NOT NULL, version TEXT NOT NULL, channel TEXT NOT NULL,
  source TEXT NOT NULL, state TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  reject_stage TEXT, reject_reason TEXT, reject_message TEXT, reject_item TEXT);
CREATE INDEX drops_by_name ON drops(vendor, product, version);
CREATE TABLE stage_results(
  drop_id TEXT NOT NULL REFERENCES drops(id), seq INTEGER NOT NULL,
  stage TEXT NOT NULL, state_after TEXT NOT NULL, evidence TEXT NOT NULL,
  committed_at TEXT NOT NULL, PRIMARY KEY(drop_id, seq));
CREATE TABLE findings(
  drop_id TEXT NOT NULL REFERENCES drops(id), seq INTEGER NOT NULL,
  stage TEXT NOT NULL, code TEXT NOT NULL, severity TEXT NOT NULL,
  item TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY(drop_id, seq));
)sql",
    R"sql(
CREATE INDEX drops_by_line ON drops(vendor, product, channel);
CREATE TABLE downgrade_allowances(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  vendor TEXT NOT NULL, product TEXT NOT NULL, channel TEXT NOT NULL, version TEXT NOT NULL,
  reason TEXT NOT NULL, actor TEXT NOT NULL, created_at TEXT NOT NULL, used_by TEXT);
)sql",
    R"sql(
CREATE TABLE reviews(
  drop_id TEXT NOT NULL REFERENCES drops(id), seq INTEGER NOT NULL,
  name TEXT NOT NULL, decision TEXT NOT NULL, reason TEXT NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY(drop_id, seq));
)sql",
    R"sql(
ALTER TABLE reviews ADD COLUMN key_id TEXT;
ALTER TABLE reviews ADD COLUMN envelope TEXT;
)sql",
    R"sql(
CREATE TABLE leases(name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE channel_heads(
  channel TEXT PRIMARY KEY, head TEXT NOT NULL, recorded_at TEXT NOT NULL);
)sql",
    R"sql(
ALTER TABLE stage_results ADD COLUMN journaled INTEGER NOT NULL DEFAULT 1;
)sql",
};

constexpr std::string_view k_allowance_columns =
    "vendor, product, channel, version, reason, actor, created_at, used_by";

DowngradeAllowance read_allowance(const sqlite::Stmt& s) {
  return DowngradeAllowance{s.text(0),
                            s.text(1),
                            s.text(2),
                            s.text(3),
                            s.text(4),
                            s.text(5),
                            s.text(6),
                            s.text_or_null(7).value_or("")};
}

constexpr std::string_view k_drop_columns =
    "id, vendor, product, version, channel, source, state, created_at, updated_at, "
    "reject_stage, reject_reason, reject_message, reject_item";

DropRecord read_drop(const Stmt& s) {
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

tl::unexpected<Error> illegal(const std::string& id, DropState from, DropState to) {
  return fail(reason::k_state_illegal_transition,
              "drop " + id + ": transition " + std::string(to_string(from)) + " -> "
                  + std::string(to_string(to)) + " is not allowed",
              id);
}

class SqliteStateStore final : public StateStore {
 public:
  explicit SqliteStateStore(sqlite::Db db, int version) : m_db(std::move(db)), m_version(version) {}

  Status create_drop(const DropRecord& drop, const StageRecord& result) override {
    if (!is_initial_state(result.state_after)) {
      return fail(reason::k_state_illegal_transition,
                  "drop " + drop.id + ": cannot start in state "
                      + std::string(to_string(result.state_after)),
                  drop.id);
    }
    ECLUSE_TRY(tx, sqlite::Transaction::begin(db()));
    ECLUSE_TRY(existing, get_drop(drop.id));
    if (existing) {
      return fail(reason::k_state_conflict, "drop " + drop.id + " already exists", drop.id);
    }
    ECLUSE_TRY(ins,
               Stmt::prepare(db(),
                             "INSERT INTO drops(id, vendor, product, version, channel, source, "
                             "state, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?)"));
    ECLUSE_CHECK(ins.bind(1, drop.id)
                     .bind(2, drop.vendor)
                     .bind(3, drop.product)
                     .bind(4, drop.version)
                     .bind(5, drop.channel)
                     .bind(6, drop.source)
                     .bind(7, to_string(result.state_after))
                     .bind(8, result.committed_at)
                     .bind(9, result.committed_at)
                     .run());
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
    ECLUSE_TRY(tx, sqlite::Transaction::begin(db()));
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
    ECLUSE_TRY(tx, sqlite::Transaction::begin(db()));
    ECLUSE_CHECK(move_state(id, from, DropState::rejected, result.committed_at));
    ECLUSE_CHECK(set_rejection(id, why));
    ECLUSE_CHECK(append_result(id, result, false));
    return tx.commit();
  }

  Status retry(const std::string& id,
               const std::optional<Rejection>& why,
               const StageRecord& result) override {
    ECLUSE_TRY(tx, sqlite::Transaction::begin(db()));
    ECLUSE_TRY(drop, get_drop(id));
    if (!drop || drop->state != DropState::rejected || !drop->rejection
        || (drop->rejection->stage != "intake" && drop->rejection->stage != "verify")) {
      return fail(reason::k_state_illegal_transition,
                  "drop " + id + " was not rejected before authentication: it cannot be retried",
                  id);
    }
    const auto to = why ? DropState::rejected : DropState::received;
    ECLUSE_TRY(upd,
               Stmt::prepare(db(),
                             "UPDATE drops SET state=?, updated_at=?, reject_stage=NULL, "
                             "reject_reason=NULL, reject_message=NULL, reject_item=NULL "
                             "WHERE id=? AND state='rejected'"));
    ECLUSE_CHECK(upd.bind(1, to_string(to)).bind(2, result.committed_at).bind(3, id).run());
    if (why) {
      ECLUSE_CHECK(set_rejection(id, *why));
    }
    ECLUSE_CHECK(append_result(id, result, false));
    return tx.commit();
  }

  Result<std::optional<DropRecord>> get_drop(const std::string& id) override {
    ECLUSE_TRY(
        s, Stmt::prepare(db(), "SELECT " + std::string(k_drop_columns) + " FROM drops WHERE id=?"));
    s.bind(1, id);
    ECLUSE_TRY(row, s.step());
    if (!row) {
      return std::optional<DropRecord>{};
    }
    return std::optional<DropRecord>{read_drop(s)};
  }

  Result<std::vector<DropRecord>> find_by_prefix(const std::string& prefix) override {
    return query_drops("WHERE substr(id, 1, ?) = ? ORDER BY created_at DESC, id",
                       {std::to_string(prefix.size()), prefix});
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
    ECLUSE_TRY(ins,
               Stmt::prepare(db(),
                             "INSERT INTO downgrade_allowances(" + std::string(k_allowance_columns)
                                 + ") VALUES(?,?,?,?,?,?,?,NULL)"));
    return ins.bind(1, a.vendor)
        .bind(2, a.product)
        .bind(3, a.channel)
        .bind(4, a.version)
        .bind(5, a.reason)
        .bind(6, a.actor)
        .bind(7, a.created_at)
        .run();
  }

  Result<std::optional<DowngradeAllowance>> use_downgrade_allowance(
      const DowngradeAllowance& w, const std::string& drop) override {
    ECLUSE_TRY(tx, sqlite::Transaction::begin(db()));
    ECLUSE_TRY(s,
               Stmt::prepare(db(),
                             "SELECT seq, " + std::string(k_allowance_columns)
                                 + " FROM downgrade_allowances WHERE vendor=? AND product=? AND "
                                   "channel=? AND version=? AND (used_by IS NULL OR used_by=?) "
                                   "ORDER BY (used_by IS NULL), seq LIMIT 1"));
    s.bind(1, w.vendor).bind(2, w.product).bind(3, w.channel).bind(4, w.version).bind(5, drop);
    ECLUSE_TRY(row, s.step());
    if (!row) {
      return std::optional<DowngradeAllowance>{};
    }
    const auto seq = s.integer(0);
    DowngradeAllowance a{
        s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.text(7), drop};
    ECLUSE_TRY(upd, Stmt::prepare(db(), "UPDATE downgrade_allowances SET used_by=? WHERE seq=?"));
    ECLUSE_CHECK(upd.bind(1, drop).bind(2, seq).run());
    ECLUSE_CHECK(tx.commit());
    return std::optional<DowngradeAllowance>{std::move(a)};
  }

  Result<std::vector<DowngradeAllowance>> downgrade_allowances() override {
    ECLUSE_TRY(s,
               Stmt::prepare(db(),
                             "SELECT " + std::string(k_allowance_columns)
                                 + " FROM downgrade_allowances ORDER BY seq"));
    std::vector<DowngradeAllowance> out;
    for (;;) {
      ECLUSE_TRY(row, s.step());
      if (!row) {
        return out;
      }
      out.push_back(read_allowance(s));
    }
  }

  Result<std::vector<StageRecord>> stage_results(const std::string& id) override {
    ECLUSE_TRY(s,
               Stmt::prepare(db(),
                             "SELECT stage, state_after, evidence, committed_at FROM stage_results "
                             "WHERE drop_id=? ORDER BY seq"));
    s.bind(1, id);
    std::vector<StageRecord> out;
    for (;;) {
      ECLUSE_TRY(row, s.step());
      if (!row) {
        return out;
      }
      auto evidence = json::parse_strict(s.text(2));
      out.push_back(StageRecord{s.text(0),
                                parse_drop_state(s.text(1)).value_or(DropState::rejected),
                                std::move(evidence.value),
                                s.text(3)});
    }
  }

  Status add_findings(const std::string& id, const std::vector<Finding>& list) override {
    ECLUSE_TRY(tx, sqlite::Transaction::begin(db()));
    std::set<std::string> stages;
    for (const auto& f : list) {
      stages.insert(f.stage);
    }
    for (const auto& stage : stages) {
      ECLUSE_TRY(del, Stmt::prepare(db(), "DELETE FROM findings WHERE drop_id=? AND stage=?"));
      ECLUSE_CHECK(del.bind(1, id).bind(2, stage).run());
    }
    ECLUSE_TRY(next, next_seq("findings", id));
    for (const auto& f : list) {
      ECLUSE_TRY(ins, Stmt::prepare(db(), "INSERT INTO findings VALUES(?,?,?,?,?,?,?)"));
      ECLUSE_CHECK(ins.bind(1, id)
                       .bind(2, next++)
                       .bind(3, f.stage)
                       .bind(4, f.code)
                       .bind(5, f.severity)
                       .bind(6, f.item)
                       .bind(7, f.detail)
                       .run());
    }
    return tx.commit();
  }

  Result<std::vector<Finding>> findings(const std::string& id) override {
    ECLUSE_TRY(s,
               Stmt::prepare(db(),
                             "SELECT stage, code, severity, item, detail FROM findings "
                             "WHERE drop_id=? ORDER BY seq"));
    s.bind(1, id);
    std::vector<Finding> out;
    for (;;) {
      ECLUSE_TRY(row, s.step());
      if (!row) {
        return out;
      }
      out.push_back(Finding{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
    }
  }

  Result<bool> approve(const Review& r, bool complete, const StageRecord& result) override {
    ECLUSE_TRY(tx, sqlite::Transaction::begin(db()));
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
    ECLUSE_TRY(tx, sqlite::Transaction::begin(db()));
    ECLUSE_CHECK(expect_held(r.drop));
    ECLUSE_CHECK(insert_review(r));
    ECLUSE_CHECK(move_state(r.drop, DropState::held, DropState::rejected, result.committed_at));
    ECLUSE_CHECK(set_rejection(r.drop, why));
    ECLUSE_CHECK(append_result(r.drop, result));
    return tx.commit();
  }

  Result<std::vector<Review>> reviews(const std::string& id) override {
    ECLUSE_TRY(
        s,
        Stmt::prepare(db(),
                      "SELECT name, decision, reason, created_at, key_id, envelope FROM reviews "
                      "WHERE drop_id=? ORDER BY seq"));
    s.bind(1, id);
    std::vector<Review> out;
    for (;;) {
      ECLUSE_TRY(row, s.step());
      if (!row) {
        return out;
      }
      out.push_back(Review{id,
                           s.text(0),
                           s.text(1),
                           s.text(2),
                           s.text(3),
                           s.text_or_null(4).value_or(""),
                           s.text_or_null(5).value_or("")});
    }
  }

  Result<std::vector<StageRecord>> unjournaled(const std::string& id) override {
    ECLUSE_TRY(s,
               Stmt::prepare(db(),
                             "SELECT stage, state_after, evidence, committed_at FROM stage_results "
                             "WHERE drop_id=? AND journaled=0 ORDER BY seq"));
    s.bind(1, id);
    std::vector<StageRecord> out;
    for (;;) {
      ECLUSE_TRY(row, s.step());
      if (!row) {
        return out;
      }
      const auto state = parse_drop_state(s.text(1));
      const auto evidence = json::parse_strict(s.text(2));
      out.push_back({s.text(0),
                     state.value_or(DropState::rejected),
                     evidence.failure == json::ParseFailure::none ? evidence.value : json::Json(),
                     s.text(3)});
    }
  }

  Status mark_journaled(const std::string& id) override {
    ECLUSE_TRY(upd,
               Stmt::prepare(
                   db(), "UPDATE stage_results SET journaled=1 WHERE drop_id=? AND journaled=0"));
    return upd.bind(1, id).run();
  }

  Result<LeaseClaim> claim_lease(const Lease& wanted, std::int64_t now) override {
    ECLUSE_TRY(tx, sqlite::Transaction::begin(db()));
    ECLUSE_TRY(held, lease_of(wanted.name));
    if (held && held->owner != wanted.owner && held->expires_at > now) {
      return LeaseClaim{false, std::move(*held)};
    }
    ECLUSE_TRY(up,
               Stmt::prepare(db(),
                             "INSERT INTO leases VALUES(?,?,?) ON CONFLICT(name) DO UPDATE SET "
                             "owner=excluded.owner, expires_at=excluded.expires_at"));
    ECLUSE_CHECK(up.bind(1, wanted.name).bind(2, wanted.owner).bind(3, wanted.expires_at).run());
    ECLUSE_CHECK(tx.commit());
    return LeaseClaim{true, wanted};
  }

  Status release_lease(const std::string& name, const std::string& owner) override {
    ECLUSE_TRY(del, Stmt::prepare(db(), "DELETE FROM leases WHERE name=? AND owner=?"));
    return del.bind(1, name).bind(2, owner).run();
  }

  Result<std::vector<Lease>> leases() override {
    ECLUSE_TRY(s, Stmt::prepare(db(), "SELECT name, owner, expires_at FROM leases ORDER BY name"));
    std::vector<Lease> out;
    for (;;) {
      ECLUSE_TRY(row, s.step());
      if (!row) {
        return out;
      }
      out.push_back(Lease{s.text(0), s.text(1), s.integer(2)});
    }
  }

  Status remember_head(const RememberedHead& head) override {
    ECLUSE_TRY(up,
               Stmt::prepare(db(),
                             "INSERT INTO channel_heads VALUES(?,?,?) ON CONFLICT(channel) DO "
                             "UPDATE SET head=excluded.head, recorded_at=excluded.recorded_at"));
    return up.bind(1, head.channel).bind(2, head.head).bind(3, head.recorded_at).run();
  }

  Result<std::optional<RememberedHead>> remembered_head(const std::string& channel) override {
    ECLUSE_TRY(s,
               Stmt::prepare(db(), "SELECT head, recorded_at FROM channel_heads WHERE channel=?"));
    s.bind(1, channel);
    ECLUSE_TRY(row, s.step());
    if (!row) {
      return std::optional<RememberedHead>{};
    }
    return std::optional<RememberedHead>{RememberedHead{channel, s.text(0), s.text(1)}};
  }

  [[nodiscard]] int schema_version() const override { return m_version; }

 private:
  sqlite3* db() { return m_db.get(); }

  Result<std::optional<Lease>> lease_of(const std::string& name) {
    ECLUSE_TRY(s, Stmt::prepare(db(), "SELECT owner, expires_at FROM leases WHERE name=?"));
    s.bind(1, name);
    ECLUSE_TRY(row, s.step());
    if (!row) {
      return std::optional<Lease>{};
    }
    return std::optional<Lease>{Lease{name, s.text(0), s.integer(1)}};
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
    ECLUSE_TRY(ins, Stmt::prepare(db(), "INSERT INTO reviews VALUES(?,?,?,?,?,?,?,?)"));
    return ins.bind(1, r.drop)
        .bind(2, seq)
        .bind(3, r.name)
        .bind(4, r.decision)
        .bind(5, r.reason)
        .bind(6, r.created_at)
        .bind(7, r.key_id)
        .bind(8, r.envelope)
        .run();
  }

  Status move_state(const std::string& id, DropState from, DropState to, const std::string& at) {
    ECLUSE_TRY(
        upd, Stmt::prepare(db(), "UPDATE drops SET state=?, updated_at=? WHERE id=? AND state=?"));
    ECLUSE_CHECK(upd.bind(1, to_string(to)).bind(2, at).bind(3, id).bind(4, to_string(from)).run());
    if (sqlite3_changes(db()) != 1) {
      return fail(reason::k_state_conflict,
                  "drop " + id + " is no longer in state " + std::string(to_string(from)),
                  id);
    }
    return {};
  }

  Status set_rejection(const std::string& id, const Rejection& why) {
    ECLUSE_TRY(upd,
               Stmt::prepare(db(),
                             "UPDATE drops SET reject_stage=?, reject_reason=?, reject_message=?, "
                             "reject_item=? WHERE id=?"));
    return upd.bind(1, why.stage)
        .bind(2, why.reason)
        .bind(3, why.message)
        .bind(4, why.item)
        .bind(5, id)
        .run();
  }

  Result<std::int64_t> next_seq(std::string_view table, const std::string& id) {
    ECLUSE_TRY(s,
               Stmt::prepare(db(),
                             "SELECT COALESCE(MAX(seq), 0) + 1 FROM " + std::string(table)
                                 + " WHERE drop_id=?"));
    s.bind(1, id);
    ECLUSE_TRY(row, s.step());
    return row ? s.integer(0) : 1;
  }

  // journaled false: a stage commit whose journal entry is yet to be written (mark_journaled).
  Status append_result(const std::string& id, const StageRecord& r, bool journaled = true) {
    ECLUSE_TRY(seq, next_seq("stage_results", id));
    ECLUSE_TRY(ins, Stmt::prepare(db(), "INSERT INTO stage_results VALUES(?,?,?,?,?,?,?)"));
    return ins.bind(1, id)
        .bind(2, seq)
        .bind(3, r.stage)
        .bind(4, to_string(r.state_after))
        .bind(5, json::dump_line(r.evidence))
        .bind(6, r.committed_at)
        .bind(7, std::int64_t{journaled ? 1 : 0})
        .run();
  }

  Result<std::vector<DropRecord>> query_drops(const std::string& where,
                                              const std::vector<std::string>& args) {
    ECLUSE_TRY(
        s, Stmt::prepare(db(), "SELECT " + std::string(k_drop_columns) + " FROM drops " + where));
    for (std::size_t i = 0; i < args.size(); ++i) {
      s.bind(static_cast<int>(i + 1), args[i]);
    }
    std::vector<DropRecord> out;
    for (;;) {
      ECLUSE_TRY(row, s.step());
      if (!row) {
        return out;
      }
      out.push_back(read_drop(s));
    }
  }

  sqlite::Db m_db;
  int m_version;
};

Result<int> user_version(sqlite3* db) {
  ECLUSE_TRY(s, Stmt::prepare(db, "PRAGMA user_version"));
  ECLUSE_TRY(row, s.step());
  return row ? static_cast<int>(s.integer(0)) : 0;
}

Result<int> migrate(sqlite3* db) {
  ECLUSE_TRY(tx, sqlite::Transaction::begin(db));
  ECLUSE_TRY(version, user_version(db));
  const int latest = static_cast<int>(k_migrations.size());
  if (version > latest) {
    return fail(reason::k_store_schema_too_new,
                "state.db has schema version " + std::to_string(version)
                    + ", newer than this ecluse knows (" + std::to_string(latest) + ")");
  }
  for (int v = version; v < latest; ++v) {
    ECLUSE_CHECK(sqlite::exec(db, k_migrations.at(static_cast<std::size_t>(v))));
  }
  ECLUSE_CHECK(sqlite::exec(db, "PRAGMA user_version = " + std::to_string(latest)));
  ECLUSE_CHECK(tx.commit());
  return latest;
}

}  // namespace

Result<std::unique_ptr<StateStore>> open_sqlite(const std::filesystem::path& path,
                                                std::uint32_t busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(),
                                 &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
                                 nullptr);
  sqlite::Db db(raw);
  if (rc != SQLITE_OK) {
    return sqlite::db_error(raw, "cannot open '" + path.string() + "'");
  }
  sqlite3_busy_timeout(db.get(), static_cast<int>(busy_timeout_ms));
  ECLUSE_CHECK(sqlite::exec(db.get(), "PRAGMA journal_mode=WAL"));
  ECLUSE_CHECK(sqlite::exec(db.get(), "PRAGMA synchronous=FULL"));
  ECLUSE_CHECK(sqlite::exec(db.get(), "PRAGMA foreign_keys=ON"));
  ECLUSE_TRY(version, migrate(db.get()));
  return std::unique_ptr<StateStore>(std::make_unique<SqliteStateStore>(std::move(db), version));
}

}  // namespace ecluse::store
