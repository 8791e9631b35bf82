// The test stage in the pipeline, with real sandboxes: a product's suite run against its drop,
// the findings the policy judges, and the environment errors that must never be a silent skip.
#include <ecluse/core/fs.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/sandbox/run.hpp>
#include <ecluse/sandbox/sandbox.hpp>

#include <doctest/doctest.h>

#include <cstdlib>

#include "support/support.hpp"

namespace {

using ecluse::DropState;
using ecluse::json::Json;
using ecluse::test::DropBuilder;
using ecluse::test::TestWorkspace;

bool sandbox_usable() {
  auto env = ecluse::sandbox::probe_environment();
  if (!env && env.error().reason == "sandbox.userns_unavailable") {
    MESSAGE("skipped: " << env.error().message);
    return false;
  }
  REQUIRE_MESSAGE(env.has_value(), env.error().to_string());
  return true;
}

struct Fixture {
  TestWorkspace w;
  int n = 0;

  [[nodiscard]] std::filesystem::path ws() const { return w.dir / "ws"; }

  void suite(const Json& commands) const {
    ecluse::test::write_file(ws() / "sandbox" / "suites" / "cloud" / "suite.json",
                             Json{{"schema", "ecluse.suite/v1"}, {"commands", commands}}.dump());
  }

  void policy(const std::function<void(Json&)>& edit) const {
    auto doc = ecluse::test::test_policy();
    edit(doc);
    ecluse::test::write_file(ws() / "policy.json", doc.dump());
  }

  ecluse::Result<ecluse::pipeline::IngestOutcome> ingest(const DropBuilder& b) {
    const auto dir = b.write(w.dir.path() / ("drop" + std::to_string(n++)));
    return ecluse::pipeline::ingest(w.s(), dir);
  }

  [[nodiscard]] std::vector<ecluse::store::Finding> findings(const std::string& id,
                                                             const std::string& code) const {
    std::vector<ecluse::store::Finding> out;
    auto all = w.s().state().findings(id).value();
    for (auto& f : all) {
      if (f.code == code) {
        out.push_back(std::move(f));
      }
    }
    return out;
  }
};

// Sets an environment variable for the scope of one test.
struct ScopedEnv {
  std::string name;

  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
    ::setenv(name.c_str(), value.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  }

  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

  ~ScopedEnv() { ::unsetenv(name.c_str()); }  // NOLINT(concurrency-mt-unsafe)
};

}  // namespace

TEST_CASE("test stage: a date check that fails only in the shifted run is fails_in_future") {
  if (!sandbox_usable()) {
    return;
  }
  Fixture f;
  const auto deadline = std::to_string(::time(nullptr) + 200 * 86400);
  f.suite(Json::array({{{"name", "runs"}, {"argv", {"/bin/sh", "/drop/payload/bin/app"}}},
                       {{"name", "licence"},
                        {"argv", {"/bin/sh", "-c", "[ \"$(date +%s)\" -lt " + deadline + " ]"}}}}));
  auto out = f.ingest(DropBuilder{}).value();
  CHECK(out.drop.state == DropState::held);
  const auto future = f.findings(out.drop.id, "test.fails_in_future");
  REQUIRE(future.size() == 1);
  CHECK(future[0].item == "licence");
  CHECK(future[0].detail.find("400 days ahead") != std::string::npos);
  CHECK(f.findings(out.drop.id, "test.failed").empty());
  // The evidence: test.json with both runs, and the captured output of each.
  const auto drop_dir = f.ws() / "quarantine" / "drops" / out.drop.id;
  const auto doc =
      ecluse::json::parse_strict(ecluse::test::read_file(drop_dir / "test.json")).value;
  REQUIRE(doc["commands"].size() == 2);
  CHECK(doc["commands"][0]["now"]["exit_code"] == 0);
  CHECK(doc["commands"][1]["shifted"]["exit_code"] == 1);
  CHECK(doc["environment"]["bwrap"].get<std::string>().rfind("bubblewrap ", 0) == 0);
  CHECK(doc["profile"]["sha256"].get<std::string>().size() == 64);
  CHECK(ecluse::test::read_file(drop_dir / "test-output" / "runs.now.stdout") == "demo app\n");
}

