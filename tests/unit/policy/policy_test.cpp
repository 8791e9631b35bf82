// The release policy: validation naming the bad field, the action lookup, and the verdict as a
// pure function of findings, metrics and policy, for every action and threshold.
#include <ecluse/policy/policy.hpp>

#include <doctest/doctest.h>

#include "support/support.hpp"

using ecluse::json::Json;
using ecluse::policy::Action;
using ecluse::policy::decide;
using ecluse::policy::Decision;
using ecluse::policy::Metrics;
using ecluse::policy::parse_policy;
using ecluse::policy::Policy;
using ecluse::store::Finding;

namespace {

// The error item of parsing doc, or "ok".
std::string refusal(const Json& doc) {
  auto p = parse_policy(doc);
  if (p) {
    return "ok";
  }
  CHECK(p.error().reason == "policy.invalid");
  CHECK(p.error().message.find(p.error().item) != std::string::npos);
  return p.error().item;
}

Json with(const std::string& key, Json value) {
  auto doc = ecluse::policy::default_policy_json();
  doc[key] = std::move(value);
  return doc;
}

Policy default_policy() {
  return parse_policy(ecluse::policy::default_policy_json()).value();
}

Finding finding(const std::string& code, const std::string& item = "x") {
  return Finding{"diff", code, "medium", item, "detail"};
}

}  // namespace

TEST_CASE("policy::parse_policy refuses a malformed policy, naming the field") {
  SUBCASE("not an object") {
    CHECK(refusal(Json::array()) == "(document)");
  }
  SUBCASE("missing schema") {
    auto doc = ecluse::policy::default_policy_json();
    doc.erase("schema");
    CHECK(refusal(doc) == "schema");
  }
  SUBCASE("wrong schema") {
    CHECK(refusal(with("schema", "ecluse.policy/v9")) == "schema");
  }
  SUBCASE("missing actions") {
    auto doc = ecluse::policy::default_policy_json();
    doc.erase("actions");
    CHECK(refusal(doc) == "actions");
  }
  SUBCASE("unknown top-level field") {
    CHECK(refusal(with("approval", Json::object())) == "approval");
  }
  SUBCASE("unknown action") {
    auto doc = ecluse::policy::default_policy_json();
    doc["actions"]["diff.new_endpoint"] = "maybe";
    CHECK(refusal(doc) == "actions.diff.new_endpoint");
  }
  SUBCASE("action of the wrong type") {
    auto doc = ecluse::policy::default_policy_json();
    doc["actions"]["diff.new_endpoint"] = 1;
    CHECK(refusal(doc) == "actions.diff.new_endpoint");
  }
  SUBCASE("a code pattern that is no code") {
    auto doc = ecluse::policy::default_policy_json();
    doc["actions"]["Diff New"] = "allow";
    CHECK(refusal(doc) == "actions.Diff New");
    doc = ecluse::policy::default_policy_json();
    doc["actions"]["diff.*.x"] = "allow";
    CHECK(refusal(doc) == "actions.diff.*.x");
  }
  SUBCASE("no default action") {
    auto doc = ecluse::policy::default_policy_json();
    doc["actions"].erase("*");
    CHECK(refusal(doc) == "actions.*");
  }
  SUBCASE("thresholds") {
    CHECK(refusal(with("thresholds", Json::array())) == "thresholds");
    CHECK(refusal(with("thresholds", {{"max_files", {{"limit", 1}}}})) == "thresholds.max_files");
    CHECK(refusal(with("thresholds", {{"max_changed_share", {{"limit", "half"}}}}))
          == "thresholds.max_changed_share.limit");
    CHECK(refusal(with("thresholds", {{"max_changed_share", {{"limit", 1.5}}}}))
          == "thresholds.max_changed_share.limit");
    CHECK(refusal(with("thresholds", {{"max_size_growth", {{"limit", -1}}}}))
          == "thresholds.max_size_growth.limit");
    CHECK(refusal(with("thresholds", {{"max_size_growth", {{"limit", 1}, {"action", "allow"}}}}))
          == "thresholds.max_size_growth.action");
    CHECK(refusal(with("thresholds", {{"max_size_growth", {{"limit", 1}, {"when", 2}}}}))
          == "thresholds.max_size_growth.when");
  }
  SUBCASE("approvals") {
    CHECK(refusal(with("approvals", {{"prod", 0}})) == "approvals.prod");
    CHECK(refusal(with("approvals", {{"prod", -2}})) == "approvals.prod");
    CHECK(refusal(with("approvals", {{"prod", 1.5}})) == "approvals.prod");
    CHECK(refusal(with("approvals", {{"prod", 1000}})) == "approvals.prod");
    CHECK(refusal(with("approvals", {{"bad channel", 1}})) == "approvals.bad channel");
  }
  SUBCASE("lists") {
    CHECK(refusal(with("always_review", "prod")) == "always_review");
    CHECK(refusal(with("always_review", {"prod", 3})) == "always_review[1]");
    CHECK(refusal(with("endpoint_allow", {"example.com", "http://x"})) == "endpoint_allow[1]");
    CHECK(refusal(with("endpoint_allow", {".com"})) == "endpoint_allow[0]");
  }
}

