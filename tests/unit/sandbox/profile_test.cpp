// Sandbox profiles and suites: every hostile field refused with a reason naming it, the shipped
// files accepted, and loading from a workspace's sandbox/ folder (fallbacks, digests, defaults).
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/sandbox/profile.hpp>
#include <ecluse/sandbox/run.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "support/support.hpp"

using ecluse::json::Json;
using ecluse::sandbox::Limits;
using ecluse::sandbox::parse_profile;
using ecluse::sandbox::parse_suite;
using ecluse::sandbox::Profile;
using ecluse::test::read_file;
using ecluse::test::TempDir;
using ecluse::test::write_file;

namespace {

const std::string k_profile_file = ECLUSE_SOURCE_DIR "/sandbox/profiles/default.json";
const std::string k_suite_file = ECLUSE_SOURCE_DIR "/sandbox/suites/cloud-agent/suite.json";

// Parses JSON text the way the loaders do (non-negative integers become unsigned numbers).
Json parse(const std::string& text) {
  auto parsed = ecluse::json::parse_strict(text);
  REQUIRE(parsed.failure == ecluse::json::ParseFailure::none);
  return parsed.value;
}

// The smallest profile that passes.
Json minimal_profile() {
  return parse(R"({"schema": "ecluse.sandbox-profile/v1", "runtime": ["/usr"]})");
}

Json profile_with(const std::string& key, Json value) {
  auto doc = minimal_profile();
  doc[key] = std::move(value);
  return doc;
}

// runtime ["/usr", path]: the refusal must name the second element.
Json runtime_with(const std::string& path) {
  return profile_with("runtime", Json::array({"/usr", path}));
}

Json etc_with(const std::string& path) {
  return profile_with("etc", Json::array({"/etc/ld.so.cache", path}));
}

Json env_with(const std::string& name, Json value) {
  return profile_with("env", Json{{"PATH", "/usr/bin:/bin"}, {name, std::move(value)}});
}

Json limit_with(const std::string& key, Json value) {
  return profile_with("limits", Json{{key, std::move(value)}});
}

// The error item of parsing a profile, or "ok"; checks the reason and that the message names it.
std::string refusal(const Json& doc) {
  auto p = parse_profile(doc);
  if (p) {
    return "ok";
  }
  CHECK(p.error().reason == "sandbox.bad_profile");
  CHECK_FALSE(p.error().item.empty());
  CHECK(p.error().message.find(p.error().item) != std::string::npos);
  return p.error().item;
}

// A suite of one command {"name": "one", "argv": ["/bin/true"]} plus extra fields.
Json command_with(const std::string& key, Json value) {
  auto cmd = parse(R"({"name": "one", "argv": ["/bin/true"]})");
  cmd[key] = std::move(value);
  return cmd;
}

Json suite_of(Json commands) {
  return Json{{"schema", "ecluse.suite/v1"}, {"commands", std::move(commands)}};
}

Json suite_with_command(const std::string& key, Json value) {
  return suite_of(Json::array({command_with(key, std::move(value))}));
}

Json argv_suite(Json argv) {
  return suite_with_command("argv", std::move(argv));
}

// The error item of parsing a suite named "hostile", or "ok".
std::string suite_refusal(const Json& doc) {
  auto s = parse_suite(doc, "hostile");
  if (s) {
    return "ok";
  }
  CHECK(s.error().reason == "sandbox.bad_suite");
  CHECK_FALSE(s.error().item.empty());
  CHECK(s.error().message.find(s.error().item) != std::string::npos);
  CHECK(s.error().message.find("suite hostile") != std::string::npos);
  return s.error().item;
}

Json commands(std::size_t n) {
  auto out = Json::array();
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(Json{{"name", "c" + std::to_string(i)}, {"argv", Json::array({"/bin/true"})}});
  }
  return out;
}

std::string sha256_of(const std::string& bytes) {
  auto d = ecluse::crypto::sha256(bytes);
  REQUIRE(d.has_value());
  return d->hex();
}

void check_same_profile(const Profile& a, const Profile& b) {
  CHECK(a.runtime == b.runtime);
  CHECK(a.etc == b.etc);
  CHECK(a.env == b.env);
  CHECK(a.suite == b.suite);
  CHECK(a.time_shift_days == b.time_shift_days);
  CHECK(a.limits.cpu_seconds == b.limits.cpu_seconds);
  CHECK(a.limits.memory_mib == b.limits.memory_mib);
  CHECK(a.limits.processes == b.limits.processes);
  CHECK(a.limits.file_size_mib == b.limits.file_size_mib);
  CHECK(a.limits.wall_seconds == b.limits.wall_seconds);
  CHECK(a.limits.work_mib == b.limits.work_mib);
  CHECK(a.limits.output_kib == b.limits.output_kib);
  CHECK(a.limits.open_files == b.limits.open_files);
}

}  // namespace

TEST_CASE("sandbox::parse_profile refuses a malformed document, naming the field") {
  SUBCASE("not an object") {
    CHECK(refusal(Json::array({"/usr"})) == "(document)");
    CHECK(refusal(Json("ecluse.sandbox-profile/v1")) == "(document)");
  }
  SUBCASE("missing schema") {
    auto doc = minimal_profile();
    doc.erase("schema");
    CHECK(refusal(doc) == "schema");
  }
  SUBCASE("wrong schema") {
    CHECK(refusal(profile_with("schema", "ecluse.sandbox-profile/v2")) == "schema");
  }
  SUBCASE("schema of the wrong type") {
    CHECK(refusal(profile_with("schema", 1U)) == "schema");
  }
  SUBCASE("unknown field") {
    CHECK(refusal(profile_with("network", true)) == "network");
  }
  SUBCASE("description of the wrong type") {
    CHECK(refusal(profile_with("description", Json::array())) == "description");
  }
  SUBCASE("runtime missing") {
    auto doc = minimal_profile();
    doc.erase("runtime");
    CHECK(refusal(doc) == "runtime");
  }
  SUBCASE("runtime empty") {
    CHECK(refusal(profile_with("runtime", Json::array())) == "runtime");
  }
  SUBCASE("runtime not an array") {
    CHECK(refusal(profile_with("runtime", "/usr")) == "runtime");
  }
  SUBCASE("runtime of more than 64 paths") {
    auto many = Json::array();
    for (int i = 0; i < 65; ++i) {
      many.push_back("/opt/r" + std::to_string(i));
    }
    CHECK(refusal(profile_with("runtime", many)) == "runtime");
  }
  SUBCASE("runtime element not a string") {
    CHECK(refusal(profile_with("runtime", Json::array({"/usr", 7U}))) == "runtime[1]");
  }
}

