// The state store, the same suite over both backends (SQLite, PostgreSQL): records, atomic
// stage commits, refusals, leases, the job queue; and each backend's migrations.
#include <ecluse/store/state_store.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <sqlite3.h>
#include <thread>

#include "support/state_backends.hpp"
#include "support/support.hpp"

using ecluse::DropState;
using ecluse::store::DropRecord;
using ecluse::store::StageRecord;

namespace {

DropRecord drop(const std::string& id) {
  DropRecord d;
  d.id = id;
  d.vendor = "acme";
  d.product = "cloud";
  d.version = "1.0";
  d.channel = "prod";
  d.source = "/x";
  return d;
}

StageRecord result(const std::string& stage, DropState to) {
  return StageRecord{stage, to, {{"stage", stage}}, "2026-11-23T12:00:00Z"};
}

template <class Backend>
struct Fixture {
  Backend backend;
  std::unique_ptr<ecluse::store::StateStore> st = backend.open();
};

#define BACKENDS ecluse::test::SqliteBackend, ecluse::test::PostgresBackend

}  // namespace

TEST_CASE_TEMPLATE("store::StateStore creates a drop with its first stage result and finds it",
                   B,
                   BACKENDS) {
  Fixture<B> f;
  REQUIRE(f.st->create_drop(drop("abcdef0123"), result("intake", DropState::received)).has_value());
  const auto got = f.st->get_drop("abcdef0123").value();
  REQUIRE(got.has_value());
  CHECK(got->state == DropState::received);
  CHECK(got->vendor == "acme");
  CHECK(f.st->find_by_prefix("abcd").value().size() == 1);
  CHECK(f.st->find_by_prefix("abce").value().empty());
  CHECK(f.st->find_by_name("acme", "cloud", "1.0").value().size() == 1);
  const auto stages = f.st->stage_results("abcdef0123").value();
  REQUIRE(stages.size() == 1);
  CHECK(stages[0].evidence["stage"] == "intake");
  CHECK(f.st->schema_version() == 7);
}

TEST_CASE_TEMPLATE("store::StateStore refuses illegal transitions and leaves the drop unchanged",
                   B,
                   BACKENDS) {
  Fixture<B> f;
  REQUIRE(f.st->create_drop(drop("d1"), result("intake", DropState::received)).has_value());
  SUBCASE("skipping a stage") {
    const auto r =
        f.st->commit_stage("d1", DropState::received, result("unpack", DropState::unpacked));
    CHECK(r.error().reason == "state.illegal_transition");
  }
  SUBCASE("starting in a non-initial state") {
    const auto r = f.st->create_drop(drop("d2"), result("verify", DropState::verified));
    CHECK(r.error().reason == "state.illegal_transition");
    CHECK_FALSE(f.st->get_drop("d2").value().has_value());
  }
  SUBCASE("leaving rejected") {
    const ecluse::store::Rejection why{"verify", "signature.bad", "bad", "drop.json.sig"};
    REQUIRE(f.st->reject("d1", DropState::received, why, result("verify", DropState::rejected))
                .has_value());
    CHECK(f.st->commit_stage("d1", DropState::rejected, result("verify", DropState::verified))
              .error()
              .reason
          == "state.illegal_transition");
    CHECK(f.st->get_drop("d1").value()->rejection->reason == "signature.bad");
  }
  SUBCASE("from a state the drop is not in (another process moved it)") {
    REQUIRE(f.st->commit_stage("d1", DropState::received, result("verify", DropState::verified))
                .has_value());
    const auto r =
        f.st->commit_stage("d1", DropState::received, result("verify", DropState::verified));
    CHECK(r.error().reason == "state.conflict");
    CHECK(f.st->stage_results("d1").value().size() == 2);
  }
  SUBCASE("creating the same drop twice") {
    CHECK(f.st->create_drop(drop("d1"), result("intake", DropState::received)).error().reason
          == "state.conflict");
  }
}