TEST_CASE("policy::load_policy refuses missing, non-JSON and duplicate-key files") {
  ecluse::test::TempDir d;
  auto missing = ecluse::policy::load_policy(d / "policy.json");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().reason == "policy.missing");
  ecluse::test::write_file(d / "policy.json", "{\"schema\": ");
  CHECK(ecluse::policy::load_policy(d / "policy.json").error().reason == "policy.invalid");
  ecluse::test::write_file(d / "policy.json",
                           R"({"schema":"ecluse.policy/v1","actions":{"*":"hold"},"actions":{}})");
  CHECK(ecluse::policy::load_policy(d / "policy.json").error().reason == "policy.invalid");
  std::filesystem::remove(d / "policy.json");
  REQUIRE(ecluse::policy::write_default(d.path()).value());
  CHECK_FALSE(ecluse::policy::write_default(d.path()).value());  // never overwrites
  auto ok = ecluse::policy::load_policy(d / "policy.json");
  REQUIRE(ok);
  CHECK(ok->sha256.size() == 64);
}

TEST_CASE("policy::Policy::action_for picks the most specific key") {
  Policy p;
  p.actions = {{"*", Action::hold},
               {"unpack.*", Action::reject},
               {"unpack.name.*", Action::allow},
               {"unpack.name.collision", Action::hold}};
  CHECK(p.action_for("unpack.setuid") == Action::reject);
  CHECK(p.action_for("unpack.name.utf8") == Action::allow);
  CHECK(p.action_for("unpack.name.collision") == Action::hold);
  CHECK(p.action_for("diff.new_endpoint") == Action::hold);
  CHECK(p.action_for("unpack") == Action::hold);  // "unpack.*" covers codes below unpack only
  CHECK(p.action_for("") == Action::hold);
}

TEST_CASE("policy::decide: the default policy") {
  const auto p = default_policy();
  const Metrics none{};
  SUBCASE("nothing found passes") {
    const auto v = decide({}, none, p, "prod");
    CHECK(v.decision == Decision::pass);
    CHECK(v.reasons.empty());
    CHECK(v.approvals_required == 0);
  }
  SUBCASE("new executables and new endpoints hold") {
    for (const auto* code : {"diff.new_executable",
                             "diff.new_endpoint",
                             "diff.became_executable",
                             "verify.downgrade_used"}) {
      CAPTURE(code);
      const auto v = decide({finding(code)}, none, p, "prod");
      CHECK(v.decision == Decision::hold);
      CHECK(v.approvals_required == 1);
      REQUIRE(v.deciding() != nullptr);
      CHECK(v.deciding()->code == code);
    }
  }
  SUBCASE("every unpack safety finding rejects") {
    for (const auto* code : {"unpack.setuid",
                             "unpack.world_writable",
                             "unpack.git_path",
                             "unpack.name_collision",
                             "unpack.name_invalid_utf8",
                             "unpack.name_control_char",
                             "unpack.duplicate_entry"}) {
      CAPTURE(code);
      const auto v =
          decide({finding("diff.new_executable"), finding(code, "t.tar/x")}, none, p, "prod");
      CHECK(v.decision == Decision::reject);
      REQUIRE(v.deciding() != nullptr);
      CHECK(v.deciding()->code == code);
      CHECK(v.deciding()->item == "t.tar/x");
    }
  }
  SUBCASE("informational findings pass") {
    for (const auto* code : {"diff.first_release",
                             "diff.executable_modified",
                             "verify.crl_gap",
                             "diff.type_changed",
                             "diff.link_retargeted",
                             "diff.pe_unsigned"}) {
      CAPTURE(code);
      CHECK(decide({finding(code)}, none, p, "prod").decision == Decision::pass);
    }
  }
  SUBCASE("an unknown finding code holds (fail safe)") {
    CHECK(decide({finding("test.egress_attempt")}, none, p, "prod").decision == Decision::hold);
  }
}