TEST_CASE("sandbox::parse_profile refuses paths and names that could reach bwrap as options") {
  SUBCASE("relative") {
    CHECK(refusal(runtime_with("usr/lib")) == "runtime[1]");
  }
  SUBCASE("empty") {
    CHECK(refusal(runtime_with("")) == "runtime[1]");
  }
  SUBCASE("a .. component") {
    CHECK(refusal(runtime_with("/usr/../etc")) == "runtime[1]");
  }
  SUBCASE("a trailing .. component") {
    CHECK(refusal(runtime_with("/usr/..")) == "runtime[1]");
  }
  SUBCASE("a . component") {
    CHECK(refusal(runtime_with("/usr/./lib")) == "runtime[1]");
  }
  SUBCASE("a leading //") {
    CHECK(refusal(runtime_with("//usr")) == "runtime[1]");
  }
  SUBCASE("an inner //") {
    CHECK(refusal(runtime_with("/usr//lib")) == "runtime[1]");
  }
  SUBCASE("a trailing /") {
    CHECK(refusal(runtime_with("/usr/lib/")) == "runtime[1]");
  }
  SUBCASE("a space") {
    CHECK(refusal(runtime_with("/usr/my lib")) == "runtime[1]");
  }
  SUBCASE("a tab") {
    CHECK(refusal(runtime_with("/usr/\tlib")) == "runtime[1]");
  }
  SUBCASE("a newline") {
    CHECK(refusal(runtime_with("/usr/lib\n--bind")) == "runtime[1]");
  }
  SUBCASE("an escape character") {
    CHECK(refusal(runtime_with("/usr/\x1b[2Jlib")) == "runtime[1]");
  }
  SUBCASE("a NUL") {
    CHECK(refusal(runtime_with(std::string("/usr\0/lib", 9))) == "runtime[1]");
  }
  SUBCASE("DEL") {
    CHECK(refusal(runtime_with("/usr/\x7flib")) == "runtime[1]");
  }
  SUBCASE("non-ASCII bytes") {
    CHECK(refusal(runtime_with("/usr/lib\xc3\xa9")) == "runtime[1]");
  }
  SUBCASE("an option: --bind") {
    CHECK(refusal(runtime_with("--bind")) == "runtime[1]");
  }
  SUBCASE("an option: -v") {
    CHECK(refusal(runtime_with("-v")) == "runtime[1]");
  }
  SUBCASE("longer than 1024 bytes") {
    CHECK(refusal(runtime_with("/" + std::string(1024, 'a'))) == "runtime[1]");
  }
  SUBCASE("the root") {
    CHECK(refusal(runtime_with("/")) == "runtime[1]");
  }
  SUBCASE("reserved: /proc") {
    CHECK(refusal(runtime_with("/proc")) == "runtime[1]");
  }
  SUBCASE("reserved: /proc/self") {
    CHECK(refusal(runtime_with("/proc/self")) == "runtime[1]");
  }
  SUBCASE("reserved: /dev") {
    CHECK(refusal(runtime_with("/dev")) == "runtime[1]");
  }
  SUBCASE("reserved: /dev/shm") {
    CHECK(refusal(runtime_with("/dev/shm")) == "runtime[1]");
  }
  SUBCASE("reserved: /sys") {
    CHECK(refusal(runtime_with("/sys")) == "runtime[1]");
  }
  SUBCASE("reserved: /etc") {
    CHECK(refusal(runtime_with("/etc")) == "runtime[1]");
  }
  SUBCASE("reserved: /etc/ssl") {
    CHECK(refusal(runtime_with("/etc/ssl")) == "runtime[1]");
  }
  SUBCASE("reserved: /tmp") {
    CHECK(refusal(runtime_with("/tmp")) == "runtime[1]");
  }
  SUBCASE("reserved: /drop") {
    CHECK(refusal(runtime_with("/drop")) == "runtime[1]");
  }
  SUBCASE("reserved: /drop/payload") {
    CHECK(refusal(runtime_with("/drop/payload")) == "runtime[1]");
  }
  SUBCASE("reserved: /work/x") {
    CHECK(refusal(runtime_with("/work/x")) == "runtime[1]");
  }
  SUBCASE("reserved: /out") {
    CHECK(refusal(runtime_with("/out")) == "runtime[1]");
  }
  SUBCASE("reserved: /run") {
    CHECK(refusal(runtime_with("/run")) == "runtime[1]");
  }
  SUBCASE("the message says why a reserved path is refused") {
    auto p = parse_profile(runtime_with("/tmp"));
    REQUIRE_FALSE(p);
    CHECK(p.error().message.find("'/tmp'") != std::string::npos);
  }
  SUBCASE("names that merely start like a reserved one are allowed") {
    CHECK(refusal(runtime_with("/procfs")) == "ok");
    CHECK(refusal(runtime_with("/devtools")) == "ok");
    CHECK(refusal(runtime_with("/etcetera")) == "ok");
    CHECK(refusal(runtime_with("/runtime")) == "ok");
    CHECK(refusal(runtime_with("/opt/work")) == "ok");
  }
}

