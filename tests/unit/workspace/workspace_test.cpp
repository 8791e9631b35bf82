// Workspaces: layout, refusal to overwrite, configuration checks.
#include <ecluse/workspace/workspace.hpp>

#include <doctest/doctest.h>

#include <cstdlib>

#include "support/support.hpp"

using ecluse::workspace::Workspace;

TEST_CASE("workspace::init creates the DESIGN.md layout with every setting in ecluse.json") {
  ecluse::test::TempDir d;
  const auto ws = ecluse::workspace::init(d / "ws").value();
  for (const char* p : {"staging/incoming",
                        "quarantine/objects/sha256",
                        "quarantine/drops",
                        "journal",
                        "repos",
                        "keys"}) {
    CAPTURE(p);
    CHECK(std::filesystem::is_directory(d / "ws" / p));
  }
  const auto config =
      ecluse::json::parse_strict(ecluse::test::read_file(d / "ws" / "ecluse.json")).value;
  CHECK(config["limits"]["max_drop_json_bytes"] == 1048576);
  CHECK(config["channels"].size() == 2);
  CHECK(config["paths"]["incoming"] == "staging/incoming");
  CHECK(ws.config().busy_timeout_ms == 10000);
}

TEST_CASE("workspace::init refuses to overwrite an existing workspace") {
  ecluse::test::TempDir d;
  REQUIRE(ecluse::workspace::init(d / "ws").has_value());
  const auto config_before = ecluse::test::read_file(d / "ws" / "ecluse.json");
  const auto again = ecluse::workspace::init(d / "ws");
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().reason == "workspace.exists");
  CHECK(ecluse::test::read_file(d / "ws" / "ecluse.json") == config_before);
}

TEST_CASE("workspace::Workspace::open fails clearly on a directory that is not a workspace") {
  ecluse::test::TempDir d;
  const auto r = Workspace::open(d.path());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().reason == "workspace.not_found");
  CHECK(r.error().message.find(d.path().string()) != std::string::npos);
}

TEST_CASE("workspace::Config::from_json refuses unknown keys and bad values") {
  ecluse::test::TempDir d;
  REQUIRE(ecluse::workspace::init(d / "ws").has_value());
  auto config = ecluse::json::parse_strict(ecluse::test::read_file(d / "ws" / "ecluse.json")).value;
  SUBCASE("unknown key") {
    config["limits"]["max_everything"] = 1;
  }
  SUBCASE("zero limit") {
    config["limits"]["max_artifacts"] = 0;
  }
  SUBCASE("negative limit") {
    config["limits"]["max_artifacts"] = -5;
  }
  SUBCASE("empty channels") {
    config["channels"] = ecluse::json::Json::array();
  }
  SUBCASE("a channel that would name a directory outside repos/") {
    config["channels"] = {"preprod", "../outside"};
  }
  SUBCASE("a channel with a slash or starting with a dot") {
    config["channels"] = {"a/b"};
    SUBCASE("dot") {
      config["channels"] = {".hidden"};
    }
  }
  SUBCASE("promotion: compression out of range") {
    config["promotion"]["compression"] = 10;
  }
  SUBCASE("promotion: a committer email with a newline") {
    config["promotion"]["committer"]["email"] = "a@b\nc";
  }
  SUBCASE("promotion: zero expiry") {
    config["promotion"]["expiry_days"]["timestamp"] = 0;
  }
  SUBCASE("promotion: unknown key") {
    config["promotion"]["push"] = true;
  }
  SUBCASE("watch: an unknown readiness rule") {
    config["watch"]["ready"] = "whenever";
  }
  SUBCASE("watch: jobs not a number") {
    config["watch"]["jobs"] = "all";
  }
  SUBCASE("watch: zero retry") {
    config["watch"]["retry_seconds"] = 0;
  }
  SUBCASE("watch: unknown key") {
    config["watch"]["poll"] = true;
  }
  SUBCASE("state: a connection that is not a string") {
    config["state"]["connection"] = 5432;
  }
  SUBCASE("state: a lease too short to renew") {
    config["state"]["lease_seconds"] = 1;
  }
  SUBCASE("wrong schema") {
    config["schema"] = "ecluse.config/v9";
  }
  SUBCASE("unknown digest in the signature policy") {
    config["signature_policy"]["digests"] = {"sha256", "sha3-512"};
  }
  SUBCASE("RSA minimum out of range") {
    config["signature_policy"]["rsa_min_bits"] = 512;
  }
  SUBCASE("unknown signature policy key") {
    config["signature_policy"]["allow_everything"] = true;
  }
  SUBCASE("ed25519 not a boolean") {
    config["signature_policy"]["ed25519"] = "yes";
  }
  ecluse::test::write_file(d / "ws" / "ecluse.json", config.dump());
  const auto r = Workspace::open(d / "ws");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().reason == "workspace.bad_config");
}