TEST_CASE("policy::decide: each action, threshold and review rule") {
  Policy p;
  p.actions = {{"*", Action::allow}, {"a.hold", Action::hold}, {"a.reject", Action::reject}};
  const Metrics none{};
  SUBCASE("allow, hold, reject and their combination") {
    CHECK(decide({finding("a.ok")}, none, p, "c").decision == Decision::pass);
    CHECK(decide({finding("a.hold")}, none, p, "c").decision == Decision::hold);
    CHECK(decide({finding("a.reject")}, none, p, "c").decision == Decision::reject);
    const auto both = decide({finding("a.hold"), finding("a.reject")}, none, p, "c");
    CHECK(both.decision == Decision::reject);
    CHECK(both.reasons.size() == 2);
    CHECK(both.deciding()->code == "a.reject");
  }
  SUBCASE("max_changed_share: over holds or rejects, at or under passes, no baseline skips") {
    p.max_changed_share = ecluse::policy::Threshold{0.5, Action::hold};
    CHECK(decide({}, Metrics{true, 0.5, 0}, p, "c").decision == Decision::pass);
    const auto over = decide({}, Metrics{true, 0.51, 0}, p, "c");
    CHECK(over.decision == Decision::hold);
    CHECK(over.reasons.at(0).code == "policy.max_changed_share");
    CHECK(decide({}, Metrics{false, 1.0, 0}, p, "c").decision == Decision::pass);
    p.max_changed_share->action = Action::reject;
    CHECK(decide({}, Metrics{true, 0.9, 0}, p, "c").decision == Decision::reject);
  }
  SUBCASE("max_size_growth") {
    p.max_size_growth = ecluse::policy::Threshold{1.0, Action::reject};
    CHECK(decide({}, Metrics{true, 0, 1.0}, p, "c").decision == Decision::pass);
    CHECK(decide({}, Metrics{true, 0, 1.01}, p, "c").decision == Decision::reject);
    CHECK(decide({}, Metrics{true, 0, -0.9}, p, "c").decision == Decision::pass);
    CHECK(decide({}, Metrics{false, 0, 99}, p, "c").decision == Decision::pass);
  }
  SUBCASE("required approvals per channel, '*' as the default, at least one") {
    p.approvals = {{"*", 2}, {"prod", 3}};
    CHECK(decide({finding("a.hold")}, none, p, "prod").approvals_required == 3);
    CHECK(decide({finding("a.hold")}, none, p, "dev").approvals_required == 2);
    p.approvals.clear();
    CHECK(decide({finding("a.hold")}, none, p, "dev").approvals_required == 1);
    CHECK(decide({}, none, p, "dev").approvals_required == 0);
  }
  SUBCASE("always_review holds a clean drop of that channel only") {
    p.always_review = {"prod"};
    const auto v = decide({}, none, p, "prod");
    CHECK(v.decision == Decision::hold);
    CHECK(v.reasons.at(0).code == "policy.always_review");
    CHECK(decide({}, none, p, "preprod").decision == Decision::pass);
  }
  SUBCASE("the verdict depends on nothing else: same inputs, same verdict") {
    const std::vector<Finding> f{finding("a.hold"), finding("a.ok")};
    CHECK(ecluse::json::dump_line(to_json(decide(f, none, p, "c")))
          == ecluse::json::dump_line(to_json(decide(f, none, p, "c"))));
  }
}