TEST_CASE("sandbox::parse_profile refuses etc files outside /etc or generated by the sandbox") {
  SUBCASE("not an array") {
    CHECK(refusal(profile_with("etc", "/etc/localtime")) == "etc");
  }
  SUBCASE("outside /etc") {
    CHECK(refusal(etc_with("/usr/share/zoneinfo/UTC")) == "etc[1]");
  }
  SUBCASE("/etc itself") {
    CHECK(refusal(etc_with("/etc")) == "etc[1]");
  }
  SUBCASE("a name that only starts with /etc") {
    CHECK(refusal(etc_with("/etcetera/x")) == "etc[1]");
  }
  SUBCASE("escaping /etc with ..") {
    CHECK(refusal(etc_with("/etc/../root/.ssh/id_rsa")) == "etc[1]");
  }
  SUBCASE("an option") {
    CHECK(refusal(etc_with("--bind")) == "etc[1]");
  }
  SUBCASE("a trailing /") {
    CHECK(refusal(etc_with("/etc/ssl/")) == "etc[1]");
  }
  SUBCASE("generated: /etc/hosts") {
    CHECK(refusal(etc_with("/etc/hosts")) == "etc[1]");
  }
  SUBCASE("generated: /etc/resolv.conf") {
    CHECK(refusal(etc_with("/etc/resolv.conf")) == "etc[1]");
  }
  SUBCASE("generated: /etc/nsswitch.conf") {
    CHECK(refusal(etc_with("/etc/nsswitch.conf")) == "etc[1]");
  }
  SUBCASE("generated: /etc/passwd") {
    CHECK(refusal(etc_with("/etc/passwd")) == "etc[1]");
  }
  SUBCASE("generated: /etc/group") {
    CHECK(refusal(etc_with("/etc/group")) == "etc[1]");
  }
  SUBCASE("other files under /etc are allowed") {
    CHECK(refusal(etc_with("/etc/ssl/certs")) == "ok");
  }
}

TEST_CASE("sandbox::parse_profile refuses environment names and values that are ecluse's") {
  SUBCASE("not an object") {
    CHECK(refusal(profile_with("env", Json::array({"PATH=/bin"}))) == "env");
  }
  SUBCASE("more than 64 variables") {
    auto env = Json::object();
    for (int i = 0; i < 65; ++i) {
      env["V" + std::to_string(i)] = "x";
    }
    CHECK(refusal(profile_with("env", env)) == "env");
  }
  SUBCASE("a name starting with a digit") {
    CHECK(refusal(env_with("1X", "x")) == "env.1X");
  }
  SUBCASE("a name with a dash") {
    CHECK(refusal(env_with("A-B", "x")) == "env.A-B");
  }
  SUBCASE("a name with =") {
    CHECK(refusal(env_with("A=B", "x")) == "env.A=B");
  }
  SUBCASE("an empty name") {
    CHECK(refusal(env_with("", "x")) == "env.");
  }
  SUBCASE("a name longer than 64") {
    const std::string name(65, 'A');
    CHECK(refusal(env_with(name, "x")) == "env." + name);
  }
  SUBCASE("LD_PRELOAD") {
    CHECK(refusal(env_with("LD_PRELOAD", "/tmp/evil.so")) == "env.LD_PRELOAD");
  }
  SUBCASE("LD_LIBRARY_PATH") {
    CHECK(refusal(env_with("LD_LIBRARY_PATH", "/drop")) == "env.LD_LIBRARY_PATH");
  }
  SUBCASE("FAKETIME") {
    CHECK(refusal(env_with("FAKETIME", "+0d")) == "env.FAKETIME");
  }
  SUBCASE("FAKETIME_DONT_RESET") {
    CHECK(refusal(env_with("FAKETIME_DONT_RESET", "0")) == "env.FAKETIME_DONT_RESET");
  }
  SUBCASE("a value that is not a string") {
    CHECK(refusal(env_with("HOME", 1U)) == "env.HOME");
  }
  SUBCASE("a value with a newline") {
    CHECK(refusal(env_with("HOME", "/work\nLD_PRELOAD=x")) == "env.HOME");
  }
  SUBCASE("a value with an escape character") {
    CHECK(refusal(env_with("HOME", "/work\x1b]0;x\x07")) == "env.HOME");
  }
  SUBCASE("a value with a NUL") {
    CHECK(refusal(env_with("HOME", std::string("/work\0x", 7))) == "env.HOME");
  }
  SUBCASE("a value with DEL") {
    CHECK(refusal(env_with("HOME", "/work\x7f")) == "env.HOME");
  }
  SUBCASE("a value of 4097 bytes") {
    CHECK(refusal(env_with("HOME", std::string(4097, 'x'))) == "env.HOME");
  }
  SUBCASE("a value of 4096 bytes is allowed") {
    CHECK(refusal(env_with("HOME", std::string(4096, 'x'))) == "ok");
  }
  SUBCASE("lower case and underscores are allowed") {
    CHECK(refusal(env_with("_my_var2", "x y")) == "ok");
  }
}