TEST_CASE_TEMPLATE(
    "store::StateStore walks a drop through every legal state and records each result",
    B,
    BACKENDS) {
  Fixture<B> f;
  REQUIRE(f.st->create_drop(drop("d"), result("intake", DropState::received)).has_value());
  const std::vector<std::pair<DropState, DropState>> path{
      {DropState::received, DropState::verified},
      {DropState::verified, DropState::unpacked},
      {DropState::unpacked, DropState::diffed},
      {DropState::diffed, DropState::tested},
      {DropState::tested, DropState::held},
      {DropState::held, DropState::approved},
      {DropState::approved, DropState::signed_off},
      {DropState::signed_off, DropState::promoted}};
  for (const auto& [from, to] : path) {
    REQUIRE(
        f.st->commit_stage("d", from, result(std::string(ecluse::to_string(to)), to)).has_value());
  }
  CHECK(f.st->get_drop("d").value()->state == DropState::promoted);
  CHECK(f.st->stage_results("d").value().size() == 9);
  const ecluse::store::Rejection why{"x", "y", "z", ""};
  CHECK(f.st->reject("d", DropState::promoted, why, result("x", DropState::rejected)).error().reason
        == "state.illegal_transition");
}

TEST_CASE_TEMPLATE("store::StateStore keeps findings in order", B, BACKENDS) {
  Fixture<B> f;
  REQUIRE(f.st->create_drop(drop("d"), result("intake", DropState::received)).has_value());
  REQUIRE(
      f.st->add_findings("d",
                         {{"diff", "diff.new_endpoint", "medium", "bin/app", "https://x.example"},
                          {"diff", "diff.new_executable", "low", "bin/b", ""}})
          .has_value());
  const auto list = f.st->findings("d").value();
  REQUIRE(list.size() == 2);
  CHECK(list[0].code == "diff.new_endpoint");
  CHECK(list[1].item == "bin/b");
}

TEST_CASE("store::open_sqlite migrates forward, uses WAL, and refuses a newer schema") {
  ecluse::test::TempDir dir;
  { REQUIRE(ecluse::store::open_sqlite(dir / "state.db", 1000).has_value()); }
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir / "state.db").c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal");
    sqlite3_finalize(st);
    REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  const auto r = ecluse::store::open_sqlite(dir / "state.db", 1000);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().reason == "store.schema_too_new");
}

