// The pipeline driver: committed stages are never re-run; a crash between stages resumes
// from the last committed one.
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/pipeline/stage_runner.hpp>

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/support.hpp"

using ecluse::DropState;
using ecluse::pipeline::StageRun;
using ecluse::pipeline::StageSpec;
using ecluse::test::DropBuilder;
using ecluse::test::TestWorkspace;

namespace {

// Two test stages over a real drop, after the real intake; they stand in only for the
// stages later issues add, to exercise the resumption mechanism those stages will use.
struct First {
  int value;
};

struct Second {
  int value;
};

const StageSpec k_first{"first", DropState::received, DropState::verified};
const StageSpec k_second{"second", DropState::verified, DropState::unpacked};

std::size_t events(const TestWorkspace& w, const std::string& name) {
  std::size_t n = 0;
  const auto entries = w.s().journal().entries().value();
  for (const auto& e : entries) {
    n += e["event"] == name ? 1U : 0U;
  }
  return n;
}

// A snapshot without the journal (which a replay appends to, and nothing else).
std::map<std::string, std::uintmax_t> without_journal(std::map<std::string, std::uintmax_t> m) {
  std::erase_if(m, [](const auto& e) { return e.first.find("/ws/journal") != std::string::npos; });
  return m;
}

// Runs both stages; `crash_between` kills the process with SIGKILL after the first commits.
ecluse::Status run_both(const TestWorkspace& w, const std::string& id, bool crash_between) {
  ECLUSE_TRY(first,
             ecluse::pipeline::run_stage<First>(
                 w.s(),
                 id,
                 k_first,
                 [] {
                   return StageRun<First>{First{1}, {{"ran", "first"}}};
                 },
                 []() -> ecluse::Result<First> { return First{1}; }));
  if (crash_between) {
    ::raise(SIGKILL);
  }
  ECLUSE_TRY(second,
             ecluse::pipeline::run_stage<Second>(
                 w.s(),
                 id,
                 k_second,
                 [&] {
                   return StageRun<Second>{Second{first->value + 1}, {{"ran", "second"}}};
                 },
                 []() -> ecluse::Result<Second> { return Second{2}; }));
  CHECK(second->value == 2);
  return {};
}

}  // namespace

TEST_CASE("pipeline::ingest of a byte-identical drop.json is a replay that does no work") {
  TestWorkspace w;
  const auto dir = DropBuilder{}.write(w.dir / "drop");
  const auto first = ecluse::pipeline::ingest(w.s(), dir).value();
  CHECK_FALSE(first.replay);
  const auto before = w.quarantine_snapshot();
  const auto again = ecluse::pipeline::ingest(w.s(), dir).value();
  CHECK(again.already_known);
  REQUIRE(again.replay);
  CHECK(again.replay->reason == "intake.replay");
  CHECK(again.replay->item == first.drop.id);
  CHECK(again.replay->message.find(first.drop.id.substr(0, 12)) != std::string::npos);
  CHECK(again.drop.state == DropState::verified);
  CHECK(again.drop.id == first.drop.id);
  CHECK(events(w, "intake.received") == 1);
  CHECK(events(w, "verify.done") == 1);
  CHECK(events(w, "intake.replay") == 1);
  CHECK(w.s().state().stage_results(first.drop.id).value().size() == 2);
  CHECK(without_journal(w.quarantine_snapshot()) == without_journal(before));
}

TEST_CASE("pipeline::ingest resumes a received drop at verify instead of calling it a replay") {
  TestWorkspace w;
  const auto dir = DropBuilder{}.write(w.dir / "drop");
  const auto id = w.intake_only(dir);
  const auto out = ecluse::pipeline::ingest(w.s(), dir).value();
  CHECK(out.already_known);
  CHECK_FALSE(out.replay);
  CHECK(out.drop.id == id);
  CHECK(out.drop.state == DropState::verified);
  CHECK(events(w, "verify.done") == 1);
}

TEST_CASE("pipeline::ingest keeps a rejected drop rejected and records the rejection once") {
  TestWorkspace w;
  DropBuilder b;
  b.fields["channel"] = "nightly";
  const auto dir = b.write(w.dir / "drop");
  CHECK(ecluse::pipeline::ingest(w.s(), dir).value().drop.state == DropState::rejected);
  const auto again = ecluse::pipeline::ingest(w.s(), dir).value();
  CHECK(again.already_known);
  REQUIRE(again.replay);
  CHECK(again.replay->reason == "intake.replay");
  CHECK(again.drop.rejection->reason == "drop.unknown_channel");
  CHECK(events(w, "intake.rejected") == 1);
}

TEST_CASE("pipeline::run_stage resumes after a crash between stages without re-running the first") {
  TestWorkspace w;
  const auto id = w.intake_only(DropBuilder{}.write(w.dir / "drop"));
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    (void)run_both(w, id, true);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  CHECK(w.s().state().get_drop(id).value()->state == DropState::verified);
  CHECK(events(w, "first.done") == 1);
  CHECK(events(w, "second.done") == 0);

  REQUIRE(run_both(w, id, false).has_value());
  CHECK(w.s().state().get_drop(id).value()->state == DropState::unpacked);
  CHECK(events(w, "first.done") == 1);
  CHECK(events(w, "second.done") == 1);
  const auto stages = w.s().state().stage_results(id).value();
  REQUIRE(stages.size() == 3);
  CHECK(stages[1].evidence["ran"] == "first");
  CHECK(stages[2].evidence["ran"] == "second");

  REQUIRE(run_both(w, id, false).has_value());
  CHECK(w.s().state().stage_results(id).value().size() == 3);
}

TEST_CASE("pipeline::run_stage records a rejection and stops; evaluation failures commit nothing") {
  TestWorkspace w;
  const auto id = w.intake_only(DropBuilder{}.write(w.dir / "drop"));
  SUBCASE("a failure to evaluate is not the vendor's fault") {
    const auto r = ecluse::pipeline::run_stage<First>(
        w.s(),
        id,
        k_first,
        [] {
          return StageRun<First>{ecluse::fail(ecluse::reason::k_store_io, "disk full"), {}};
        },
        []() -> ecluse::Result<First> { return First{1}; });
    CHECK(r.error().reason == "store.io_error");
    CHECK(w.s().state().get_drop(id).value()->state == DropState::received);
  }
  SUBCASE("a rejection is committed with its evidence") {
    const auto r = ecluse::pipeline::run_stage<First>(
        w.s(),
        id,
        k_first,
        [] {
          return StageRun<First>{
              ecluse::fail(ecluse::reason::k_drop_expired, "drop expired", "expires"),
              {{"why", "t"}}};
        },
        []() -> ecluse::Result<First> { return First{1}; });
    REQUIRE(r.has_value());
    CHECK_FALSE(r->has_value());
    const auto d = w.s().state().get_drop(id).value();
    CHECK(d->state == DropState::rejected);
    CHECK(d->rejection->stage == "first");
    CHECK(events(w, "first.rejected") == 1);
  }
}
