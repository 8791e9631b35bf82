// One sandboxed command: descriptors, cgroup and rlimits, the bwrap start handshake (info fd,
// egress recorder attached, then the block fd released), and the result with its evidence.
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/sandbox/run.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>

#include "bwrap_argv.hpp"
#include "cgroup.hpp"
#include "egress.hpp"
#include "process_runner.hpp"
#include "seccomp_filter.hpp"

namespace ecluse::sandbox {

namespace {

constexpr std::size_t k_listing_cap = std::size_t{256} * 1024U;
constexpr std::size_t k_max_files = 1000;
constexpr int k_info_timeout_ms = 10000;

struct Pipe {
  fs::UniqueFd read;
  fs::UniqueFd write;
};

Result<Pipe> make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    return fail(reason::k_sandbox_failed, fs::errno_message("cannot create", "a pipe", errno));
  }
  return Pipe{fs::UniqueFd(fds[0]), fs::UniqueFd(fds[1])};
}

// The seccomp filter, compiled once per process; each run reads it through its own open file
// description (a fresh open of the sealed memfd starts at offset 0 and cannot change it).
Result<fs::UniqueFd> filter_for_run() {
  static const auto k_compiled = seccomp_program();
  if (!k_compiled) {
    return fail(k_compiled.error());
  }
  const auto self = "/proc/self/fd/" + std::to_string(k_compiled->get());
  fs::UniqueFd fd(::open(self.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return fail(reason::k_sandbox_failed, fs::errno_message("cannot reopen", self, errno), self);
  }
  return fd;
}

// bwrap's first words on --info-fd: {"child-pid": N, …}.
Result<pid_t> read_child_pid(int fd) {
  std::string text;
  std::array<char, 1024> buf{};
  while (text.find('}') == std::string::npos && text.size() < 8192) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, k_info_timeout_ms);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      return fail(reason::k_sandbox_failed, "bwrap did not report its sandbox in time");
    }
    const auto n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return fail(reason::k_sandbox_failed,
                  "bwrap exited before starting the sandbox (its stderr is in the evidence)");
    }
    text.append(buf.data(), static_cast<std::size_t>(n));
  }
  const auto info = json::parse_strict(text.substr(0, text.find('}') + 1));
  if (info.failure != json::ParseFailure::none || !info.value.contains("child-pid")
      || !info.value.at("child-pid").is_number_unsigned()) {
    return fail(reason::k_sandbox_failed, "bwrap's --info-fd output has no child-pid");
  }
  return static_cast<pid_t>(info.value.at("child-pid").get<std::uint32_t>());
}

std::vector<Rlimit> rlimits_for(const Limits& l, bool cap_by_rlimit) {
  constexpr std::uint64_t k_mib = std::uint64_t{1024} * 1024U;
  std::vector<Rlimit> r{{RLIMIT_CPU, l.cpu_seconds},
                        {RLIMIT_AS, l.memory_mib * k_mib},
                        {RLIMIT_FSIZE, l.file_size_mib * k_mib},
                        {RLIMIT_NOFILE, l.open_files},
                        {RLIMIT_CORE, 0}};
  if (cap_by_rlimit) {
    r.push_back({RLIMIT_NPROC, l.processes});
  }
  return r;
}