TEST_CASE_TEMPLATE(
    "store::StateStore approve records reviews and moves held → approved atomically when "
    "complete",
    B,
    BACKENDS) {
  Fixture<B> f;
  REQUIRE(f.st->create_drop(drop("d1"), result("intake", DropState::received)).has_value());
  const ecluse::store::Review alice{
      "d1", "alice", "approve", "ok", "2026-11-23T12:00:00Z", "k-alice", "{\"env\":1}"};
  SUBCASE("a drop that is not held is refused, nothing recorded") {
    const auto r = f.st->approve(alice, true, result("review", DropState::approved));
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == "review.not_held");
    CHECK(f.st->reviews("d1").value().empty());
    CHECK(f.st->approve({"nope", "a", "approve", "x", "t", "", ""},
                        true,
                        result("review", DropState::approved))
              .error()
              .reason
          == "state.unknown_drop");
  }
  SUBCASE("reviews are kept with their key and envelope; the drop moves only when complete") {
    for (const auto& [stage, to] : {std::pair{"verify", DropState::verified},
                                    std::pair{"unpack", DropState::unpacked},
                                    std::pair{"diff", DropState::diffed},
                                    std::pair{"test", DropState::tested}}) {
      const auto from = f.st->get_drop("d1").value()->state;
      REQUIRE(f.st->commit_stage("d1", from, result(stage, to)).has_value());
    }
    REQUIRE(
        f.st->commit_stage("d1", DropState::tested, result("policy", DropState::held)).has_value());
    CHECK_FALSE(f.st->approve(alice, false, result("review", DropState::approved)).value());
    CHECK_FALSE(f.st->approve(alice, false, result("review", DropState::approved)).value());
    CHECK(f.st->get_drop("d1").value()->state == DropState::held);
    const ecluse::store::Review bob{
        "d1", "bob", "approve", "ok", "2026-11-23T12:01:00Z", "k-bob", "{}"};
    CHECK(f.st->approve(bob, true, result("review", DropState::approved)).value());
    CHECK(f.st->get_drop("d1").value()->state == DropState::approved);
    const auto reviews = f.st->reviews("d1").value();
    REQUIRE(reviews.size() == 3);
    CHECK(reviews[0].key_id == "k-alice");
    CHECK(reviews[0].envelope == "{\"env\":1}");
    CHECK(reviews[2].key_id == "k-bob");
    CHECK(f.st->stage_results("d1").value().back().stage == "review");
    // Approved now: no further review is taken.
    CHECK(f.st->approve(bob, true, result("review", DropState::approved)).error().reason
          == "review.not_held");
  }
  SUBCASE("a rejection review rejects the held drop with its reason") {
    for (const auto& [stage, to] : {std::pair{"verify", DropState::verified},
                                    std::pair{"unpack", DropState::unpacked},
                                    std::pair{"diff", DropState::diffed},
                                    std::pair{"test", DropState::tested},
                                    std::pair{"policy", DropState::held}}) {
      const auto from = f.st->get_drop("d1").value()->state;
      REQUIRE(f.st->commit_stage("d1", from, result(stage, to)).has_value());
    }
    const ecluse::store::Rejection why{
        "review", "review.rejected", "rejected by carol: no", "carol"};
    REQUIRE(f.st->reject_review({"d1", "carol", "reject", "no", "t", "", ""},
                                why,
                                result("review", DropState::rejected))
                .has_value());
    const auto d = f.st->get_drop("d1").value();
    CHECK(d->state == DropState::rejected);
    CHECK(d->rejection->reason == "review.rejected");
    CHECK(f.st->reject_review({"d1", "dan", "reject", "no", "t", "", ""},
                              why,
                              result("review", DropState::rejected))
              .error()
              .reason
          == "review.not_held");
  }
}

TEST_CASE_TEMPLATE(
    "store::StateStore grants a lease to one owner at a time, and takes over an expired one",
    B,
    BACKENDS) {
  Fixture<B> f;
  auto other = f.backend.open();
  using ecluse::store::Lease;
  const auto a = f.st->claim_lease(Lease{"drop:d1", "a", 160}, 100).value();
  CHECK(a.granted);
  const auto b = other->claim_lease(Lease{"drop:d1", "b", 170}, 110).value();
  CHECK_FALSE(b.granted);
  CHECK(b.lease.owner == "a");
  CHECK(b.lease.expires_at == 160);
  // The holder renews; another name is independent.
  CHECK(f.st->claim_lease(Lease{"drop:d1", "a", 220}, 150).value().granted);
  CHECK(other->claim_lease(Lease{"drop:d2", "b", 220}, 150).value().granted);
  // Past its expiry (the holder died), anyone takes it.
  CHECK_FALSE(other->claim_lease(Lease{"drop:d1", "b", 300}, 219).value().granted);
  CHECK(other->claim_lease(Lease{"drop:d1", "b", 300}, 220).value().granted);
  // Only the holder releases it.
  REQUIRE(f.st->release_lease("drop:d1", "a").has_value());
  CHECK(f.st->leases().value().size() == 2);
  REQUIRE(other->release_lease("drop:d1", "b").has_value());
  const auto left = f.st->leases().value();
  REQUIRE(left.size() == 1);
  CHECK(left[0].name == "drop:d2");
}

TEST_CASE_TEMPLATE("store::StateStore remembers one head per channel", B, BACKENDS) {
  Fixture<B> f;
  CHECK_FALSE(f.st->remembered_head("prod").value().has_value());
  REQUIRE(f.st->remember_head({"prod", "aaaa", "2026-12-01T00:00:00Z"}).has_value());
  REQUIRE(f.st->remember_head({"prod", "bbbb", "2026-12-02T00:00:00Z"}).has_value());
  REQUIRE(f.st->remember_head({"preprod", "cccc", "2026-12-02T00:00:00Z"}).has_value());
  const auto got = f.st->remembered_head("prod").value();
  REQUIRE(got.has_value());
  CHECK(got->head == "bbbb");
  CHECK(got->recorded_at == "2026-12-02T00:00:00Z");
}