TEST_CASE("workspace::resolve_dir prefers the flag, then ECLUSE_WORKSPACE, then .") {
  ::setenv("ECLUSE_WORKSPACE", "/from/env", 1);
  CHECK(ecluse::workspace::resolve_dir("/flag") == "/flag");
  CHECK(ecluse::workspace::resolve_dir("") == "/from/env");
  ::unsetenv("ECLUSE_WORKSPACE");
  CHECK(ecluse::workspace::resolve_dir("") == ".");
}

TEST_CASE("workspace::Config reads the signature policy, defaults included") {
  ecluse::test::TempDir d;
  REQUIRE(ecluse::workspace::init(d / "ws").has_value());
  auto config = ecluse::json::parse_strict(ecluse::test::read_file(d / "ws" / "ecluse.json")).value;
  CHECK(config["signature_policy"]["digests"]
        == ecluse::json::Json({"sha256", "sha384", "sha512"}));
  CHECK(config["signature_policy"]["rsa_min_bits"] == 2048);
  config["signature_policy"] = {{"rsa_min_bits", 3072}, {"ec_curves", {"P-384"}}};
  ecluse::test::write_file(d / "ws" / "ecluse.json", config.dump());
  const auto ws = Workspace::open(d / "ws");
  REQUIRE(ws.has_value());
  const auto& p = ws->config().signature_policy;
  CHECK(p.rsa_min_bits == 3072);
  CHECK(p.ec_curves == std::vector<std::string>{"P-384"});
  CHECK(p.digests.size() == 3);
  CHECK(p.ed25519);
}

TEST_CASE("workspace::Config reads the watch section, defaults included") {
  ecluse::test::TempDir d;
  REQUIRE(ecluse::workspace::init(d / "ws").has_value());
  const auto defaults = Workspace::open(d / "ws").value().config().watch;
  CHECK(defaults.ready == "marker");
  CHECK(defaults.jobs == 0);
  CHECK(defaults.promote_to == "preprod");
  CHECK(defaults.reverify_every_seconds == 0);
  auto config = ecluse::json::parse_strict(ecluse::test::read_file(d / "ws" / "ecluse.json")).value;
  config["watch"] = {{"ready", "quiet"},
                     {"quiet_seconds", 5},
                     {"jobs", 3},
                     {"promote_to", ""},
                     {"reverify_every_seconds", 86400}};
  ecluse::test::write_file(d / "ws" / "ecluse.json", config.dump());
  const auto w = Workspace::open(d / "ws").value().config().watch;
  CHECK(w.ready == "quiet");
  CHECK(w.quiet_seconds == 5);
  CHECK(w.jobs == 3);
  CHECK(w.promote_to.empty());
  CHECK(w.retry_seconds == 15);
  CHECK(w.reverify_every_seconds == 86400);
}

TEST_CASE("workspace::Config reads the state store's connection and lease lifetime") {
  ecluse::test::TempDir d;
  REQUIRE(ecluse::workspace::init(d / "ws").has_value());
  const auto defaults = Workspace::open(d / "ws").value().config();
  CHECK(defaults.state_connection.empty());
  CHECK(defaults.lease_seconds == 60);
  auto config = ecluse::json::parse_strict(ecluse::test::read_file(d / "ws" / "ecluse.json")).value;
  config["state"]["connection"] = "postgresql://ecluse@db.internal/ecluse";
  config["state"]["lease_seconds"] = 20;
  ecluse::test::write_file(d / "ws" / "ecluse.json", config.dump());
  const auto c = Workspace::open(d / "ws").value().config();
  CHECK(c.state_connection == "postgresql://ecluse@db.internal/ecluse");
  CHECK(c.lease_seconds == 20);
  CHECK(c.to_json()["state"]["connection"] == "postgresql://ecluse@db.internal/ecluse");
}
