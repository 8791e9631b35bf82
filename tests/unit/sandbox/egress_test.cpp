// EgressRecorder against a real network namespace: a forked child unshares one, and what it
// tries to reach (a TCP connect out, one to loopback, a DNS question) must be recorded, with
// the connect out refused at once. Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN): skipped if not.
#include "sandbox/egress.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using ecluse::sandbox::EgressAttempt;
using ecluse::sandbox::EgressEvent;
using ecluse::sandbox::EgressLog;
using ecluse::sandbox::EgressRecorder;

namespace {

// Everything the child needs, prepared before fork so that it only makes raw system calls.
struct ChildPlan {
  sockaddr_in outside{};            // 10.1.2.3:443, routed nowhere without the recorder
  sockaddr_in loopback{};           // 127.0.0.1:80
  sockaddr_in resolver{};           // 127.0.0.1:53
  sockaddr_in6 outside6{};          // [2001:db8::1]:443
  std::vector<std::uint8_t> query;  // "phone-home.example.com" A
};

sockaddr_in v4(const char* address, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  REQUIRE(::inet_pton(AF_INET, address, &a.sin_addr) == 1);
  return a;
}

std::vector<std::uint8_t> dns_query_phone_home() {
  std::vector<std::uint8_t> m{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  for (const std::string label : {"phone-home", "example", "com"}) {
    m.push_back(static_cast<std::uint8_t>(label.size()));
    m.insert(m.end(), label.begin(), label.end());
  }
  m.insert(m.end(), {0, 0, 1, 0, 1});  // root, QTYPE A, QCLASS IN
  return m;
}

ChildPlan make_plan() {
  ChildPlan p;
  p.outside = v4("10.1.2.3", 443);
  p.loopback = v4("127.0.0.1", 80);
  p.resolver = v4("127.0.0.1", 53);
  p.outside6.sin6_family = AF_INET6;
  p.outside6.sin6_port = htons(443);
  REQUIRE(::inet_pton(AF_INET6, "2001:db8::1", &p.outside6.sin6_addr) == 1);
  p.query = dns_query_phone_home();
  return p;
}

bool bring_lo_up() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    return false;
  }
  ifreq req{};
  std::memcpy(&req.ifr_name, "lo", 3);
  bool up = ::ioctl(s, SIOCGIFFLAGS, &req) == 0;
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  up = up && ::ioctl(s, SIOCSIFFLAGS, &req) == 0;
  ::close(s);
  return up;
}

// 0 when the connect is refused, else its errno (200 if it succeeded).
int connect_result(int family, const sockaddr* to, socklen_t len) {
  const int s = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    return errno;
  }
  const int rc = ::connect(s, to, len);
  const int err = errno;
  ::close(s);
  if (rc == 0) {
    return 200;
  }
  return err == ECONNREFUSED ? 0 : err;
}

// The sandboxed side; exits 0 when the connect to 10.1.2.3 was refused, else with its errno.
[[noreturn]] void child_main(const ChildPlan& p, int ready_w, int go_r) {
  if (::unshare(CLONE_NEWNET) != 0) {
    ::_exit(120);
  }
  if (!bring_lo_up()) {
    ::_exit(121);
  }
  char byte = 'r';
  if (::write(ready_w, &byte, 1) != 1 || ::read(go_r, &byte, 1) != 1) {
    ::_exit(122);
  }
  const int outside =
      connect_result(AF_INET, reinterpret_cast<const sockaddr*>(&p.outside), sizeof(p.outside));
  (void)connect_result(AF_INET, reinterpret_cast<const sockaddr*>(&p.loopback), sizeof(p.loopback));
  const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (udp < 0
      || ::sendto(udp,
                  p.query.data(),
                  p.query.size(),
                  0,
                  reinterpret_cast<const sockaddr*>(&p.resolver),
                  sizeof(p.resolver))
             != static_cast<ssize_t>(p.query.size())) {
    ::_exit(123);
  }
  // IPv6 may be disabled here: its result goes back on the pipe, the test only reports it.
  const int outside6 =
      connect_result(AF_INET6, reinterpret_cast<const sockaddr*>(&p.outside6), sizeof(p.outside6));
  byte = static_cast<char>(outside6 > 127 ? 127 : outside6);
  if (::write(ready_w, &byte, 1) != 1) {
    ::_exit(124);
  }
  ::_exit(outside > 119 ? 119 : outside);
}

// The parent's end of the child: kills and reaps it if the test leaves early.
struct Child {
  pid_t pid = -1;
  int ready_r = -1;
  int go_w = -1;

  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&&) = delete;
  Child& operator=(Child&&) = delete;

  int wait() {
    int status = 0;
    const pid_t reaped = ::waitpid(pid, &status, 0);
    pid = -1;
    return reaped < 0 ? -1 : status;
  }

  ~Child() {
    if (go_w >= 0) {
      ::close(go_w);
    }
    if (ready_r >= 0) {
      ::close(ready_r);
    }
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      (void)wait();
    }
  }
};

