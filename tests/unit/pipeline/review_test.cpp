// Diff, verdict and human review through the real pipeline: held → approved → continues,
// held → rejected, approvals counted once per name, the baseline chosen and refused when it
// cannot be read, and a malformed policy that evaluates nothing.
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/pipeline/review.hpp>
#include <ecluse/policy/policy.hpp>

#include <doctest/doctest.h>

#include "support/support.hpp"

using ecluse::DropState;
using ecluse::json::Json;
using ecluse::test::DropBuilder;
using ecluse::test::TestWorkspace;

namespace {

struct Fixture {
  TestWorkspace w;
  int n = 0;

  [[nodiscard]] std::filesystem::path ws() const { return w.dir.path() / "ws"; }

  void set_policy(const std::function<void(Json&)>& edit) const {
    auto doc = ecluse::test::test_policy();
    edit(doc);
    ecluse::test::write_file(ws() / "policy.json", doc.dump());
  }

  ecluse::Result<ecluse::pipeline::IngestOutcome> ingest(const DropBuilder& b,
                                                         const std::string& baseline = {}) {
    const auto dir = b.write(w.dir.path() / ("drop" + std::to_string(n++)));
    return ecluse::pipeline::ingest(w.s(), dir, {}, ecluse::pipeline::IngestOptions{baseline});
  }

  [[nodiscard]] std::vector<ecluse::store::Finding> findings(const std::string& id) const {
    return w.s().state().findings(id).value();
  }

  [[nodiscard]] Json diff_doc(const std::string& id) const {
    return Json::parse(ecluse::test::read_file(ws() / "quarantine" / "drops" / id / "diff.json"));
  }

  [[nodiscard]] std::size_t events(const std::string& name) const {
    std::size_t count = 0;
    const auto entries = w.s().journal().entries().value();
    for (const auto& e : entries) {
      count += e["event"] == name ? 1U : 0U;
    }
    return count;
  }

  // An accepted first release (approved by one engineer).
  std::string accepted_v1(const DropBuilder& b) {
    auto out = ingest(b).value();
    REQUIRE(out.drop.state == DropState::held);
    REQUIRE(ecluse::pipeline::approve(w.s(), out.drop.id, "alice", "first release").has_value());
    return out.drop.id;
  }
};

bool has_code(const std::vector<ecluse::store::Finding>& f, const std::string& code) {
  return std::any_of(f.begin(), f.end(), [&](const auto& x) { return x.code == code; });
}

}  // namespace

TEST_CASE("pipeline review: a held drop waits, counts each name once, then continues") {
  Fixture f;
  f.set_policy([](Json& p) { p["approvals"]["prod"] = 2; });
  auto out = f.ingest(DropBuilder{}).value();
  REQUIRE(out.drop.state == DropState::held);  // bin/app is a new executable (a script)
  const auto& id = out.drop.id;
  CHECK(has_code(f.findings(id), "diff.new_executable"));
  CHECK(has_code(f.findings(id), "diff.first_release"));
  CHECK(std::filesystem::exists(f.ws() / "quarantine" / "drops" / id / "report.html"));

  auto first = ecluse::pipeline::approve(f.w.s(), id, "alice", "looked at the script").value();
  CHECK(first.drop.state == DropState::held);
  CHECK(first.required == 2);
  CHECK_FALSE(first.continued);
  auto again = ecluse::pipeline::approve(f.w.s(), id, "alice", "still fine").value();
  CHECK(again.drop.state == DropState::held);  // the same name counts once
  CHECK(again.approvers == std::vector<std::string>{"alice"});
  auto second = ecluse::pipeline::approve(f.w.s(), id, "bob", "agreed").value();
  CHECK(second.drop.state == DropState::signed_off);  // approved, then signed
  CHECK(second.continued);
  CHECK(second.approvers == std::vector<std::string>{"alice", "bob"});
  CHECK(f.events("review.approved") == 3);
  CHECK(f.events("review.completed") == 1);
  const auto late = ecluse::pipeline::approve(f.w.s(), id, "carol", "late");
  REQUIRE_FALSE(late);
  CHECK(late.error().reason == "review.not_held");
  const auto html = ecluse::test::read_file(f.ws() / "quarantine" / "drops" / id / "report.html");
  CHECK(html.find("bob") != std::string::npos);
}