// "digest  path\0" records from sha256sum -z, as the wrapper wrote them.
std::vector<WorkFile> parse_listing(const CapturedOutput& listing, bool& complete) {
  std::vector<WorkFile> files;
  complete = !listing.truncated();
  std::size_t start = 0;
  while (start < listing.head.size()) {
    auto end = listing.head.find('\0', start);
    if (end == std::string::npos) {
      complete = false;  // a record cut by the cap
      break;
    }
    const auto rec = std::string_view(listing.head).substr(start, end - start);
    start = end + 1;
    if (rec.size() < 67 || rec.substr(64, 2) != "  "
        || !crypto::Digest::from_hex(rec.substr(0, 64))) {
      complete = false;
      continue;
    }
    if (files.size() == k_max_files) {
      complete = false;
      break;
    }
    files.push_back({std::string(rec.substr(66)), std::string(rec.substr(0, 64))});
  }
  std::sort(
      files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return files;
}

// A sealed memfd holding content, at offset 0 (bwrap copies it with --ro-bind-data).
Result<fs::UniqueFd> data_fd(const std::string& name, const std::string& content) {
  fs::UniqueFd fd(::memfd_create(("ecluse-" + name).c_str(), MFD_CLOEXEC));
  if (!fd.valid()) {
    return fail(reason::k_sandbox_failed, fs::errno_message("cannot create", "a memfd", errno));
  }
  ECLUSE_CHECK(fs::write_all(fd.get(), content, name, reason::k_sandbox_failed));
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) {
    return fail(reason::k_sandbox_failed, fs::errno_message("cannot rewind", name, errno));
  }
  return fd;
}

// The descriptors, cgroup and recorder of one run, alive while it lasts.
struct RunState {
  fs::UniqueFd seccomp;
  fs::UniqueFd drop;
  std::vector<fs::UniqueFd> etc;
  Pipe info;
  Pipe block;
  std::optional<PidsCgroup> cgroup;
  std::optional<EgressRecorder> recorder;
};

Status on_started(RunState& st) {
  st.info.write = fs::UniqueFd();
  st.block.read = fs::UniqueFd();
  ECLUSE_TRY(child, read_child_pid(st.info.read.get()));
  ECLUSE_TRY(recorder, EgressRecorder::attach(child));
  st.recorder.emplace(std::move(recorder));
  // The command starts only now, with every attempt of it observed.
  return fs::write_all(
      st.block.write.get(), "x", "the sandbox's block fd", reason::k_sandbox_failed);
}

CommandResult result_of(const ProcessResult& pr, RunState& st) {
  CommandResult r;
  r.exit_code = pr.term_signal != 0 ? -1 : pr.exit_code;
  r.term_signal = pr.term_signal;
  r.timed_out = pr.timed_out;
  r.seconds = std::chrono::duration<double>(pr.elapsed).count();
  r.peak_rss_kib = pr.max_rss_kib;
  r.stdout_head = pr.captured[0].head;
  r.stdout_bytes = pr.captured[0].total;
  r.stderr_head = pr.captured[1].head;
  r.stderr_bytes = pr.captured[1].total;
  r.files = parse_listing(pr.captured[2], r.files_complete);
  if (st.cgroup) {
    r.peak_tasks = st.cgroup->peak();
  }
  if (st.recorder) {
    const auto log = st.recorder->stop();
    for (const auto& a : log.attempts) {
      r.egress.push_back(to_json(a));
    }
    r.egress_dropped = log.dropped;
  }
  return r;
}

// Host places no bind may reach, however a profile names them: a runtime directory or /etc file
// that resolves (through symlinks, e.g. /var/run → /run) into one of these, or /etc secrets.
bool forbidden_source(const std::string& resolved) {
  static constexpr std::array<std::string_view, 12> k_never{"/run",
                                                            "/proc",
                                                            "/sys",
                                                            "/dev",
                                                            "/root",
                                                            "/home",
                                                            "/etc/shadow",
                                                            "/etc/gshadow",
                                                            "/etc/sudoers",
                                                            "/etc/ssh",
                                                            "/etc/ssl/private",
                                                            "/var/lib/ecluse"};
  const std::string_view r = resolved;
  return r == "/" || std::any_of(k_never.begin(), k_never.end(), [&](std::string_view n) {
           return r == n
                  || (r.size() > n.size() && r.substr(0, n.size()) == n && r[n.size()] == '/');
         });
}

