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
  CHECK(ecluse::test::past(again.drop.state, DropState::unpacked));
  CHECK(again.drop.id == first.drop.id);
  CHECK(events(w, "intake.received") == 1);
  CHECK(events(w, "verify.done") == 1);
  CHECK(events(w, "unpack.done") == 1);
  CHECK(events(w, "intake.replay") == 1);
  CHECK(w.s().state().stage_results(first.drop.id).value().size() == 6);
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
  CHECK(ecluse::test::past(out.drop.state, DropState::unpacked));
  CHECK(events(w, "verify.done") == 1);
}

TEST_CASE("pipeline::ingest runs a drop rejected at intake again when it is submitted again") {
  TestWorkspace w;
  DropBuilder b;
  const auto dir = b.write(w.dir / "drop");
  ecluse::test::write_file(dir / "payload" / "README", "damaged in transfer\n");
  const auto first = ecluse::pipeline::ingest(w.s(), dir).value();
  CHECK(first.drop.state == DropState::rejected);
  CHECK(first.drop.rejection->reason == "intake.artifact_size_mismatch");
  SUBCASE("the same damage: rejected again, both attempts recorded") {
    const auto again = ecluse::pipeline::ingest(w.s(), dir).value();
    CHECK(again.already_known);
    CHECK_FALSE(again.replay);
    CHECK(again.drop.rejection->reason == "intake.artifact_size_mismatch");
    CHECK(events(w, "intake.rejected") == 2);
    CHECK(events(w, "intake.retry") == 1);
  }
  SUBCASE("the transfer repaired: the same drop.json is taken in and verified") {
    ecluse::test::write_file(dir / "payload" / "README", b.files.at("README"));
    const auto again = ecluse::pipeline::ingest(w.s(), dir).value();
    CHECK(again.drop.id == first.drop.id);
    CHECK(ecluse::test::past(again.drop.state, DropState::unpacked));
    CHECK_FALSE(again.drop.rejection);
    CHECK(events(w, "verify.done") == 1);
    const auto third = ecluse::pipeline::ingest(w.s(), dir).value();
    REQUIRE(third.replay);
    CHECK(third.replay->reason == "intake.replay");
  }
}

TEST_CASE("pipeline::ingest: a forged signature file does not block the genuine drop") {
  TestWorkspace w;
  DropBuilder forged;
  forged.sign = [](const std::string&) {
    return std::optional<std::string>("forged bytes");
  };
  const auto bad = ecluse::pipeline::ingest(w.s(), forged.write(w.dir / "forged")).value();
  CHECK(bad.drop.rejection->reason == "signature.malformed");
  const auto good = ecluse::pipeline::ingest(w.s(), DropBuilder{}.write(w.dir / "genuine")).value();
  CHECK(good.drop.id == bad.drop.id);
  CHECK(ecluse::test::past(good.drop.state, DropState::unpacked));
}

TEST_CASE("pipeline::ingest keeps a drop rejected after verify a replay") {
  TestWorkspace w;
  const auto dir = DropBuilder{}.write(w.dir / "drop");
  const auto id = ecluse::pipeline::ingest(w.s(), dir).value().drop.id;
  const ecluse::store::Rejection why{"diff", "unpack.path_traversal", "test", "x"};
  REQUIRE(w.s()
              .state()
              .reject(id,
                      DropState::held,
                      why,
                      {"diff", DropState::rejected, ecluse::json::Json::object(), "t"})
              .has_value());
  const auto again = ecluse::pipeline::ingest(w.s(), dir).value();
  REQUIRE(again.replay);
  CHECK(again.drop.rejection->reason == "unpack.path_traversal");
  CHECK(
      w.s().state().retry(id, std::nullopt, {"intake", DropState::received, {}, "t"}).error().reason
      == "state.illegal_transition");
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

TEST_CASE("pipeline::ingest with max_stages runs that many stages, then resume one at a time") {
  TestWorkspace w;
  const auto dir = DropBuilder{}.write(w.dir / "drop");
  ecluse::pipeline::IngestOptions one;
  one.max_stages = 1;
  // intake only: the next stage is left for the next job (pipeline.yielded, naming the drop).
  const auto first = ecluse::pipeline::ingest(w.s(), dir, {}, one);
  REQUIRE_FALSE(first.has_value());
  CHECK(first.error().reason == "pipeline.yielded");
  const auto id = first.error().item;
  CHECK(w.s().state().get_drop(id).value()->state == DropState::received);
  CHECK(events(w, "intake.received") == 1);
  CHECK(events(w, "verify.done") == 0);
  // resume runs exactly one more stage each time.
  const auto second = ecluse::pipeline::resume(w.s(), id, one);
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().reason == "pipeline.yielded");
  CHECK(w.s().state().get_drop(id).value()->state == DropState::verified);
  CHECK(events(w, "verify.done") == 1);
  CHECK(events(w, "unpack.done") == 0);
  // Without a limit, resume runs the rest; a finished drop is its outcome, not a replay.
  const auto rest = ecluse::pipeline::resume(w.s(), id).value();
  CHECK(ecluse::test::past(rest.drop.state, DropState::unpacked));
  const auto again = ecluse::pipeline::resume(w.s(), id).value();
  CHECK_FALSE(again.replay);
  CHECK(again.drop.state == rest.drop.state);
  CHECK(events(w, "verify.done") == 1);
  CHECK(events(w, "unpack.done") == 1);
  CHECK(events(w, "intake.replay") == 0);
  CHECK(ecluse::pipeline::resume(w.s(), "00ff").error().reason == "state.unknown_drop");
}