void start_child(Child& c, const ChildPlan& plan) {
  std::array<int, 2> ready{};
  std::array<int, 2> go{};
  REQUIRE(::pipe2(ready.data(), O_CLOEXEC) == 0);
  REQUIRE(::pipe2(go.data(), O_CLOEXEC) == 0);
  c.pid = ::fork();
  REQUIRE(c.pid >= 0);
  if (c.pid == 0) {
    child_main(plan, ready[1], go[0]);
  }
  ::close(ready[1]);
  ::close(go[0]);
  c.ready_r = ready[0];
  c.go_w = go[1];
}

const EgressAttempt* find(const EgressLog& log, const EgressEvent& e) {
  const auto it = std::find_if(log.attempts.begin(),
                               log.attempts.end(),
                               [&](const EgressAttempt& a) { return a.event == e; });
  return it == log.attempts.end() ? nullptr : &*it;
}

EgressEvent event(std::string kind, std::string address, std::uint16_t port) {
  EgressEvent e;
  e.kind = std::move(kind);
  e.protocol = e.kind == "connect" ? "tcp" : "udp";
  e.address = std::move(address);
  e.port = port;
  return e;
}

}  // namespace

TEST_CASE("sandbox::EgressRecorder records what a process in its own network namespace tries") {
  if (const auto observable = ecluse::sandbox::egress_observable(); !observable) {
    MESSAGE("skipped, cannot observe a network namespace here: " << observable.error().to_string());
    return;
  }
  const ChildPlan plan = make_plan();
  Child child;
  start_child(child, plan);
  char byte = 0;
  if (::read(child.ready_r, &byte, 1) != 1) {
    FAIL("the child could not set up its network namespace, wait status " << child.wait());
  }
  auto attached = EgressRecorder::attach(child.pid);
  REQUIRE_MESSAGE(attached, attached.error().to_string());
  EgressRecorder recorder = std::move(*attached);  // the capture survives a move
  REQUIRE(::write(child.go_w, "g", 1) == 1);
  char v6_result = -1;
  CHECK(::read(child.ready_r, &v6_result, 1) == 1);
  const int status = child.wait();
  const EgressLog log = recorder.stop();

  REQUIRE(WIFEXITED(status));
  CHECK_MESSAGE(WEXITSTATUS(status) == 0,
                "connect to 10.1.2.3:443 failed with errno " << WEXITSTATUS(status)
                                                             << " instead of being refused");
  const EgressAttempt* outside = find(log, event("connect", "10.1.2.3", 443));
  REQUIRE(outside != nullptr);
  CHECK(outside->count == 1);  // one SYN, seen leaving only (loopback shows it twice)
  CHECK(find(log, event("connect", "127.0.0.1", 80)) != nullptr);
  EgressEvent dns = event("dns", "127.0.0.1", 53);
  dns.name = "phone-home.example.com";
  dns.qtype = "A";
  CHECK(find(log, dns) != nullptr);
  if (v6_result == 0) {
    CHECK(find(log, event("connect", "2001:db8::1", 443)) != nullptr);
    CHECK(log.attempts.size() == 4);
  } else {
    MESSAGE("IPv6 is unavailable in the namespace (errno " << int{v6_result} << ")");
    CHECK(log.attempts.size() == 3);
  }
  CHECK(log.dropped == 0);
  CHECK(log.packets >= log.attempts.size());
  CHECK(recorder.stop().attempts.empty());  // a second stop has nothing more
}

TEST_CASE("sandbox::EgressRecorder::attach fails cleanly for a process that does not exist") {
  const auto r = EgressRecorder::attach(0x3FFFFFFF);  // above the kernel's pid_max limit
  REQUIRE_FALSE(r);
  CHECK((r.error().reason == "sandbox.failed" || r.error().reason == "sandbox.egress_unavailable"));
  CHECK(r.error().message.find("/proc/1073741823/ns/net") != std::string::npos);
}

TEST_CASE("sandbox::to_json names a DNS question only for dns attempts") {
  EgressAttempt connect{event("connect", "10.1.2.3", 443), 2};
  const auto c = ecluse::sandbox::to_json(connect);
  CHECK(c.at("kind") == "connect");
  CHECK(c.at("protocol") == "tcp");
  CHECK(c.at("address") == "10.1.2.3");
  CHECK(c.at("port") == 443);
  CHECK(c.at("count") == 2);
  CHECK_FALSE(c.contains("name"));
  EgressAttempt dns{event("dns", "127.0.0.1", 53), 1};
  dns.event.name = "phone-home.example.com";
  dns.event.qtype = "A";
  const auto d = ecluse::sandbox::to_json(dns);
  CHECK(d.at("name") == "phone-home.example.com");
  CHECK(d.at("qtype") == "A");
}
