// What suite results mean as findings: failures, timeouts, time bombs, egress and truncated
// output, from CommandResult values built by hand (no sandbox runs here).
#include "sandbox/findings.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using ecluse::json::Json;
using ecluse::sandbox::CommandResult;
using ecluse::sandbox::TestCommand;
using ecluse::sandbox::detail::CommandOutcome;
using ecluse::sandbox::detail::findings_of;
using ecluse::sandbox::detail::passed;
using ecluse::store::Finding;

namespace {

constexpr std::int32_t k_shift = 400;

TestCommand command(const std::string& name, int expect_exit = 0) {
  TestCommand c;
  c.name = name;
  c.argv = {"/drop/payload/bin/app", "--selftest"};
  c.expect_exit = expect_exit;
  return c;
}

CommandResult exited(int code) {
  CommandResult r;
  r.exit_code = code;
  r.term_signal = 0;
  r.seconds = 0.5;
  return r;
}

CommandResult signalled(int signal) {
  CommandResult r;
  r.exit_code = -1;
  r.term_signal = signal;
  return r;
}

CommandResult timed_out() {
  CommandResult r = signalled(9);
  r.timed_out = true;
  return r;
}

CommandOutcome outcome(const TestCommand& c,
                       CommandResult now,
                       std::optional<CommandResult> shifted = std::nullopt) {
  return CommandOutcome{c, std::move(now), std::move(shifted)};
}

Json connect(const std::string& address, unsigned port, unsigned count) {
  return Json{{"kind", "connect"},
              {"protocol", "tcp"},
              {"address", address},
              {"port", port},
              {"count", count}};
}

Json dns(const std::string& name, const std::string& qtype, unsigned count = 1) {
  return Json{{"kind", "dns"},
              {"protocol", "udp"},
              {"address", "127.0.0.53"},
              {"port", 53U},
              {"count", count},
              {"name", name},
              {"qtype", qtype}};
}

CommandResult with_egress(CommandResult r, std::vector<Json> attempts) {
  for (auto& a : attempts) {
    r.egress.push_back(std::move(a));
  }
  return r;
}

std::vector<Finding> of_code(const std::vector<Finding>& all, const std::string& code) {
  std::vector<Finding> out;
  for (const auto& f : all) {
    if (f.code == code) {
      out.push_back(f);
    }
  }
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void check_stage(const std::vector<Finding>& all) {
  for (const auto& f : all) {
    CAPTURE(f.code);
    CHECK(f.stage == "test");
  }
}

}  // namespace

TEST_CASE("sandbox::detail::passed compares the exit status with the suite's expectation") {
  CHECK(passed(command("a"), exited(0)));
  CHECK_FALSE(passed(command("a"), exited(1)));
  CHECK(passed(command("a", 3), exited(3)));
  CHECK_FALSE(passed(command("a", 3), exited(0)));
  CHECK_FALSE(passed(command("a"), signalled(9)));
  CHECK_FALSE(passed(command("a"), timed_out()));
  CHECK_FALSE(passed(command("a"), CommandResult{}));  // never ran: exit_code -1
  auto odd = exited(0);
  odd.timed_out = true;  // exited 0 but only after the limit: still not a pass
  CHECK_FALSE(passed(command("a"), odd));
  auto sig0 = exited(0);
  sig0.term_signal = 15;
  CHECK_FALSE(passed(command("a"), sig0));
}

TEST_CASE("sandbox::detail::findings_of reports failures, timeouts and time bombs") {
  const auto c = command("selftest");
  SUBCASE("a pass in both runs: no finding") {
    CHECK(findings_of({outcome(c, exited(0), exited(0))}, k_shift).empty());
  }
  SUBCASE("a pass with no shifted run: no finding") {
    CHECK(findings_of({outcome(c, exited(0))}, 0).empty());
  }
  SUBCASE("no outcomes: no finding") {
    CHECK(findings_of({}, k_shift).empty());
  }
  SUBCASE("exit 1 now: test.failed") {
    const auto f = findings_of({outcome(c, exited(1), exited(1))}, k_shift);
    REQUIRE(f.size() == 1);
    CHECK(f[0].code == "test.failed");
    CHECK(f[0].item == "selftest");
    CHECK(f[0].severity == "high");
    CHECK(contains(f[0].detail, "exited 1"));
    CHECK(contains(f[0].detail, "expected exit 0"));
    check_stage(f);
  }
  SUBCASE("killed by a signal: test.failed") {
    const auto f = findings_of({outcome(c, signalled(9))}, 0);
    REQUIRE(f.size() == 1);
    CHECK(f[0].code == "test.failed");
    CHECK(contains(f[0].detail, "signal 9"));
    CHECK_FALSE(contains(f[0].detail, "exited"));
    check_stage(f);
  }
  SUBCASE("timed out: test.timeout, not test.failed") {
    const auto f = findings_of({outcome(c, timed_out(), timed_out())}, k_shift);
    REQUIRE(f.size() == 1);
    CHECK(f[0].code == "test.timeout");
    CHECK(f[0].item == "selftest");
    CHECK(contains(f[0].detail, "wall-clock limit"));
    CHECK(of_code(f, "test.failed").empty());
    CHECK(of_code(f, "test.fails_in_future").empty());
    check_stage(f);
  }
  SUBCASE("passes now, fails shifted: test.fails_in_future naming the shift") {
    const auto f = findings_of({outcome(c, exited(0), exited(2))}, k_shift);
    REQUIRE(f.size() == 1);
    CHECK(f[0].code == "test.fails_in_future");
    CHECK(f[0].item == "selftest");
    CHECK(f[0].severity == "high");
    CHECK(contains(f[0].detail, "400 days"));
    CHECK(contains(f[0].detail, "exited 2"));
    CHECK(contains(f[0].detail, "expected exit 0"));
    check_stage(f);
  }
  SUBCASE("passes now, times out shifted: test.fails_in_future") {
    const auto f = findings_of({outcome(c, exited(0), timed_out())}, 30);
    REQUIRE(f.size() == 1);
    CHECK(f[0].code == "test.fails_in_future");
    CHECK(contains(f[0].detail, "30 days"));
    CHECK(contains(f[0].detail, "wall-clock limit"));
  }
  SUBCASE("fails in both runs: only test.failed") {
    const auto f = findings_of({outcome(c, exited(1), exited(2))}, k_shift);
    REQUIRE(f.size() == 1);
    CHECK(f[0].code == "test.failed");
    CHECK(contains(f[0].detail, "exited 1"));
  }
  SUBCASE("no shifted run: no test.fails_in_future") {
    CHECK(findings_of({outcome(c, exited(0), std::nullopt)}, 0).empty());
  }
  SUBCASE("expect_exit 3 and exit 3: a pass") {
    CHECK(findings_of({outcome(command("usage", 3), exited(3), exited(3))}, k_shift).empty());
  }
  SUBCASE("expect_exit 3 and exit 0: test.failed naming the expectation") {
    const auto f = findings_of({outcome(command("usage", 3), exited(0))}, 0);
    REQUIRE(f.size() == 1);
    CHECK(f[0].code == "test.failed");
    CHECK(contains(f[0].detail, "exited 0"));
    CHECK(contains(f[0].detail, "expected exit 3"));
  }
  SUBCASE("several commands: findings for each, in order, named by command") {
    const auto f = findings_of({outcome(command("a"), exited(1)),
                                outcome(command("b"), exited(0), exited(0)),
                                outcome(command("c"), timed_out())},
                               k_shift);
    REQUIRE(f.size() == 2);
    CHECK(f[0].item == "a");
    CHECK(f[0].code == "test.failed");
    CHECK(f[1].item == "c");
    CHECK(f[1].code == "test.timeout");
  }
}

TEST_CASE("sandbox::detail::findings_of reports each distinct egress attempt once") {
  const auto c = command("licence");
  SUBCASE("the same attempt in both runs: one finding with the first run's count") {
    const auto f = findings_of({outcome(c,
                                        with_egress(exited(0), {connect("10.1.2.3", 443, 2)}),
                                        with_egress(exited(0), {connect("10.1.2.3", 443, 1)}))},
                               k_shift);
    const auto egress = of_code(f, "test.egress_attempt");
    REQUIRE(egress.size() == 1);
    CHECK(f.size() == 1);
    CHECK(egress[0].item == "licence");
    CHECK(egress[0].severity == "high");
    CHECK(contains(egress[0].detail, "tcp connect 10.1.2.3:443"));
    CHECK(contains(egress[0].detail, "2 times"));
    CHECK(contains(egress[0].detail, "real clock"));
    check_stage(f);
  }
  SUBCASE("a single attempt does not say how many times") {
    const auto f =
        findings_of({outcome(c, with_egress(exited(0), {connect("10.1.2.3", 80, 1)}))}, 0);
    REQUIRE(f.size() == 1);
    CHECK(contains(f[0].detail, "tcp connect 10.1.2.3:80"));
    CHECK_FALSE(contains(f[0].detail, "times"));
  }
  SUBCASE("an attempt only in the shifted run says so") {
    const auto f = findings_of(
        {outcome(c, exited(0), with_egress(exited(0), {connect("10.1.2.3", 443, 1)}))}, k_shift);
    REQUIRE(f.size() == 1);
    CHECK(f[0].code == "test.egress_attempt");
    CHECK(contains(f[0].detail, "shifted clock"));
  }
  SUBCASE("an IPv6 address is shown in brackets") {
    const auto f =
        findings_of({outcome(c, with_egress(exited(0), {connect("2001:db8::1", 443, 1)}))}, 0);
    REQUIRE(f.size() == 1);
    CHECK(contains(f[0].detail, "[2001:db8::1]:443"));
  }
  SUBCASE("a DNS question") {
    const auto f =
        findings_of({outcome(c, with_egress(exited(0), {dns("phone.example.com", "A")}))}, 0);
    REQUIRE(f.size() == 1);
    CHECK(f[0].code == "test.egress_attempt");
    CHECK(contains(f[0].detail, "dns query phone.example.com (A)"));
    check_stage(f);
  }
  SUBCASE("two different attempts: two findings") {
    const auto f = findings_of(
        {outcome(
            c,
            with_egress(exited(0), {connect("10.1.2.3", 443, 1), dns("phone.example.com", "A")}),
            with_egress(exited(0), {dns("phone.example.com", "A", 3)}))},
        k_shift);
    const auto egress = of_code(f, "test.egress_attempt");
    REQUIRE(egress.size() == 2);
    CHECK(contains(egress[0].detail, "tcp connect 10.1.2.3:443"));
    CHECK(contains(egress[1].detail, "dns query phone.example.com (A)"));
  }
  SUBCASE("the same address on another port is another attempt") {
    const auto f = findings_of(
        {outcome(
            c, with_egress(exited(0), {connect("10.1.2.3", 443, 1), connect("10.1.2.3", 80, 1)}))},
        0);
    CHECK(of_code(f, "test.egress_attempt").size() == 2);
  }
  SUBCASE("each command reports its own attempts") {
    const auto f =
        findings_of({outcome(command("a"), with_egress(exited(0), {connect("10.1.2.3", 443, 1)})),
                     outcome(command("b"), with_egress(exited(0), {connect("10.1.2.3", 443, 1)}))},
                    0);
    const auto egress = of_code(f, "test.egress_attempt");
    REQUIRE(egress.size() == 2);
    CHECK(egress[0].item == "a");
    CHECK(egress[1].item == "b");
  }
  SUBCASE("egress alongside a failure: both reported") {
    const auto f =
        findings_of({outcome(c, with_egress(exited(1), {connect("10.1.2.3", 443, 1)}))}, 0);
    CHECK(of_code(f, "test.failed").size() == 1);
    CHECK(of_code(f, "test.egress_attempt").size() == 1);
    check_stage(f);
  }
}

TEST_CASE("sandbox::detail::findings_of reports output cut at the profile's cap") {
  const auto c = command("version");
  SUBCASE("stdout cut: test.output_truncated, informational") {
    auto r = exited(0);
    r.stdout_head = std::string(16, 'x');
    r.stdout_bytes = 4096;
    const auto f = findings_of({outcome(c, r)}, 0);
    REQUIRE(f.size() == 1);
    CHECK(f[0].code == "test.output_truncated");
    CHECK(f[0].severity == "info");
    CHECK(f[0].item == "version");
    CHECK(f[0].detail == "stdout (real clock): 4096 bytes, the first 16 kept");
    check_stage(f);
  }
  SUBCASE("stderr cut: test.output_truncated") {
    auto r = exited(0);
    r.stderr_head = "abc";
    r.stderr_bytes = 10;
    const auto f = findings_of({outcome(c, r)}, 0);
    REQUIRE(f.size() == 1);
    CHECK(f[0].code == "test.output_truncated");
    CHECK(f[0].detail == "stderr (real clock): 10 bytes, the first 3 kept");
  }
  SUBCASE("cut only in the shifted run: still reported, naming the run") {
    auto later = exited(0);
    later.stdout_bytes = 70000;
    later.stdout_head = std::string(100, 'y');
    auto o = outcome(c, exited(0));
    o.shifted = later;
    const auto f = findings_of({o}, 400);
    REQUIRE(f.size() == 1);
    CHECK(f[0].detail == "stdout (shifted clock): 70000 bytes, the first 100 kept");
  }
  SUBCASE("all output kept: no finding") {
    auto r = exited(0);
    r.stdout_head = "acme-agent 1.2.3\n";
    r.stdout_bytes = r.stdout_head.size();
    r.stderr_head = "warning\n";
    r.stderr_bytes = r.stderr_head.size();
    CHECK(findings_of({outcome(c, r)}, 0).empty());
  }
  SUBCASE("a failure with cut output: both") {
    auto r = exited(1);
    r.stdout_bytes = 1;
    const auto f = findings_of({outcome(c, r)}, 0);
    REQUIRE(f.size() == 2);
    CHECK(f[0].code == "test.failed");
    CHECK(f[1].code == "test.output_truncated");
    check_stage(f);
  }
}

TEST_CASE("sandbox::detail::findings_of gives every finding the test stage") {
  auto cut = exited(0);
  cut.stdout_bytes = 100;
  const auto f = findings_of(
      {outcome(command("a"), exited(1)),
       outcome(command("b"), timed_out()),
       outcome(command("c"), exited(0), exited(1)),
       outcome(command("d"), with_egress(exited(0), {dns("phone.example.com", "AAAA")})),
       outcome(command("e"), cut)},
      k_shift);
  REQUIRE(f.size() == 5);
  CHECK(f[0].code == "test.failed");
  CHECK(f[1].code == "test.timeout");
  CHECK(f[2].code == "test.fails_in_future");
  CHECK(f[3].code == "test.egress_attempt");
  CHECK(contains(f[3].detail, "(AAAA)"));
  CHECK(f[4].code == "test.output_truncated");
  check_stage(f);
}

TEST_CASE("sandbox::detail::findings_of: attempts past the recorder's cap still give a finding") {
  ecluse::sandbox::TestCommand c;
  c.name = "decoys";
  c.argv = {"/bin/true"};
  ecluse::sandbox::detail::CommandOutcome o{c, {}, std::nullopt};
  o.now.exit_code = 0;
  o.now.egress_dropped = 7;
  const auto f = ecluse::sandbox::detail::findings_of({o}, 0);
  REQUIRE(f.size() == 1);
  CHECK(f[0].code == "test.egress_attempt");
  CHECK(f[0].detail.find("7 more attempts") != std::string::npos);
}

TEST_CASE("sandbox::detail::findings_of names the signal the wrapper shell reports as 128+N") {
  ecluse::sandbox::TestCommand c;
  c.name = "segv";
  c.argv = {"/bin/true"};
  ecluse::sandbox::detail::CommandOutcome o{c, {}, std::nullopt};
  o.now.exit_code = 139;
  const auto f = ecluse::sandbox::detail::findings_of({o}, 0);
  REQUIRE(f.size() == 1);
  CHECK(f[0].detail.find("killed by signal 11") != std::string::npos);
}