// Every bind source of the profile, resolved on this host, checked against forbidden_source.
Status check_sources(const Profile& p, const std::filesystem::path& workspace_root) {
  std::vector<std::string> sources = p.runtime;
  sources.insert(sources.end(), p.etc.begin(), p.etc.end());
  for (const auto& s : sources) {
    std::error_code ec;
    std::error_code ws_ec;
    const auto resolved = std::filesystem::weakly_canonical(s, ec).string();
    const auto ws = std::filesystem::weakly_canonical(workspace_root, ws_ec).string();
    if (ws_ec) {
      return fail(reason::k_sandbox_failed,
                  "cannot resolve " + workspace_root.string() + ": " + ws_ec.message());
    }
    const bool in_workspace =
        !ws.empty()
        && (resolved == ws || resolved.rfind(ws + "/", 0) == 0 || ws.rfind(resolved + "/", 0) == 0);
    if (!ec && (forbidden_source(resolved) || in_workspace)) {
      std::string why = "profile " + p.name + ": '";
      why += s;
      why += "' resolves to ";
      why += resolved;
      why += ", which the sandbox may never see (sockets, secrets, the workspace)";
      return fail(reason::k_sandbox_bad_profile, std::move(why), s);
    }
  }
  return {};
}

// bwrap runs as the sandbox user and resolves /drop's source by path: every directory on the
// way must let that user through.
Status check_reachable(const std::filesystem::path& dir) {
  if (::geteuid() != 0) {
    return {};  // bwrap runs as this user, who made the directory
  }
  for (auto p = dir; !p.empty(); p = p.parent_path()) {
    struct stat st {};

    if (::stat(p.c_str(), &st) != 0) {
      return fail(reason::k_sandbox_failed, fs::errno_message("cannot stat", p, errno), p.string());
    }
    const bool through =
        (st.st_mode & S_IXOTH) != 0
        || (st.st_uid == static_cast<uid_t>(k_sandbox_uid) && (st.st_mode & S_IXUSR) != 0);
    if (!through) {
      return fail(reason::k_sandbox_failed,
                  "the sandbox user (uid " + std::to_string(k_sandbox_uid) + ") cannot reach "
                      + dir.string() + ": " + p.string() + " is not searchable by it",
                  dir.string());
    }
    if (p == p.root_path()) {
      break;
    }
  }
  return {};
}

}  // namespace

Result<std::filesystem::path> make_run_dir() {
  const char* base = std::getenv("ECLUSE_SANDBOX_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string tmpl =
      std::string(base != nullptr && *base != '\0' ? base : "/var/tmp") + "/ecluse-sandbox-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return fail(reason::k_sandbox_failed, fs::errno_message("cannot create", tmpl, errno), tmpl);
  }
  if (::geteuid() == 0
      && ::chown(tmpl.c_str(), static_cast<uid_t>(k_sandbox_uid), static_cast<gid_t>(k_sandbox_uid))
             != 0) {
    const int err = errno;
    ::rmdir(tmpl.c_str());
    return fail(reason::k_sandbox_failed, fs::errno_message("cannot hand over", tmpl, err), tmpl);
  }
  return std::filesystem::path(tmpl);
}

Result<Sandbox> Sandbox::prepare(Environment env,
                                 Profile profile,
                                 const std::filesystem::path& drop_dir,
                                 const std::filesystem::path& protect) {
  ECLUSE_CHECK(check_sources(profile, protect.empty() ? drop_dir : protect));
  ECLUSE_CHECK(check_reachable(drop_dir));
  return Sandbox(std::move(env), std::move(profile), drop_dir.string());
}

std::vector<std::string> Sandbox::argv_for(const std::vector<std::string>& argv,
                                           std::int32_t shift_days) const {
  return bwrap_argv(ArgvInputs{m_profile, m_env.faketime_lib, shift_days, argv});
}

