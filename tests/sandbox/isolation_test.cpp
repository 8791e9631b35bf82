// Isolation, proved by real sandbox runs (bubblewrap, seccomp, the pids cgroup, the egress
// recorder): each test runs hostile code and checks that the host saw nothing of it. Skipped,
// with the reason printed, only where user namespaces are unavailable.
#include <ecluse/sandbox/run.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>

#include "support/support.hpp"

namespace {

namespace sb = ecluse::sandbox;
namespace stdfs = std::filesystem;
using ecluse::json::Json;

// A sandbox over a small drop, with the shipped default profile (limits tightened per test).
struct Box {
  ecluse::test::TempDir dir;
  stdfs::path run_dir;  // make_run_dir(): reachable by the sandbox user
  std::optional<sb::Sandbox> box;
  std::string skip;

  Box(const Box&) = delete;
  Box& operator=(const Box&) = delete;
  Box(Box&&) = delete;
  Box& operator=(Box&&) = delete;

  ~Box() {
    std::error_code ec;
    if (!run_dir.empty()) {
      stdfs::remove_all(run_dir, ec);
    }
  }

  explicit Box(const std::function<void(sb::Profile&)>& tweak = {}) {
    auto env = sb::probe_environment();
    if (!env) {
      // Only a kernel without user namespaces excuses a skip; anything else is a failure.
      REQUIRE_MESSAGE(env.error().reason == "sandbox.userns_unavailable", env.error().to_string());
      skip = env.error().message;
      return;
    }
    const auto text = ecluse::test::read_file(stdfs::path(ECLUSE_SOURCE_DIR) / "sandbox"
                                              / "profiles" / "default.json");
    auto profile = sb::parse_profile(ecluse::json::parse_strict(text).value).value();
    profile.name = "default";
    if (tweak) {
      tweak(profile);
    }
    run_dir = sb::make_run_dir().value();
    ecluse::test::write_file(run_dir / "drop" / "payload" / "hello", "hello from the drop\n");
    auto made = sb::Sandbox::prepare(*env, profile, run_dir / "drop");
    REQUIRE_MESSAGE(made.has_value(), made.error().to_string());
    box.emplace(std::move(*made));
  }

  [[nodiscard]] bool ready() const {
    if (!box) {
      MESSAGE("skipped: " << skip);
    }
    return box.has_value();
  }