TEST_CASE("policy::parse_policy refuses a malformed promotion gate, naming the field") {
  const auto gate = [](Json g) {
    return with("promotion", Json{{"prod", std::move(g)}});
  };
  SUBCASE("promotion not an object") {
    CHECK(refusal(with("promotion", Json::array())) == "promotion");
  }
  SUBCASE("a gate that is not an object") {
    CHECK(refusal(gate(Json::array())) == "promotion.prod");
    CHECK(refusal(gate("preprod")) == "promotion.prod");
    CHECK(refusal(gate(nullptr)) == "promotion.prod");
  }
  SUBCASE("'*' or a malformed name as the channel") {
    CHECK(refusal(with("promotion", Json{{"*", Json::object()}})) == "promotion.*");
    CHECK(refusal(with("promotion", Json{{"pr od", Json::object()}})) == "promotion.pr od");
    CHECK(refusal(with("promotion", Json{{"", Json::object()}})) == "promotion.");
  }
  SUBCASE("an unknown key") {
    CHECK(refusal(gate({{"from", "preprod"}, {"wait", 1}})) == "promotion.prod.wait");
  }
  SUBCASE("approvals negative, over 100 or not a whole number") {
    CHECK(refusal(gate({{"approvals", -1}})) == "promotion.prod.approvals");
    CHECK(refusal(gate({{"approvals", 101}})) == "promotion.prod.approvals");
    CHECK(refusal(gate({{"approvals", 1.5}})) == "promotion.prod.approvals");
    CHECK(refusal(gate({{"approvals", "2"}})) == "promotion.prod.approvals");
  }
  SUBCASE("soak_hours negative, over 8784 (366 days) or not a whole number") {
    CHECK(refusal(gate({{"soak_hours", -1}})) == "promotion.prod.soak_hours");
    CHECK(refusal(gate({{"soak_hours", 8785}})) == "promotion.prod.soak_hours");
    CHECK(refusal(gate({{"soak_hours", 0.5}})) == "promotion.prod.soak_hours");
    CHECK(refusal(gate({{"soak_hours", true}})) == "promotion.prod.soak_hours");
  }
  SUBCASE("from not a channel name") {
    CHECK(refusal(gate({{"from", 1}})) == "promotion.prod.from");
    CHECK(refusal(gate({{"from", Json::array({"preprod"})}})) == "promotion.prod.from");
    CHECK(refusal(gate({{"from", ""}})) == "promotion.prod.from");
    CHECK(refusal(gate({{"from", "pre/prod"}})) == "promotion.prod.from");
  }
}

TEST_CASE("policy::parse_policy reads promotion gates") {
  SUBCASE("the default: prod from preprod, nothing more") {
    const auto p = default_policy();
    REQUIRE(p.gates.contains("prod"));
    CHECK(p.gates.at("prod").from == "preprod");
    CHECK(p.gates.at("prod").approvals == 0);
    CHECK(p.gates.at("prod").soak_seconds == 0);
  }
  SUBCASE("from, approvals and soak_hours, in seconds") {
    const auto p = parse_policy(with(
        "promotion", Json{{"prod", {{"from", "preprod"}, {"approvals", 2}, {"soak_hours", 24}}}}));
    REQUIRE(p.has_value());
    REQUIRE(p->gates.size() == 1);
    const auto& g = p->gates.at("prod");
    CHECK(g.from == "preprod");
    CHECK(g.approvals == 2);
    CHECK(g.soak_seconds == 86400);
  }
  SUBCASE("the bounds are accepted; an empty gate takes releases from any channel") {
    const auto p = parse_policy(with("promotion",
                                     Json{{"prod", {{"approvals", 100}, {"soak_hours", 8784}}},
                                          {"preprod", {{"approvals", 0}, {"soak_hours", 0}}},
                                          {"edge", Json::object()}}));
    REQUIRE(p.has_value());
    CHECK(p->gates.size() == 3);
    CHECK(p->gates.at("prod").approvals == 100);
    CHECK(p->gates.at("prod").soak_seconds == 8784ULL * 3600ULL);
    CHECK(p->gates.at("preprod").soak_seconds == 0);
    CHECK(p->gates.at("edge").from.empty());
    CHECK(p->gates.at("edge").approvals == 0);
  }
  SUBCASE("no promotion field: no gates") {
    auto doc = ecluse::policy::default_policy_json();
    doc.erase("promotion");
    const auto p = parse_policy(doc);
    REQUIRE(p.has_value());
    CHECK(p->gates.empty());
  }
}

TEST_CASE("policy::parse_policy refuses '*' as a gate's source channel") {
  // valid_channel_key lets "*" through (it is the default key of "approvals"), but a gate's
  // "from" is compared with the source channel literally: "*" would block every promotion.
  CHECK(refusal(with("promotion", Json{{"prod", {{"from", "*"}}}})) == "promotion.prod.from");
}

TEST_CASE("policy::parse_policy reads reverify's demotion rule, and refuses anything else there") {
  CHECK_FALSE(default_policy().reverify_demote);
  CHECK(parse_policy(with("reverify", {{"demote", true}})).value().reverify_demote);
  CHECK_FALSE(parse_policy(with("reverify", {{"demote", false}})).value().reverify_demote);
  CHECK_FALSE(parse_policy(with("reverify", Json::object())).value().reverify_demote);
  CHECK(refusal(with("reverify", {{"demote", "yes"}})) == "reverify.demote");
  CHECK(refusal(with("reverify", {{"withdraw", true}})) == "reverify.withdraw");
  CHECK(refusal(with("reverify", true)) == "reverify");
}
