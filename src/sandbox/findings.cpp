// Turning suite results into findings; the policy (not this file) decides what they mean.
#include "findings.hpp"

#include <set>

namespace ecluse::sandbox::detail {

namespace {

store::Finding finding(const Reason& r,
                       std::string severity,
                       const std::string& item,
                       std::string detail) {
  return store::Finding{"test", std::string(r.code), std::move(severity), item, std::move(detail)};
}

std::string how_it_ended(const CommandResult& r) {
  if (r.timed_out) {
    return "was killed at the wall-clock limit";
  }
  if (r.term_signal != 0) {
    return "was killed by signal " + std::to_string(r.term_signal);
  }
  if (r.exit_code > 128 && r.exit_code < 128 + 65) {
    // The wrapper shell reports a command killed by signal N as 128 + N.
    return "exited " + std::to_string(r.exit_code) + " (killed by signal "
           + std::to_string(r.exit_code - 128) + ")";
  }
  return "exited " + std::to_string(r.exit_code);
}

// "tcp connect 10.1.2.3:443", "dns query phone.example.com (A)", "udp 8.8.8.8:123".
std::string describe(const json::Json& a) {
  const auto kind = a.value("kind", std::string());
  const auto count = a.value("count", std::uint64_t{1});
  std::string text;
  if (kind == "dns") {
    text = "dns query " + a.value("name", std::string()) + " (" + a.value("qtype", std::string())
           + ")";
  } else {
    const auto addr = a.value("address", std::string());
    const auto shown = addr.find(':') != std::string::npos ? "[" + addr + "]" : addr;
    text = a.value("protocol", std::string()) + " " + (kind == "connect" ? "connect " : "") + shown
           + (kind == "icmp" ? "" : ":" + std::to_string(a.value("port", 0)));
  }
  return count > 1 ? text + " (" + std::to_string(count) + " times)" : text;
}

void egress_findings(const CommandOutcome& o, std::vector<store::Finding>& out) {
  std::set<std::string> seen;
  auto add = [&](const CommandResult& r, const char* when) {
    for (const auto& a : r.egress) {
      auto text = describe(a);
      auto key = a;
      key.erase("count");
      if (seen.insert(json::dump_line(key)).second) {
        out.push_back(finding(reason::k_test_egress_attempt,
                              "high",
                              o.command.name,
                              std::move(text) + " " + when + "; refused in the sandbox"));
      }
    }
  };
  add(o.now, "(real clock)");
  if (o.shifted) {
    add(*o.shifted, "(shifted clock)");
  }
  // Attempts past the recorder's cap (or lost by the kernel) still count: decoys must not hide
  // the one that matters.
  const auto dropped = o.now.egress_dropped + (o.shifted ? o.shifted->egress_dropped : 0);
  if (dropped > 0) {
    out.push_back(finding(reason::k_test_egress_attempt,
                          "high",
                          o.command.name,
                          std::to_string(dropped)
                              + " more attempts not recorded one by one (over the recorder's cap "
                                "or dropped by the kernel)"));
  }
}

// "stdout: 20000000 bytes, 65536 kept" for each stream a run cut, either run.
std::string cut_streams(const CommandResult& r, const char* when) {
  std::string text;
  auto add = [&](const char* stream, std::uint64_t bytes, std::size_t kept) {
    if (bytes > kept) {
      text += std::string(text.empty() ? "" : "; ") + stream + " " + when + ": "
              + std::to_string(bytes) + " bytes, the first " + std::to_string(kept) + " kept";
    }
  };
  add("stdout", r.stdout_bytes, r.stdout_head.size());
  add("stderr", r.stderr_bytes, r.stderr_head.size());
  return text;
}

void truncation_finding(const CommandOutcome& o, std::vector<store::Finding>& out) {
  auto text = cut_streams(o.now, "(real clock)");
  if (o.shifted) {
    const auto later = cut_streams(*o.shifted, "(shifted clock)");
    text += text.empty() || later.empty() ? later : "; " + later;
  }
  if (!text.empty()) {
    out.push_back(finding(reason::k_test_output_truncated, "info", o.command.name, text));
  }
}

}  // namespace

bool passed(const TestCommand& c, const CommandResult& r) {
  return !r.timed_out && r.term_signal == 0 && r.exit_code == c.expect_exit;
}

std::vector<store::Finding> findings_of(const std::vector<CommandOutcome>& outcomes,
                                        std::int32_t shift_days) {
  std::vector<store::Finding> out;
  for (const auto& o : outcomes) {
    const auto& name = o.command.name;
    const auto expect = " (expected exit " + std::to_string(o.command.expect_exit) + ")";
    if (o.now.timed_out) {
      out.push_back(finding(reason::k_test_timeout, "high", name, how_it_ended(o.now)));
    } else if (!passed(o.command, o.now)) {
      out.push_back(finding(reason::k_test_failed, "high", name, how_it_ended(o.now) + expect));
    } else if (o.shifted && !passed(o.command, *o.shifted)) {
      out.push_back(finding(reason::k_test_fails_in_future,
                            "high",
                            name,
                            "passes now but " + how_it_ended(*o.shifted) + " with the clock "
                                + std::to_string(shift_days) + " days ahead" + expect));
    }
    egress_findings(o, out);
    truncation_finding(o, out);
  }
  return out;
}

}  // namespace ecluse::sandbox::detail