  sb::CommandResult sh(const std::string& script, std::int32_t shift = 0) const {
    auto r = box->run({"/bin/sh", "-c", script}, shift);
    REQUIRE_MESSAGE(r.has_value(), r.error().to_string());
    return std::move(*r);
  }
};

bool attempted(const sb::CommandResult& r, const Json& want) {
  return std::any_of(r.egress.begin(), r.egress.end(), [&](const Json& a) {
    return std::all_of(want.items().begin(), want.items().end(), [&](const auto& kv) {
      return a.contains(kv.key()) && a.at(kv.key()) == kv.value();
    });
  });
}

// Processes on this machine whose command line contains marker.
int processes_with(const std::string& marker) {
  int n = 0;
  for (const auto& e : stdfs::directory_iterator("/proc")) {
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    const std::string cmd((std::istreambuf_iterator<char>(in)), {});
    n += cmd.find(marker) != std::string::npos ? 1 : 0;
  }
  return n;
}

// Every file under dir with its content, for before/after comparisons.
std::map<std::string, std::string> snapshot(const stdfs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : stdfs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      out[e.path().string()] = ecluse::test::read_file(e.path());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("sandbox: connections to loopback and to the outside fail and both are recorded") {
  const Box b;
  if (!b.ready()) {
    return;
  }
  const auto r = b.sh(
      "bash -c 'exec 3<>/dev/tcp/10.1.2.3/443' 2>/dev/null && exit 10;"
      "bash -c 'exec 3<>/dev/tcp/127.0.0.1/80' 2>/dev/null && exit 11;"
      "bash -c 'exec 3<>/dev/tcp/2001:db8::7/8443' 2>/dev/null && exit 12; exit 0");
  CHECK(r.exit_code == 0);
  CHECK(attempted(r, {{"kind", "connect"}, {"address", "10.1.2.3"}, {"port", 443}}));
  CHECK(attempted(r, {{"kind", "connect"}, {"address", "127.0.0.1"}, {"port", 80}}));
  CHECK(attempted(r, {{"kind", "connect"}, {"address", "2001:db8::7"}, {"port", 8443}}));
  CHECK(r.egress_dropped == 0);
}

TEST_CASE("sandbox: a name lookup is recorded with the name asked for") {
  const Box b;
  if (!b.ready()) {
    return;
  }
  const auto r = b.sh("getent hosts phone-home.vendor.example; echo rc=$?");
  CHECK(r.stdout_head.find("rc=2") != std::string::npos);  // not found: nothing answers
  CHECK(attempted(r, {{"kind", "dns"}, {"name", "phone-home.vendor.example"}, {"qtype", "A"}}));
}

TEST_CASE("sandbox: writing anywhere but /work and /out fails") {
  const Box b;
  if (!b.ready()) {
    return;
  }
  const auto r = b.sh(
      "for p in /drop/x /drop/payload/hello /usr/x /x /etc/x /etc/passwd /proc/x /home /root/x; do"
      "  if ( echo pwned > $p ) 2>/dev/null; then echo wrote $p; exit 1; fi; done;"
      "echo kept > /work/kept && echo out > /out/result && echo t > /tmp/t");
  CHECK(r.stdout_head.empty());
  CHECK(r.exit_code == 0);
  REQUIRE(r.files_complete);
  std::vector<std::string> paths;
  for (const auto& f : r.files) {
    paths.push_back(f.path);
  }
  CHECK(paths == std::vector<std::string>{"/out/result", "/work/kept", "/work/t"});
  CHECK(r.files[1].sha256 == ecluse::test::sha256_hex("kept\n"));
  CHECK(ecluse::test::read_file(b.run_dir / "drop" / "payload" / "hello")
        == "hello from the drop\n");
}

TEST_CASE("sandbox: a host secret placed by the test cannot be read") {
  const Box b;
  if (!b.ready()) {
    return;
  }
  const std::string secret = "ecluse-host-secret-" + std::to_string(::getpid());
  // Outside every bind, and (as root) inside one: a root-only file under /usr, which the
  // sandbox sees but, running as nobody, must not read.
  const auto outside = b.dir / "secret.txt";
  ecluse::test::write_file(outside, secret);
  const stdfs::path inside =
      "/usr/local/share/ecluse-isolation-secret-" + std::to_string(::getpid());
  const bool root = ::geteuid() == 0;
  if (root) {
    ecluse::test::write_file(inside, secret);
    stdfs::permissions(inside, stdfs::perms::owner_read);
  }
  const auto r =
      b.sh("cat " + outside.string() + " " + inside.string()
           + " /proc/1/environ /proc/kallsyms 2>/dev/null | head -c 100000; echo; echo ran");
  CHECK(r.stdout_head.find(secret) == std::string::npos);
  CHECK(r.stdout_head.find("\nran\n") != std::string::npos);  // it ran, and failed to read
  if (root) {
    const auto seen = b.sh("test -e " + inside.string() + " && echo visible");
    CHECK(seen.stdout_head == "visible\n");  // the bind is there: only permissions stop it
  }
  std::error_code ec;
  stdfs::remove(inside, ec);
}

TEST_CASE("sandbox: kernel settings cannot be written from inside") {
  const Box b;
  if (!b.ready()) {
    return;
  }
  // The value is written back unchanged, so even a broken sandbox changes nothing.
  const auto current = ecluse::test::read_file("/proc/sys/kernel/core_pattern");
  const auto r = b.sh(
      "printf '%s' \"$(cat /proc/sys/kernel/core_pattern)\" > "
      "/proc/sys/kernel/core_pattern && echo wrote; exit 0");
  CHECK(r.stdout_head.find("wrote") == std::string::npos);
  CHECK(ecluse::test::read_file("/proc/sys/kernel/core_pattern") == current);
}

TEST_CASE("sandbox: /dev/shm is as small as the scratch space") {
  const Box b([](sb::Profile& p) { p.limits.work_mib = 4; });
  if (!b.ready()) {
    return;
  }
  const auto r =
      b.sh("head -c 8000000 /dev/zero > /dev/shm/fill 2>/dev/null && echo fit; echo ran");
  CHECK(r.stdout_head == "ran\n");
}

TEST_CASE("sandbox: a fork bomb stops at the process cap") {
  const Box b([](sb::Profile& p) { p.limits.processes = 24; });
  if (!b.ready()) {
    return;
  }
  const auto r = b.box->run({"/usr/bin/python3",
                             "-c",
                             "import os, time\n"
                             "n = 0\n"
                             "try:\n"
                             "    while n < 500:\n"
                             "        if os.fork() == 0:\n"
                             "            time.sleep(60); os._exit(0)\n"
                             "        n += 1\n"
                             "except OSError as e:\n"
                             "    print('blocked after', n, e.errno)\n"},
                            0);
  REQUIRE(r.has_value());
  CHECK_FALSE(r->timed_out);
  CHECK(r->stdout_head.rfind("blocked after ", 0) == 0);
  const auto forked = std::stoi(r->stdout_head.substr(14));
  CHECK(forked < 24);
  if (r->peak_tasks) {
    CHECK(*r->peak_tasks <= 24);
  }
  CHECK(processes_with("time.sleep(60)") == 0);  // the tree went with its command
}

TEST_CASE("sandbox: a process ignoring SIGTERM and its children are killed at the timeout") {
  const Box b([](sb::Profile& p) { p.limits.wall_seconds = 2; });
  if (!b.ready()) {
    return;
  }
  const auto marker = "31337." + std::to_string(::getpid());
  const auto r = b.sh("trap '' TERM INT HUP; (trap '' TERM; sleep " + marker + ") & (setsid sleep "
                      + marker + ") & sleep " + marker);
  CHECK(r.timed_out);
  CHECK(r.seconds < 6.0);
  CHECK(processes_with("sleep " + marker) == 0);
}

TEST_CASE("sandbox: an output flood is capped, and counted") {
  const Box b([](sb::Profile& p) { p.limits.output_kib = 64; });
  if (!b.ready()) {
    return;
  }
  const auto r = b.sh("head -c 20000000 /dev/zero | tr '\\0' 'y'; head -c 300000 /dev/zero >&2");
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_bytes == 20000000);
  CHECK(r.stdout_head.size() == 64U * 1024U);
  CHECK(r.stderr_bytes == 300000);
  CHECK(r.stderr_head.size() == 64U * 1024U);
}

TEST_CASE("sandbox: ptrace is refused, capabilities are gone, no new privileges, seccomp on") {
  const Box b;
  if (!b.ready()) {
    return;
  }
  const auto r = b.box->run({"/usr/bin/python3",
                             "-c",
                             "import ctypes, os\n"
                             "libc = ctypes.CDLL(None, use_errno=True)\n"
                             "print('ptrace', libc.ptrace(0, 0, 0, 0), ctypes.get_errno())\n"
                             "print(open('/proc/self/status').read())\n"},
                            0);
  REQUIRE(r.has_value());
  const auto& out = r->stdout_head;
  CHECK(out.find("ptrace -1 1\n") != std::string::npos);  // EPERM
  CHECK(out.find("CapEff:\t0000000000000000") != std::string::npos);
  CHECK(out.find("NoNewPrivs:\t1") != std::string::npos);
  CHECK(out.find("Seccomp:\t2") != std::string::npos);
  CHECK(out.find("Uid:\t65534") != std::string::npos);
}

TEST_CASE("sandbox: the shifted run sees the clock ahead; the real run does not") {
  const Box b;
  if (!b.ready()) {
    return;
  }
  const auto deadline = std::to_string(::time(nullptr) + 200 * 86400);
  const auto check = "[ \"$(date +%s)\" -lt " + deadline + " ]";
  CHECK(b.sh(check).exit_code == 0);
  CHECK(b.sh(check, 400).exit_code == 1);
  CHECK(b.sh(check, 100).exit_code == 0);
}

TEST_CASE("sandbox: the host's files are unchanged after a hostile run") {
  const Box b;
  if (!b.ready()) {
    return;
  }
  const auto before = snapshot(b.run_dir);
  const auto r = b.sh(
      "rm -rf /drop/* /work/../drop 2>/dev/null; echo x > /drop/payload/hello 2>/dev/null;"
      "chmod 777 /drop/payload/hello 2>/dev/null; exit 0");
  CHECK(r.exit_code == 0);
  CHECK(snapshot(b.run_dir) == before);
}