TEST_CASE("sandbox::parse_profile refuses limits that are unknown or out of range") {
  SUBCASE("not an object") {
    CHECK(refusal(profile_with("limits", Json::array({60U}))) == "limits");
  }
  SUBCASE("unknown key") {
    CHECK(refusal(limit_with("threads", 4U)) == "limits.threads");
  }
  SUBCASE("zero") {
    CHECK(refusal(limit_with("cpu_seconds", 0U)) == "limits.cpu_seconds");
  }
  SUBCASE("negative") {
    CHECK(refusal(limit_with("file_size_mib", -1)) == "limits.file_size_mib");
  }
  SUBCASE("a float") {
    CHECK(refusal(limit_with("work_mib", 2.5)) == "limits.work_mib");
  }
  SUBCASE("a whole float") {
    CHECK(refusal(limit_with("work_mib", 64.0)) == "limits.work_mib");
  }
  SUBCASE("a string") {
    CHECK(refusal(limit_with("output_kib", "256")) == "limits.output_kib");
  }
  SUBCASE("a boolean") {
    CHECK(refusal(limit_with("output_kib", true)) == "limits.output_kib");
  }
  SUBCASE("null") {
    CHECK(refusal(limit_with("output_kib", nullptr)) == "limits.output_kib");
  }
  SUBCASE("processes 1") {
    CHECK(refusal(limit_with("processes", 1U)) == "limits.processes");
  }
  SUBCASE("wall_seconds 0") {
    CHECK(refusal(limit_with("wall_seconds", 0U)) == "limits.wall_seconds");
  }
  SUBCASE("memory_mib 1e12 as a number") {
    CHECK(refusal(limit_with("memory_mib", 1e12)) == "limits.memory_mib");
  }
  SUBCASE("memory_mib 1e12 as an integer") {
    CHECK(refusal(limit_with("memory_mib", std::uint64_t{1000000000000})) == "limits.memory_mib");
  }
  SUBCASE("memory_mib below 16") {
    CHECK(refusal(limit_with("memory_mib", 15U)) == "limits.memory_mib");
  }
  SUBCASE("open_files below 16") {
    CHECK(refusal(limit_with("open_files", 15U)) == "limits.open_files");
  }
  SUBCASE("cpu_seconds above a day") {
    CHECK(refusal(limit_with("cpu_seconds", 86401U)) == "limits.cpu_seconds");
  }
  SUBCASE("processes above 65536 (would truncate in 32 bits otherwise)") {
    CHECK(refusal(limit_with("processes", std::uint64_t{1} << 32U)) == "limits.processes");
  }
  SUBCASE("parsed text: a negative and a too large value") {
    CHECK(refusal(profile_with("limits", parse(R"({"processes": -5})"))) == "limits.processes");
    CHECK(refusal(profile_with("limits", parse(R"({"work_mib": 18446744073709551615})")))
          == "limits.work_mib");
  }
  SUBCASE("the range boundaries are allowed") {
    CHECK(refusal(profile_with("limits", parse(R"({"processes": 2, "open_files": 65536})")))
          == "ok");
    CHECK(refusal(profile_with("limits", parse(R"({"memory_mib": 1048576, "work_mib": 65536})")))
          == "ok");
  }
}

TEST_CASE("sandbox::parse_profile refuses a bad suite name or clock shift") {
  SUBCASE("suite ../x") {
    CHECK(refusal(profile_with("suite", "../x")) == "suite");
  }
  SUBCASE("suite -x") {
    CHECK(refusal(profile_with("suite", "-x")) == "suite");
  }
  SUBCASE("suite with a slash") {
    CHECK(refusal(profile_with("suite", "a/b")) == "suite");
  }
  SUBCASE("suite empty") {
    CHECK(refusal(profile_with("suite", "")) == "suite");
  }
  SUBCASE("suite @other") {
    CHECK(refusal(profile_with("suite", "@vendor")) == "suite");
  }
  SUBCASE("suite not a string") {
    CHECK(refusal(profile_with("suite", 1U)) == "suite");
  }
  SUBCASE("time_shift_days negative") {
    CHECK(refusal(profile_with("time_shift_days", -1)) == "time_shift_days");
  }
  SUBCASE("time_shift_days above 36500") {
    CHECK(refusal(profile_with("time_shift_days", 36501U)) == "time_shift_days");
  }
  SUBCASE("time_shift_days huge") {
    CHECK(refusal(profile_with("time_shift_days", parse("18446744073709551615")))
          == "time_shift_days");
  }
  SUBCASE("time_shift_days a float") {
    CHECK(refusal(profile_with("time_shift_days", 1.5)) == "time_shift_days");
  }
  SUBCASE("time_shift_days a string") {
    CHECK(refusal(profile_with("time_shift_days", "400")) == "time_shift_days");
  }
  SUBCASE("the boundaries are allowed") {
    CHECK(refusal(profile_with("time_shift_days", 0U)) == "ok");
    CHECK(refusal(profile_with("time_shift_days", 36500U)) == "ok");
  }
}

TEST_CASE("sandbox::parse_profile accepts the shipped default profile as written") {
  const auto bytes = read_file(k_profile_file);
  REQUIRE_FALSE(bytes.empty());
  auto p = parse_profile(parse(bytes));
  REQUIRE(p.has_value());
  CHECK(p->runtime == std::vector<std::string>{"/usr", "/bin", "/sbin", "/lib", "/lib64"});
  CHECK(p->etc
        == std::vector<std::string>{"/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"});
  CHECK(p->env.at("PATH") == "/usr/local/bin:/usr/bin:/bin");
  CHECK(p->env.at("HOME") == "/work");
  CHECK(p->env.size() == 5);
  CHECK(p->limits.cpu_seconds == 60);
  CHECK(p->limits.memory_mib == 2048);
  CHECK(p->limits.processes == 128);
  CHECK(p->limits.file_size_mib == 64);
  CHECK(p->limits.wall_seconds == 60);
  CHECK(p->limits.work_mib == 64);
  CHECK(p->limits.output_kib == 256);
  CHECK(p->limits.open_files == 256);
  CHECK(p->suite == "@product");
  CHECK(p->time_shift_days == 400);
  CHECK(p->name.empty());  // load_profile names it
}