TEST_CASE("pipeline review: a held drop rejected by an engineer is final") {
  Fixture f;
  auto out = f.ingest(DropBuilder{}).value();
  REQUIRE(out.drop.state == DropState::held);
  auto r = ecluse::pipeline::reject(f.w.s(), out.drop.id, "carol", "unexpected binary").value();
  CHECK(r.drop.state == DropState::rejected);
  REQUIRE(r.drop.rejection.has_value());
  CHECK(r.drop.rejection->stage == "review");
  CHECK(r.drop.rejection->reason == "review.rejected");
  CHECK(r.drop.rejection->message.find("carol") != std::string::npos);
  CHECK(f.events("review.rejected") == 1);
  CHECK(ecluse::pipeline::approve(f.w.s(), out.drop.id, "dave", "x").error().reason
        == "review.not_held");
  CHECK(ecluse::pipeline::reject(f.w.s(), out.drop.id, "dave", "x").error().reason
        == "review.not_held");
}

TEST_CASE("pipeline review refuses bad names and reasons, recording nothing") {
  Fixture f;
  auto out = f.ingest(DropBuilder{}).value();
  const std::vector<std::string> names{"", "-x", "a b", "名前", "x\n", std::string(65, 'a')};
  for (const auto& name : names) {
    CAPTURE(name);
    CHECK(ecluse::pipeline::approve(f.w.s(), out.drop.id, name, "ok").error().reason
          == "usage.invalid_argument");
  }
  CHECK(ecluse::pipeline::approve(f.w.s(), out.drop.id, "alice", "").error().reason
        == "usage.invalid_argument");
  CHECK(ecluse::pipeline::approve(f.w.s(), out.drop.id, "alice", "a\x1b[2Jb").error().reason
        == "usage.invalid_argument");
  CHECK(f.w.s().state().reviews(out.drop.id).value().empty());
}

TEST_CASE("pipeline verdict: a clean drop passes, a drop without executables is approved") {
  Fixture f;
  DropBuilder b;
  b.files = {{"README", "docs only\n"}, {"data.csv", "a,b\n1,2\n"}};
  auto out = f.ingest(b).value();
  CHECK(out.drop.state == DropState::signed_off);  // approved, then signed
}

TEST_CASE("pipeline diff: the next release diffs against the last accepted one") {
  Fixture f;
  DropBuilder b;
  b.files["conf/app.ini"] = "server = https://updates.acme.example.com/\n";
  const auto v1 = f.accepted_v1(b);
  b.fields["version"] = "1.2.4";
  b.files["README"] = "demo product, now with telemetry\n";
  b.files["conf/app.ini"] =
      "server = https://updates.acme.example.com/\ntelemetry = https://t.spy-metrics.com/v1/up\n";
  auto out = f.ingest(b).value();
  const auto doc = f.diff_doc(out.drop.id);
  CHECK(doc["baseline"]["id"] == v1);
  CHECK(doc["baseline"]["source"] == "accepted");
  CHECK(doc["summary"]["modified"] == 2);
  CHECK(doc["summary"]["added"] == 0);
  const auto fs = f.findings(out.drop.id);
  CHECK_FALSE(has_code(fs, "diff.new_executable"));  // bin/app did not change
  CHECK_FALSE(has_code(fs, "diff.first_release"));
  REQUIRE(has_code(fs, "diff.new_endpoint"));
  for (const auto& x : fs) {
    if (x.code == "diff.new_endpoint") {
      CHECK(x.item == "conf/app.ini");
      CHECK(x.detail.find("https://t.spy-metrics.com/v1/up") != std::string::npos);
      CHECK(x.detail.find("updates.acme") == std::string::npos);  // in the baseline already
    }
  }
  CHECK(out.drop.state == DropState::held);
}