TEST_CASE_TEMPLATE("store::StateStore records a stage's findings once when the stage runs again",
                   B,
                   BACKENDS) {
  Fixture<B> f;
  REQUIRE(f.st->create_drop(drop("d"), result("intake", DropState::received)).has_value());
  const std::vector<ecluse::store::Finding> unpack{
      {"unpack", "unpack.setuid", "high", "bin/su", ""}};
  const std::vector<ecluse::store::Finding> diff{
      {"diff", "diff.new_endpoint", "medium", "bin/app", "https://x.example"},
      {"diff", "diff.new_executable", "low", "bin/b", ""}};
  REQUIRE(f.st->add_findings("d", unpack).has_value());
  REQUIRE(f.st->add_findings("d", diff).has_value());
  // A crash after the findings were stored but before the stage committed: it runs again.
  REQUIRE(f.st->add_findings("d", diff).has_value());
  const auto list = f.st->findings("d").value();
  REQUIRE(list.size() == 3);
  CHECK(list[0].stage == "unpack");
  CHECK(list[1].code == "diff.new_endpoint");
  CHECK(list[2].code == "diff.new_executable");
}

TEST_CASE(
    "store::open_sqlite of an up-to-date store writes nothing: it opens while another "
    "connection holds the write lock") {
  ecluse::test::TempDir dir;
  { REQUIRE(ecluse::store::open_sqlite(dir / "state.db", 1000).has_value()); }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((dir / "state.db").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const auto st = ecluse::store::open_sqlite(dir / "state.db", 50);  // would time out writing
  CHECK(st.has_value());
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

TEST_CASE(
    "store::open_postgres of an up-to-date store takes no lock: it opens while the "
    "migration lock is held") {
  const ecluse::test::PostgresBackend pg;
  { REQUIRE(ecluse::store::open_postgres(pg.conninfo()).has_value()); }
  auto holder = ecluse::store::sql::connect_postgres(pg.conninfo()).value();
  REQUIRE(holder->script("SELECT pg_advisory_lock(111477695804261)").has_value());  // migrate()'s
  std::atomic<bool> done{false};
  std::atomic<bool> opened{false};
  std::thread opener([&] {
    opened = ecluse::store::open_postgres(pg.conninfo()).has_value();
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(done);  // an open that waited for the lock is released below, and fails here
  REQUIRE(holder->script("SELECT pg_advisory_unlock(111477695804261)").has_value());
  opener.join();
  CHECK(opened);
}

TEST_CASE(
    "store::open_postgres migrates once when workers start together, and refuses a newer "
    "schema") {
  const ecluse::test::PostgresBackend pg;
  std::vector<std::thread> openers;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    openers.emplace_back([&] {
      if (auto st = ecluse::store::open_postgres(pg.conninfo());
          st && (*st)->schema_version() == 7) {
        ++opened;
      }
    });
  }
  for (auto& t : openers) {
    t.join();
  }
  CHECK(opened == 4);
  auto c = ecluse::store::sql::connect_postgres(pg.conninfo()).value();
  REQUIRE(c->script("UPDATE ecluse_schema SET version=99").has_value());
  const auto r = ecluse::store::open_postgres(pg.conninfo());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().reason == "store.schema_too_new");
  CHECK(ecluse::store::open_postgres("host=127.0.0.1 port=1 connect_timeout=2").error().reason
        == "store.db_error");
}

namespace {

ecluse::store::Job job(const std::string& source, const std::string& id, const std::string& line) {
  ecluse::store::Job j;
  j.source = source;
  j.drop = id;
  j.line = line;
  j.stage = "intake";
  j.promote_to = "preprod";
  j.created_at = "2026-12-02T00:00:00Z";
  return j;
}

ecluse::store::JobEnd end_of(const ecluse::store::Job& j,
                             const std::string& status,
                             std::optional<std::string> next = std::nullopt) {
  return {j.id, j.owner, status, "{}", 0, std::move(next), "", "2026-12-02T00:00:01Z"};
}

}  // namespace

TEST_CASE_TEMPLATE(
    "store::StateStore job queue: enqueue once, claim in order, chain the next "
    "stage",
    B,
    BACKENDS) {
  Fixture<B> f;
  const auto a = f.st->enqueue(job("/in/a", "aa", "acme/cloud/prod")).value();
  CHECK(a.added);
  CHECK(a.job.status == "queued");
  CHECK(a.job.stage == "intake");
  // The same (directory, drop.json) again: nothing new (a rescan, a second watcher).
  CHECK_FALSE(f.st->enqueue(job("/in/a", "aa", "acme/cloud/prod")).value().added);
  CHECK(f.st->enqueue(job("/in/b", "bb", "acme/cloud/prod")).value().added);
  CHECK(f.st->enqueue(job("/in/c", "cc", "acme/other/prod")).value().added);
  CHECK(f.st->jobs().value().size() == 3);

  auto first = f.st->claim_job("w1", 100, 130, "t").value();
  REQUIRE(first.has_value());
  CHECK(first->source == "/in/a");
  CHECK(first->status == "running");
  CHECK(first->owner == "w1");
  CHECK(first->attempts == 1);
  // b waits for a (same line); c runs beside it.
  auto second = f.st->claim_job("w2", 100, 130, "t").value();
  REQUIRE(second.has_value());
  CHECK(second->source == "/in/c");
  CHECK_FALSE(f.st->claim_job("w3", 100, 130, "t").value().has_value());

  // a's intake is done: its verify job is queued in the same transaction, and still holds b.
  CHECK(f.st->finish_job(end_of(*first, "done", "verify")).value());
  auto next = f.st->claim_job("w1", 101, 131, "t").value();
  REQUIRE(next.has_value());
  CHECK(next->source == "/in/a");
  CHECK(next->stage == "verify");
  CHECK(next->chain == first->chain);
  CHECK(f.st->finish_job(end_of(*next, "done")).value());
  auto b = f.st->claim_job("w1", 102, 132, "t").value();
  REQUIRE(b.has_value());
  CHECK(b->source == "/in/b");
  // Ending a job one no longer holds changes nothing.
  CHECK_FALSE(f.st->finish_job(end_of(*first, "done", "unpack")).value());
  CHECK(f.st->jobs().value().size() == 4);
}

TEST_CASE_TEMPLATE(
    "store::StateStore job queue: an expired lease is taken over, a live one "
    "renewed, a retry waits",
    B,
    BACKENDS) {
  Fixture<B> f;
  auto other = f.backend.open();
  REQUIRE(f.st->enqueue(job("/in/a", "aa", "l")).has_value());
  auto j = f.st->claim_job("w1", 100, 130, "t").value();
  REQUIRE(j.has_value());
  CHECK_FALSE(other->claim_job("w2", 120, 150, "t").value().has_value());
  CHECK(f.st->renew_job(j->id, "w1", 160).value());
  CHECK_FALSE(other->claim_job("w2", 140, 170, "t").value().has_value());
  CHECK_FALSE(other->renew_job(j->id, "w2", 200).value());
  // w1 dies: at its expiry w2 takes the job over (a second attempt).
  auto taken = other->claim_job("w2", 160, 190, "t").value();
  REQUIRE(taken.has_value());
  CHECK(taken->id == j->id);
  CHECK(taken->owner == "w2");
  CHECK(taken->attempts == 2);
  CHECK_FALSE(f.st->renew_job(j->id, "w1", 200).value());
  // A dead owner found on this host: expire_job is a compare-and-swap on the owner.
  CHECK_FALSE(f.st->expire_job(j->id, "w1").value());
  CHECK(f.st->expire_job(j->id, "w2").value());
  auto again = f.st->claim_job("w3", 161, 191, "t").value();
  REQUIRE(again.has_value());
  // Queued again with a delay: not claimable before not_before.
  auto e = end_of(*again, "queued");
  e.not_before = 200;
  CHECK(f.st->finish_job(e).value());
  CHECK_FALSE(other->claim_job("w2", 199, 229, "t").value().has_value());
  auto later = other->claim_job("w2", 200, 230, "t").value();
  REQUIRE(later.has_value());
  CHECK(later->attempts == 4);
  CHECK(other->finish_job(end_of(*later, "failed")).value());
  CHECK_FALSE(other->claim_job("w2", 300, 330, "t").value().has_value());
  CHECK(f.st->jobs().value().at(0).status == "failed");
}

TEST_CASE_TEMPLATE(
    "store::StateStore job queue: a finished chain continues once with a stage it did not run",
    B,
    BACKENDS) {
  Fixture<B> f;
  CHECK_FALSE(f.st->latest_job_of("aa").value().has_value());  // never queued
  REQUIRE(f.st->enqueue(job("/in/a", "aa", "acme/cloud/prod")).has_value());
  REQUIRE(f.st->enqueue(job("/in/b", "bb", "acme/cloud/prod")).has_value());
  auto a = f.st->claim_job("w1", 100, 130, "t").value();
  REQUIRE(a.has_value());
  // While the chain has a running job it does not continue.
  CHECK_FALSE(f.st->continue_chain(a->chain, "promote", "t").value().has_value());
  CHECK(f.st->finish_job(end_of(*a, "done")).value());  // a held for review: the chain ends
  const auto last = f.st->latest_job_of("aa").value();
  REQUIRE(last.has_value());
  CHECK(last->id == a->id);
  CHECK(last->promote_to == "preprod");
  // Approved since: its promotion is queued, once, ahead of the later drop of its line.
  const auto more = f.st->continue_chain(a->chain, "promote", "t2").value();
  REQUIRE(more.has_value());
  CHECK(more->stage == "promote");
  CHECK(more->status == "queued");
  CHECK(more->chain == a->chain);
  CHECK_FALSE(f.st->continue_chain(a->chain, "promote", "t3").value().has_value());
  auto next = f.st->claim_job("w2", 101, 131, "t").value();
  REQUIRE(next.has_value());
  CHECK(next->id == more->id);
  CHECK(f.st->finish_job(end_of(*next, "done")).value());
  // A stage the chain ran is never queued again.
  CHECK_FALSE(f.st->continue_chain(a->chain, "promote", "t4").value().has_value());
  CHECK(f.st->latest_job_of("aa").value()->id == more->id);
  CHECK_FALSE(f.st->continue_chain(999, "promote", "t").has_value());  // no such chain
}

TEST_CASE_TEMPLATE("store::StateStore job queue: workers racing claim every job exactly once",
                   B,
                   BACKENDS) {
  Fixture<B> f;
  constexpr int k_jobs = 40;
  for (int i = 0; i < k_jobs; ++i) {
    REQUIRE(f.st->enqueue(job("/in/" + std::to_string(i), std::to_string(i), "")).has_value());
  }
  std::mutex m;
  std::map<std::int64_t, int> claimed;
  std::atomic<int> errors{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w, st = f.backend.open()] {
      for (;;) {
        auto j = st->claim_job("w" + std::to_string(w), 100, 130, "t");
        if (!j) {
          ++errors;
          continue;
        }
        if (!*j) {
          return;
        }
        {
          const std::scoped_lock lock(m);
          ++claimed[(*j)->id];
        }
        auto end = end_of(**j, "done");
        if (!st->finish_job(end).value_or(false)) {
          ++errors;
        }
      }
    });
  }
  for (auto& t : workers) {
    t.join();
  }
  CHECK(errors == 0);
  CHECK(claimed.size() == k_jobs);
  for (const auto& [id, times] : claimed) {
    CHECK_MESSAGE(times == 1, "job " << id);
  }
}