TEST_CASE("sandbox::parse_profile fills in defaults for what a profile omits") {
  SUBCASE("no limits, suite, shift, etc or env") {
    auto p = parse_profile(minimal_profile());
    REQUIRE(p.has_value());
    const Limits d;
    CHECK(p->limits.cpu_seconds == d.cpu_seconds);
    CHECK(p->limits.memory_mib == d.memory_mib);
    CHECK(p->limits.processes == d.processes);
    CHECK(p->limits.file_size_mib == d.file_size_mib);
    CHECK(p->limits.wall_seconds == d.wall_seconds);
    CHECK(p->limits.work_mib == d.work_mib);
    CHECK(p->limits.output_kib == d.output_kib);
    CHECK(p->limits.open_files == d.open_files);
    CHECK(p->suite == "@product");
    CHECK(p->time_shift_days == 400);
    CHECK(p->etc.empty());
    CHECK(p->env.empty());
  }
  SUBCASE("a partial limits object changes only what it names") {
    auto p = parse_profile(profile_with("limits", parse(R"({"wall_seconds": 5})")));
    REQUIRE(p.has_value());
    CHECK(p->limits.wall_seconds == 5);
    CHECK(p->limits.cpu_seconds == Limits{}.cpu_seconds);
    CHECK(p->limits.processes == Limits{}.processes);
  }
  SUBCASE("a named suite and no second run") {
    auto doc = minimal_profile();
    doc["suite"] = "cloud-agent";
    doc["time_shift_days"] = 0U;
    auto p = parse_profile(doc);
    REQUIRE(p.has_value());
    CHECK(p->suite == "cloud-agent");
    CHECK(p->time_shift_days == 0);
  }
}

TEST_CASE("sandbox::parse_suite refuses a malformed manifest, naming the field") {
  SUBCASE("not an object") {
    CHECK(suite_refusal(Json::array()) == "schema");
  }
  SUBCASE("missing schema") {
    auto doc = suite_of(commands(1));
    doc.erase("schema");
    CHECK(suite_refusal(doc) == "schema");
  }
  SUBCASE("wrong schema") {
    auto doc = suite_of(commands(1));
    doc["schema"] = "ecluse.suite/v2";
    CHECK(suite_refusal(doc) == "schema");
  }
  SUBCASE("schema of the wrong type") {
    auto doc = suite_of(commands(1));
    doc["schema"] = 1U;
    CHECK(suite_refusal(doc) == "schema");
  }
  SUBCASE("unknown top-level field") {
    auto doc = suite_of(commands(1));
    doc["timeout"] = 5U;
    CHECK(suite_refusal(doc) == "timeout");
  }
  SUBCASE("no commands") {
    auto doc = suite_of(commands(1));
    doc.erase("commands");
    CHECK(suite_refusal(doc) == "commands");
  }
  SUBCASE("an empty command list") {
    CHECK(suite_refusal(suite_of(Json::array())) == "commands");
  }
  SUBCASE("commands not an array") {
    CHECK(suite_refusal(suite_of(Json::object())) == "commands");
  }
  SUBCASE("65 commands") {
    CHECK(suite_refusal(suite_of(commands(65))) == "commands");
  }
  SUBCASE("64 commands are allowed") {
    CHECK(suite_refusal(suite_of(commands(64))) == "ok");
  }
  SUBCASE("a command that is not an object") {
    CHECK(suite_refusal(suite_of(Json::array({"/bin/true"}))) == "commands[0]");
  }
  SUBCASE("a command without a name") {
    auto cmd = command_with("argv", Json::array({"/bin/true"}));
    cmd.erase("name");
    CHECK(suite_refusal(suite_of(Json::array({cmd}))) == "commands[0]");
  }
  SUBCASE("a command without an argv") {
    auto cmd = command_with("name", "one");
    cmd.erase("argv");
    CHECK(suite_refusal(suite_of(Json::array({cmd}))) == "commands[0]");
  }
  SUBCASE("duplicate names") {
    auto cmds = commands(3);
    cmds[2]["name"] = "c0";
    CHECK(suite_refusal(suite_of(cmds)) == "commands[2].name");
  }
  SUBCASE("the message names a duplicate") {
    auto cmds = commands(2);
    cmds[1]["name"] = "c0";
    auto s = parse_suite(suite_of(cmds), "hostile");
    REQUIRE_FALSE(s);
    CHECK(s.error().message.find("'c0'") != std::string::npos);
  }
  SUBCASE("name empty") {
    CHECK(suite_refusal(suite_with_command("name", "")) == "commands[0].name");
  }
  SUBCASE("name ../x") {
    CHECK(suite_refusal(suite_with_command("name", "../x")) == "commands[0].name");
  }
  SUBCASE("name -x") {
    CHECK(suite_refusal(suite_with_command("name", "-x")) == "commands[0].name");
  }
  SUBCASE("name with a space") {
    CHECK(suite_refusal(suite_with_command("name", "a b")) == "commands[0].name");
  }
  SUBCASE("name with a slash") {
    CHECK(suite_refusal(suite_with_command("name", "a/b")) == "commands[0].name");
  }
  SUBCASE("name of 65 characters") {
    CHECK(suite_refusal(suite_with_command("name", std::string(65, 'a'))) == "commands[0].name");
  }
  SUBCASE("name not a string") {
    CHECK(suite_refusal(suite_with_command("name", 1U)) == "commands[0].name");
  }
  SUBCASE("argv empty") {
    CHECK(suite_refusal(argv_suite(Json::array())) == "commands[0].argv");
  }
  SUBCASE("argv not an array") {
    CHECK(suite_refusal(argv_suite("/bin/true")) == "commands[0].argv");
  }
  SUBCASE("argv of 257 arguments") {
    auto argv = Json::array({"/bin/echo"});
    for (int i = 0; i < 256; ++i) {
      argv.push_back("x");
    }
    CHECK(suite_refusal(argv_suite(argv)) == "commands[0].argv");
  }
  SUBCASE("argv[0] relative") {
    CHECK(suite_refusal(argv_suite(Json::array({"sh", "-c", "true"}))) == "commands[0].argv[0]");
  }
  SUBCASE("argv[0] an option") {
    CHECK(suite_refusal(argv_suite(Json::array({"--bind", "/", "/"}))) == "commands[0].argv[0]");
  }
  SUBCASE("argv[0] with ..") {
    CHECK(suite_refusal(argv_suite(Json::array({"/drop/../bin/sh"}))) == "commands[0].argv[0]");
  }
  SUBCASE("an argument with a NUL") {
    CHECK(suite_refusal(argv_suite(Json::array({"/bin/echo", std::string("a\0b", 3)})))
          == "commands[0].argv[1]");
  }
  SUBCASE("an argument with an escape character") {
    CHECK(suite_refusal(argv_suite(Json::array({"/bin/echo", "a\x1b[2Jb"})))
          == "commands[0].argv[1]");
  }
  SUBCASE("an argument with a carriage return") {
    CHECK(suite_refusal(argv_suite(Json::array({"/bin/echo", "a\rb"}))) == "commands[0].argv[1]");
  }
  SUBCASE("an argument longer than 8192 bytes") {
    CHECK(suite_refusal(argv_suite(Json::array({"/bin/echo", std::string(8193, 'x')})))
          == "commands[0].argv[1]");
  }
  SUBCASE("an argument that is not a string") {
    CHECK(suite_refusal(argv_suite(Json::array({"/bin/echo", 1U}))) == "commands[0].argv[1]");
  }
  SUBCASE("expect_exit 256") {
    CHECK(suite_refusal(suite_with_command("expect_exit", 256U)) == "commands[0].expect_exit");
  }
  SUBCASE("expect_exit -1") {
    CHECK(suite_refusal(suite_with_command("expect_exit", -1)) == "commands[0].expect_exit");
  }
  SUBCASE("expect_exit a float") {
    CHECK(suite_refusal(suite_with_command("expect_exit", 1.5)) == "commands[0].expect_exit");
  }
  SUBCASE("expect_exit huge") {
    CHECK(suite_refusal(suite_with_command("expect_exit", parse("18446744073709551615")))
          == "commands[0].expect_exit");
  }
  SUBCASE("wall_seconds 0") {
    CHECK(suite_refusal(suite_with_command("wall_seconds", 0U)) == "commands[0].wall_seconds");
  }
  SUBCASE("wall_seconds above a day") {
    CHECK(suite_refusal(suite_with_command("wall_seconds", 86401U)) == "commands[0].wall_seconds");
  }
  SUBCASE("wall_seconds negative") {
    CHECK(suite_refusal(suite_with_command("wall_seconds", -5)) == "commands[0].wall_seconds");
  }
  SUBCASE("wall_seconds a string") {
    CHECK(suite_refusal(suite_with_command("wall_seconds", "5")) == "commands[0].wall_seconds");
  }
  SUBCASE("unknown command field") {
    CHECK(suite_refusal(suite_with_command("env", Json::object())) == "commands[0].env");
  }
  SUBCASE("the failing command's index is named") {
    auto cmds = commands(3);
    cmds[1]["argv"] = Json::array({"relative"});
    CHECK(suite_refusal(suite_of(cmds)) == "commands[1].argv[0]");
  }
}