TEST_CASE("test stage: a failing command rejects by default, an egress attempt holds") {
  if (!sandbox_usable()) {
    return;
  }
  SUBCASE("failing") {
    Fixture f;
    f.suite(Json::array({{{"name", "broken"}, {"argv", {"/bin/sh", "-c", "exit 4"}}}}));
    auto out = f.ingest(DropBuilder{}).value();
    CHECK(out.drop.state == DropState::rejected);
    REQUIRE(out.drop.rejection.has_value());
    CHECK(out.drop.rejection->reason == "test.failed");
    CHECK(out.drop.rejection->item == "broken");
  }
  SUBCASE("phoning home") {
    Fixture f;
    f.suite(Json::array(
        {{{"name", "phone"},
          {"argv", {"/bin/sh", "-c", "getent hosts licence.vendor.example; exit 0"}}}}));
    auto out = f.ingest(DropBuilder{}).value();
    CHECK(out.drop.state == DropState::held);
    const auto egress = f.findings(out.drop.id, "test.egress_attempt");
    REQUIRE_FALSE(egress.empty());
    CHECK(egress[0].detail.find("licence.vendor.example") != std::string::npos);
  }
}

TEST_CASE("test stage: no sandbox here is an environment error, never a silent skip") {
  Fixture f;
  f.suite(Json::array({{{"name", "runs"}, {"argv", {"/bin/true"}}}}));
  const ScopedEnv no_bwrap("ECLUSE_BWRAP", (f.w.dir / "no-such-bwrap").string());
  auto r = f.ingest(DropBuilder{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().reason == "sandbox.bwrap_missing");
  CHECK(r.error().message.find("apt-get install bubblewrap") != std::string::npos);
  CHECK(r.error().code == ecluse::Errc::unavailable);  // exit 3, the vendor is not blamed
  const auto drops = f.w.s().state().list_drops().value();
  REQUIRE(drops.size() == 1);
  CHECK(drops[0].state == DropState::diffed);  // waits for a machine that can test it
  SUBCASE("the policy may allow untested drops, explicitly: test.not_run") {
    f.policy([](Json& p) { p["actions"]["test.not_run"] = "allow"; });
    auto again = f.ingest(DropBuilder{}).value();
    CHECK(again.drop.state == DropState::held);  // for its new executable, as without a suite
    const auto not_run = f.findings(again.drop.id, "test.not_run");
    REQUIRE(not_run.size() == 1);
    CHECK(not_run[0].item == "sandbox.bwrap_missing");
  }
}

TEST_CASE("test stage: libfaketime missing stops the stage with what to install") {
  const ScopedEnv no_faketime("ECLUSE_FAKETIME_LIB", "/usr/lib/no-such-faketime.so.1");
  auto env = ecluse::sandbox::probe_environment();
  if (!env && env.error().reason == "sandbox.userns_unavailable") {
    return;
  }
  REQUIRE_FALSE(env.has_value());
  CHECK(env.error().reason == "sandbox.faketime_missing");
  CHECK(env.error().message.find("apt-get install faketime") != std::string::npos);
}

TEST_CASE("test stage: a drop whose product has no suite gets test.no_suite") {
  Fixture f;
  f.policy([](Json& p) { p["actions"].erase("test.no_suite"); });  // back to the default: hold
  auto out = f.ingest(DropBuilder{}).value();
  CHECK(out.drop.state == DropState::held);
  const auto none = f.findings(out.drop.id, "test.no_suite");
  REQUIRE(none.size() == 1);
  CHECK(none[0].item == "cloud");
}

TEST_CASE("test stage: user namespaces unavailable is an environment error naming what to enable") {
  // A stand-in for bwrap at the process seam: it answers --version and then fails the trial
  // sandbox the way bwrap does on a kernel without (unprivileged) user namespaces.
  const ecluse::test::TempDir t;
  const auto fake = t / "bwrap";
  ecluse::test::write_file(
      fake,
      "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'bubblewrap 0.8.0'; exit 0; }\n"
      "echo 'bwrap: No permissions to creating new namespace' >&2; exit 1\n");
  std::filesystem::permissions(
      fake,
      std::filesystem::perms::owner_all | std::filesystem::perms::group_exec
          | std::filesystem::perms::others_exec | std::filesystem::perms::group_read
          | std::filesystem::perms::others_read);
  // The sandbox user must reach it when ecluse is root.
  std::filesystem::permissions(
      t.path(), std::filesystem::perms::others_exec, std::filesystem::perm_options::add);
  const ScopedEnv env("ECLUSE_BWRAP", fake.string());
  auto r = ecluse::sandbox::probe_environment();
  if (r || r.error().reason != "sandbox.userns_unavailable") {
    // Other checks come first (seccomp, capabilities); only where they pass is this reachable.
    REQUIRE_FALSE(r.has_value());
    MESSAGE("earlier check failed: " << r.error().to_string());
    return;
  }
  CHECK(r.error().code == ecluse::Errc::unavailable);
  CHECK(r.error().message.find("No permissions to creating new namespace") != std::string::npos);
  CHECK(r.error().message.find("user.max_user_namespaces") != std::string::npos);
}