TEST_CASE("pipeline diff: the policy's allow-list suppresses a known-good endpoint") {
  Fixture f;
  f.set_policy([](Json& p) {
    p["endpoint_allow"] = {"spy-metrics.com"};
    p["thresholds"] = Json::object();  // the tiny test drop more than doubles in size
  });
  DropBuilder b;
  f.accepted_v1(b);
  b.fields["version"] = "1.2.4";
  b.files["conf/app.ini"] = "telemetry = https://t.spy-metrics.com/v1/up\n";
  auto out = f.ingest(b).value();
  CHECK_FALSE(has_code(f.findings(out.drop.id), "diff.new_endpoint"));
  const auto doc = f.diff_doc(out.drop.id);
  REQUIRE(doc["endpoints"].size() >= 1);
  CHECK(doc["endpoints"][0]["allowed"] == true);
  CHECK(out.drop.state == DropState::signed_off);
}

TEST_CASE("pipeline diff: an explicit baseline, and one that is refused") {
  Fixture f;
  DropBuilder b;
  const auto v1 = f.accepted_v1(b);
  b.fields["version"] = "1.3.0";
  b.files["extra.txt"] = "x\n";
  auto out = f.ingest(b, v1.substr(0, 12)).value();
  CHECK(f.diff_doc(out.drop.id)["baseline"]["source"] == "explicit");
  b.fields["version"] = "1.4.0";
  auto bad = f.ingest(b, "ffffffffffff");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().reason == "state.unknown_drop");
}

TEST_CASE("pipeline diff: an unreadable baseline is an environment error, never 'no baseline'") {
  Fixture f;
  DropBuilder b;
  const auto v1 = f.accepted_v1(b);
  std::filesystem::remove(f.ws() / "quarantine" / "drops" / v1 / "tree.json");
  b.fields["version"] = "1.2.4";
  auto out = f.ingest(b);
  REQUIRE_FALSE(out);
  CHECK(out.error().reason == "diff.baseline_unreadable");
  CHECK(out.error().code == ecluse::Errc::unavailable);
  const auto drops = f.w.s().state().list_drops().value();
  const auto it =
      std::find_if(drops.begin(), drops.end(), [](const auto& d) { return d.version == "1.2.4"; });
  REQUIRE(it != drops.end());
  CHECK(it->state == DropState::unpacked);  // nothing decided; a later run resumes
}

TEST_CASE(
    "pipeline verdict: a malformed policy evaluates nothing, and the drop resumes once fixed") {
  Fixture f;
  ecluse::test::write_file(f.ws() / "policy.json",
                           R"({"schema":"ecluse.policy/v1","actions":{"*":"sometimes"}})");
  DropBuilder b;
  auto out = f.ingest(b);
  REQUIRE_FALSE(out);
  CHECK(out.error().reason == "policy.invalid");
  CHECK(out.error().item == "actions.*");
  const auto drops = f.w.s().state().list_drops().value();
  REQUIRE(drops.size() == 1);
  CHECK(drops[0].state == DropState::unpacked);
  const auto found = f.findings(drops[0].id);
  CHECK(std::none_of(found.begin(), found.end(), [](const auto& x) { return x.stage == "diff"; }));
  f.set_policy([](Json&) {});
  auto again = ecluse::pipeline::ingest(f.w.s(), f.w.dir.path() / "drop0").value();
  CHECK(again.drop.state == DropState::held);
}

TEST_CASE("pipeline verdict: a threshold holds a release that changes too much") {
  Fixture f;
  f.set_policy([](Json& p) {
    p["thresholds"]["max_changed_share"] = {{"limit", 0.2}, {"action", "reject"}};
  });
  DropBuilder b;
  f.accepted_v1(b);
  b.fields["version"] = "2.0.0";
  b.files["README"] = "rewritten\n";
  auto out = f.ingest(b).value();
  CHECK(out.drop.state == DropState::rejected);
  REQUIRE(out.drop.rejection.has_value());
  CHECK(out.drop.rejection->stage == "policy");
  CHECK(out.drop.rejection->reason == "policy.max_changed_share");
}