TEST_CASE("sandbox::parse_suite accepts the shipped cloud-agent suite and valid fields") {
  SUBCASE("the shipped suite") {
    auto s = parse_suite(parse(read_file(k_suite_file)), "cloud-agent");
    REQUIRE(s.has_value());
    CHECK(s->name == "cloud-agent");
    REQUIRE(s->commands.size() == 4);
    CHECK(s->commands[0].name == "version");
    CHECK(s->commands[1].name == "selftest");
    CHECK(s->commands[2].name == "licence");
    CHECK(s->commands[3].name == "libraries");
    CHECK(s->commands[0].argv.at(0) == "/bin/sh");
    CHECK(s->commands[1].argv
          == std::vector<std::string>{"/drop/payload/bin/acme-agent", "--selftest"});
    for (const auto& c : s->commands) {
      CAPTURE(c.name);
      CHECK(c.expect_exit == 0);
      CHECK_FALSE(c.wall_seconds.has_value());
    }
    CHECK(s->sha256.empty());  // load_suite sets it
  }
  SUBCASE("expect_exit, wall_seconds, description, tab and newline in arguments") {
    auto cmd = command_with("expect_exit", 3U);
    cmd["wall_seconds"] = 5U;
    cmd["description"] = "a script";
    cmd["argv"] = Json::array({"/bin/sh", "-c", "true\n\ttrue"});
    auto s = parse_suite(suite_of(Json::array({cmd})), "mine");
    REQUIRE(s.has_value());
    REQUIRE(s->commands.size() == 1);
    CHECK(s->commands[0].expect_exit == 3);
    CHECK(s->commands[0].wall_seconds == std::optional<std::uint32_t>{5});
    CHECK(s->commands[0].argv.at(2) == "true\n\ttrue");
  }
  SUBCASE("expect_exit 255 and 0") {
    CHECK(suite_refusal(suite_with_command("expect_exit", 255U)) == "ok");
    CHECK(suite_refusal(suite_with_command("expect_exit", 0U)) == "ok");
  }
}