Result<CommandResult> Sandbox::run(const std::vector<std::string>& argv,
                                   std::int32_t shift_days,
                                   std::uint32_t wall_seconds) const {
  RunState st;
  ECLUSE_TRY(seccomp, filter_for_run());
  st.seccomp = std::move(seccomp);
  ECLUSE_TRY(info, make_pipe());
  ECLUSE_TRY(block, make_pipe());
  st.info = std::move(info);
  st.block = std::move(block);
  st.drop = fs::UniqueFd(::open(m_drop_dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!st.drop.valid()) {
    return fail(
        reason::k_sandbox_failed, fs::errno_message("cannot open", m_drop_dir, errno), m_drop_dir);
  }
  std::vector<std::pair<int, int>> fds{{st.seccomp.get(), k_fd_seccomp},
                                       {st.info.write.get(), k_fd_info},
                                       {st.block.read.get(), k_fd_block},
                                       {st.drop.get(), k_fd_drop}};
  for (const auto& [name, content] : generated_etc()) {
    ECLUSE_TRY(fd, data_fd(name, content));
    fds.emplace_back(fd.get(), k_fd_etc + static_cast<int>(st.etc.size()));
    st.etc.push_back(std::move(fd));
  }
  if (m_env.process_cap == "cgroup") {
    ECLUSE_TRY(cg, PidsCgroup::create(m_profile.limits.processes));
    if (!cg) {
      return fail(reason::k_sandbox_failed, "the pids cgroup is no longer writable");
    }
    st.cgroup.emplace(std::move(*cg));
  }
  const auto& l = m_profile.limits;
  const auto wall = wall_seconds == 0 ? l.wall_seconds : std::min(wall_seconds, l.wall_seconds);
  const auto cap = static_cast<std::size_t>(l.output_kib) * 1024U;
  ProcessSpec spec{m_env.bwrap,
                   argv_for(argv, shift_days),
                   std::move(fds),
                   {{1, cap}, {2, cap}, {k_fd_listing, k_listing_cap}},
                   rlimits_for(l, !st.cgroup),
                   st.cgroup ? st.cgroup->procs_fd() : -1,
                   ::geteuid() == 0 ? k_sandbox_uid : -1,
                   std::chrono::seconds(wall)};
  ProcessHooks hooks{[&](pid_t /*bwrap*/) { return on_started(st); },
                     [&] {
                       if (st.cgroup) {
                         st.cgroup->kill_all();
                       }
                     }};
  ECLUSE_TRY(pr, system_runner().run(spec, hooks));
  return result_of(pr, st);
}

std::vector<std::string> explain_argv(const Profile& profile,
                                      const std::vector<std::string>& argv,
                                      std::int32_t shift_days) {
  return bwrap_argv(ArgvInputs{profile, "LIBFAKETIME", shift_days, argv});
}

json::Json to_json(const CommandResult& r) {
  auto digest = [](const std::string& s) {
    auto d = crypto::sha256(s);
    return d ? d->hex() : std::string();
  };
  json::Json files = json::Json::array();
  for (const auto& f : r.files) {
    files.push_back({{"path", f.path}, {"sha256", f.sha256}});
  }
  json::Json j{{"exit_code", r.exit_code},
               {"signal", r.term_signal},
               {"timed_out", r.timed_out},
               {"seconds", r.seconds},
               {"peak_rss_kib", r.peak_rss_kib},
               {"stdout",
                {{"bytes", r.stdout_bytes},
                 {"kept", r.stdout_head.size()},
                 {"sha256", digest(r.stdout_head)}}},
               {"stderr",
                {{"bytes", r.stderr_bytes},
                 {"kept", r.stderr_head.size()},
                 {"sha256", digest(r.stderr_head)}}},
               {"files", std::move(files)},
               {"files_complete", r.files_complete},
               {"egress", r.egress},
               {"egress_dropped", r.egress_dropped}};
  if (r.peak_tasks) {
    j["peak_tasks"] = *r.peak_tasks;
  }
  return j;
}

}  // namespace ecluse::sandbox