TEST_CASE("sandbox::load_profile falls back to the shipped default and refuses bad files") {
  TempDir d;
  const auto sandbox_dir = d / "sandbox";
  const auto shipped = read_file(k_profile_file);
  auto expected = parse_profile(parse(shipped));
  REQUIRE(expected.has_value());

  SUBCASE("no profiles/default.json: the embedded default") {
    auto p = ecluse::sandbox::load_profile(sandbox_dir, "default");
    REQUIRE(p.has_value());
    CHECK(p->profile.name == "default");
    check_same_profile(p->profile, *expected);
    CHECK(p->sha256 == sha256_of(shipped));  // embedded bytes are the shipped file's
  }
  SUBCASE("a workspace default.json wins over the embedded one") {
    auto doc = parse(shipped);
    doc["time_shift_days"] = 30U;
    const auto bytes = ecluse::json::dump_pretty(doc);
    write_file(sandbox_dir / "profiles" / "default.json", bytes);
    auto p = ecluse::sandbox::load_profile(sandbox_dir, "default");
    REQUIRE(p.has_value());
    CHECK(p->profile.time_shift_days == 30);
    CHECK(p->sha256 == sha256_of(bytes));
  }
  SUBCASE("malformed JSON names the file") {
    const auto file = sandbox_dir / "profiles" / "default.json";
    write_file(file, R"({"schema": "ecluse.sandbox-profile/v1", "runtime": [)");
    auto p = ecluse::sandbox::load_profile(sandbox_dir, "default");
    REQUIRE_FALSE(p);
    CHECK(p.error().reason == "sandbox.bad_profile");
    CHECK(p.error().message.find(file.string()) != std::string::npos);
    CHECK(p.error().item == file.string());
  }
  SUBCASE("a duplicate key is malformed") {
    write_file(sandbox_dir / "profiles" / "default.json",
               R"({"schema": "ecluse.sandbox-profile/v1", "runtime": ["/usr"],)"
               R"( "runtime": ["/usr", "/proc"]})");
    auto p = ecluse::sandbox::load_profile(sandbox_dir, "default");
    REQUIRE_FALSE(p);
    CHECK(p.error().reason == "sandbox.bad_profile");
  }
  SUBCASE("a bad field names the file and the field") {
    const auto file = sandbox_dir / "profiles" / "default.json";
    write_file(file, R"({"schema": "ecluse.sandbox-profile/v1", "runtime": ["/usr", "/proc"]})");
    auto p = ecluse::sandbox::load_profile(sandbox_dir, "default");
    REQUIRE_FALSE(p);
    CHECK(p.error().reason == "sandbox.bad_profile");
    CHECK(p.error().item == "runtime[1]");
    CHECK(p.error().message.find(file.string()) != std::string::npos);
    CHECK(p.error().message.find("runtime[1]") != std::string::npos);
  }
  SUBCASE("a name that is no profile name") {
    write_file(d / "evil.json", shipped);
    auto p = ecluse::sandbox::load_profile(sandbox_dir, "../../evil");
    REQUIRE_FALSE(p);
    CHECK(p.error().reason == "sandbox.bad_profile");
    CHECK(p.error().item == "(name)");
  }
  SUBCASE("a missing profile other than the default") {
    auto p = ecluse::sandbox::load_profile(sandbox_dir, "nosuch");
    REQUIRE_FALSE(p);
    CHECK(p.error().reason == "sandbox.bad_profile");
    CHECK(p.error().message.find("nosuch.json") != std::string::npos);
  }
}

TEST_CASE("sandbox::profile_for picks the product's profile when present, else the default") {
  TempDir d;
  const auto sandbox_dir = d / "sandbox";
  write_file(sandbox_dir / "profiles" / "cloud.json",
             R"({"schema": "ecluse.sandbox-profile/v1", "runtime": ["/usr"],)"
             R"( "suite": "cloud-agent", "time_shift_days": 0})");
  SUBCASE("profiles/PRODUCT.json") {
    auto p = ecluse::sandbox::profile_for(sandbox_dir, "cloud");
    REQUIRE(p.has_value());
    CHECK(p->profile.name == "cloud");
    CHECK(p->profile.suite == "cloud-agent");
    CHECK(p->profile.time_shift_days == 0);
    CHECK(p->profile.runtime == std::vector<std::string>{"/usr"});
    CHECK(p->sha256 == sha256_of(read_file(sandbox_dir / "profiles" / "cloud.json")));
  }
  SUBCASE("another product: the (embedded) default") {
    auto p = ecluse::sandbox::profile_for(sandbox_dir, "other");
    REQUIRE(p.has_value());
    CHECK(p->profile.name == "default");
    CHECK(p->profile.time_shift_days == 400);
  }
  SUBCASE("another product: the workspace's default") {
    write_file(sandbox_dir / "profiles" / "default.json",
               R"({"schema": "ecluse.sandbox-profile/v1", "runtime": ["/opt/rt"]})");
    auto p = ecluse::sandbox::profile_for(sandbox_dir, "other");
    REQUIRE(p.has_value());
    CHECK(p->profile.name == "default");
    CHECK(p->profile.runtime == std::vector<std::string>{"/opt/rt"});
  }
  SUBCASE("a product name that is no file name: the default, not a file elsewhere") {
    write_file(d / "evil.json",
               R"({"schema": "ecluse.sandbox-profile/v1", "runtime": ["/opt/evil"]})");
    auto p = ecluse::sandbox::profile_for(sandbox_dir, "../../evil");
    REQUIRE(p.has_value());
    CHECK(p->profile.name == "default");
    CHECK(p->profile.runtime.at(0) == "/usr");
  }
  SUBCASE("a malformed product profile is refused, not skipped") {
    write_file(sandbox_dir / "profiles" / "cloud.json", "{");
    auto p = ecluse::sandbox::profile_for(sandbox_dir, "cloud");
    REQUIRE_FALSE(p);
    CHECK(p.error().reason == "sandbox.bad_profile");
  }
}

TEST_CASE("sandbox::load_suite reads a suite folder, with the manifest's digest") {
  TempDir d;
  const auto sandbox_dir = d / "sandbox";
  const auto shipped = read_file(k_suite_file);
  SUBCASE("no suites folder at all") {
    auto s = ecluse::sandbox::load_suite(sandbox_dir, "cloud-agent");
    REQUIRE(s.has_value());
    CHECK_FALSE(s->has_value());
  }
  SUBCASE("a folder without suite.json") {
    std::filesystem::create_directories(sandbox_dir / "suites" / "cloud-agent");
    write_file(sandbox_dir / "suites" / "cloud-agent" / "README", "notes\n");
    auto s = ecluse::sandbox::load_suite(sandbox_dir, "cloud-agent");
    REQUIRE(s.has_value());
    CHECK_FALSE(s->has_value());
  }
  SUBCASE("an invalid name reads nothing, even where a suite.json exists") {
    write_file(sandbox_dir / "etc" / "suite.json", shipped);
    auto s = ecluse::sandbox::load_suite(sandbox_dir, "../etc");
    REQUIRE(s.has_value());
    CHECK_FALSE(s->has_value());
    CHECK_FALSE(ecluse::sandbox::load_suite(sandbox_dir, "").value().has_value());
    CHECK_FALSE(ecluse::sandbox::load_suite(sandbox_dir, "..").value().has_value());
    CHECK_FALSE(ecluse::sandbox::load_suite(sandbox_dir, "a/b").value().has_value());
  }
  SUBCASE("the shipped suite, with its SHA-256") {
    write_file(sandbox_dir / "suites" / "cloud-agent" / "suite.json", shipped);
    auto s = ecluse::sandbox::load_suite(sandbox_dir, "cloud-agent");
    REQUIRE(s.has_value());
    REQUIRE(s->has_value());
    const auto& suite = **s;
    CHECK(suite.name == "cloud-agent");
    CHECK(suite.commands.size() == 4);
    CHECK(suite.sha256 == sha256_of(shipped));
    CHECK(suite.sha256.size() == 64);
  }
  SUBCASE("malformed JSON names the file") {
    const auto file = sandbox_dir / "suites" / "broken" / "suite.json";
    write_file(file, R"({"schema": "ecluse.suite/v1", "commands": [)");
    auto s = ecluse::sandbox::load_suite(sandbox_dir, "broken");
    REQUIRE_FALSE(s);
    CHECK(s.error().reason == "sandbox.bad_suite");
    CHECK(s.error().message.find(file.string()) != std::string::npos);
  }
  SUBCASE("an invalid manifest is refused") {
    write_file(sandbox_dir / "suites" / "empty" / "suite.json",
               R"({"schema": "ecluse.suite/v1", "commands": []})");
    auto s = ecluse::sandbox::load_suite(sandbox_dir, "empty");
    REQUIRE_FALSE(s);
    CHECK(s.error().reason == "sandbox.bad_suite");
    CHECK(s.error().item == "commands");
  }
}

TEST_CASE("sandbox::write_defaults writes the shipped files once and never over a file") {
  TempDir d;
  const auto dir = d / "sandbox";
  const auto profile = dir / "profiles" / "default.json";
  const auto suite = dir / "suites" / "cloud-agent" / "suite.json";

  auto first = ecluse::sandbox::write_defaults(dir);
  REQUIRE(first.has_value());
  CHECK(*first >= 2);
  REQUIRE(std::filesystem::is_regular_file(profile));
  REQUIRE(std::filesystem::is_regular_file(suite));
  CHECK(read_file(profile) == read_file(k_profile_file));
  CHECK(read_file(suite) == read_file(k_suite_file));

  auto second = ecluse::sandbox::write_defaults(dir);
  REQUIRE(second.has_value());
  CHECK(*second == 0);

  const std::string edited = R"({"schema": "ecluse.sandbox-profile/v1", "runtime": ["/usr"]})";
  write_file(profile, edited);
  auto third = ecluse::sandbox::write_defaults(dir);
  REQUIRE(third.has_value());
  CHECK(*third == 0);
  CHECK(read_file(profile) == edited);

  std::filesystem::remove(suite);
  auto fourth = ecluse::sandbox::write_defaults(dir);
  REQUIRE(fourth.has_value());
  CHECK(*fourth == 1);
  CHECK(read_file(suite) == read_file(k_suite_file));
  CHECK(read_file(profile) == edited);

  // What it wrote loads.
  auto loaded = ecluse::sandbox::load_suite(dir, "cloud-agent");
  REQUIRE(loaded.has_value());
  CHECK(loaded->has_value());
}

TEST_CASE(
    "sandbox::Sandbox::prepare refuses binds that resolve to sockets, secrets or the workspace") {
  const ecluse::test::TempDir t;
  const auto try_runtime = [&](const std::vector<std::string>& runtime,
                               const std::vector<std::string>& etc) {
    ecluse::sandbox::Profile p;
    p.name = "hostile";
    p.runtime = runtime;
    p.etc = etc;
    const auto run = ecluse::sandbox::make_run_dir().value();
    auto made = ecluse::sandbox::Sandbox::prepare({}, p, run, t.path());
    std::filesystem::remove_all(run);
    return made;
  };
  SUBCASE("a symlink into /run") {
    std::filesystem::create_directory_symlink("/run", t / "to-run");
    const auto r = try_runtime({"/usr", (t / "to-run").string()}, {});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().reason == "sandbox.bad_profile");
    CHECK(r.error().message.find("resolves to /run") != std::string::npos);
  }
  SUBCASE("/etc secrets") {
    for (const std::string f : {"/etc/shadow", "/etc/ssh/ssh_host_ed25519_key", "/etc/gshadow"}) {
      CAPTURE(f);
      const auto r = try_runtime({"/usr"}, {f});
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().reason == "sandbox.bad_profile");
    }
  }
  SUBCASE("the workspace, or a directory holding it") {
    for (const auto& dir : {t.path().string(), t.path().parent_path().string()}) {
      CAPTURE(dir);
      const auto r = try_runtime({dir}, {});
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().reason == "sandbox.bad_profile");
    }
  }
  SUBCASE("the shipped runtime is fine") {
    CHECK(
        try_runtime({"/usr", "/bin", "/lib", "/lib64", "/sbin"}, {"/etc/ld.so.cache"}).has_value());
  }
}
