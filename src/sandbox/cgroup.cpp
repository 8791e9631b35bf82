// PidsCgroup: finds a writable pids hierarchy (cgroup v2, else v1), creates one run's cgroup in
// it, kills everything in it and removes it.
#include "cgroup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ecluse::sandbox {

namespace {

namespace stdfs = std::filesystem;

constexpr auto k_kill_bound = std::chrono::seconds(5);
constexpr auto k_poll = std::chrono::milliseconds(1);
constexpr int k_rmdir_attempts = 200;  // 2 s: rmdir gives EBUSY while killed tasks exit
constexpr int k_name_attempts = 16;

std::atomic<std::uint64_t> g_counter{0};

// A directory whose children may become pids cgroups: this process's own cgroup in one
// hierarchy.
struct Candidate {
  stdfs::path parent;
  bool v2 = false;
};

// What creating the cgroup yields, before it becomes a PidsCgroup.
struct Made {
  stdfs::path dir;
  fs::UniqueFd procs;
};

// The errors that mean "this hierarchy is not ours to write": try the next one.
bool not_writable(int err) {
  return err == EACCES || err == EROFS || err == EPERM;
}

// Reads a small kernel file whole; nullopt (errno set) when it cannot be opened or read.
std::optional<std::string> read_small(const stdfs::path& path) {
  const fs::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return std::nullopt;
  }
  std::string out;
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return std::nullopt;
    }
    if (n == 0) {
      return out;
    }
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
}

// Writes text to a kernel file in one write(2); 0 or the errno.
int write_small(const stdfs::path& path, std::string_view text) {
  const fs::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return errno;
  }
  ssize_t n = -1;
  do {
    n = ::write(fd.get(), text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return errno;
  }
  return static_cast<std::size_t>(n) == text.size() ? 0 : EIO;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find(sep, pos), text.size());
    parts.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return parts;
}

bool lists(std::string_view text, std::string_view word, char sep) {
  for (std::string_view part : split(text, sep)) {
    while (!part.empty() && (part.back() == '\n' || part.back() == ' ')) {
      part.remove_suffix(1);
    }
    if (part == word) {
      return true;
    }
  }
  return false;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    const bool octal = field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0'
                       && field[i + 1] <= '3' && field[i + 2] >= '0' && field[i + 2] <= '7'
                       && field[i + 3] >= '0' && field[i + 3] <= '7';
    if (octal) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8
                               + (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

// This process's cgroup in the v2 hierarchy ("0::/path") and the v1 pids one ("N:pids:/path").
struct OwnPaths {
  std::optional<std::string> v2;
  std::optional<std::string> v1_pids;
};

OwnPaths own_paths(std::string_view proc_self_cgroup) {
  OwnPaths own;
  for (const std::string_view line : split(proc_self_cgroup, '\n')) {
    const std::size_t first = line.find(':');
    const std::size_t second = line.find(':', first == std::string_view::npos ? 0 : first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) {
      continue;
    }
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string path(line.substr(second + 1));
    if (line.substr(0, first) == "0" && controllers.empty()) {
      own.v2 = path;
    } else if (lists(controllers, "pids", ',')) {
      own.v1_pids = path;
    }
  }
  return own;
}

// The directory of cgroup `own` under a mount whose root is `root`; nullopt when the mount
// does not show it.
std::optional<stdfs::path> under_mount(const std::string& point,
                                       const std::string& root,
                                       const std::string& own) {
  if (own.empty() || own.front() != '/' || own.find("/..") != std::string::npos) {
    return std::nullopt;
  }
  if (root == "/") {
    return stdfs::path(point) / own.substr(1);
  }
  if (own == root) {
    return stdfs::path(point);
  }
  if (own.starts_with(root + "/")) {
    return stdfs::path(point) / own.substr(root.size() + 1);
  }
  return std::nullopt;
}

// One mountinfo line: "id parent dev root point opts [optional...] - fstype source superopts".
std::optional<Candidate> candidate_of(std::string_view line, const OwnPaths& own) {
  const std::vector<std::string_view> f = split(line, ' ');
  std::size_t dash = 0;
  while (dash < f.size() && f[dash] != "-") {
    ++dash;
  }
  if (dash < 6 || dash + 3 >= f.size()) {
    return std::nullopt;
  }
  const std::string_view fstype = f[dash + 1];
  const bool v2 = fstype == "cgroup2";
  const bool v1_pids = fstype == "cgroup" && lists(f[dash + 3], "pids", ',');
  const std::optional<std::string>& path = v2 ? own.v2 : own.v1_pids;
  if ((!v2 && !v1_pids) || !path.has_value()) {
    return std::nullopt;
  }
  auto dir = under_mount(unescape(f[4]), unescape(f[3]), *path);
  if (!dir.has_value()) {
    return std::nullopt;
  }
  return Candidate{std::move(*dir), v2};
}

// The mount point of a cgroup2 mount of the whole hierarchy (mount root "/").
std::optional<stdfs::path> v2_root_of(std::string_view line) {
  const std::vector<std::string_view> f = split(line, ' ');
  std::size_t dash = 0;
  while (dash < f.size() && f[dash] != "-") {
    ++dash;
  }
  if (dash < 6 || dash + 1 >= f.size() || f[dash + 1] != "cgroup2" || f[3] != "/") {
    return std::nullopt;
  }
  return stdfs::path(unescape(f[4]));
}

// Every place a pids cgroup could go, v2 first.
std::vector<Candidate> candidates() {
  const auto mountinfo = read_small("/proc/self/mountinfo");
  const auto cgroup = read_small("/proc/self/cgroup");
  if (!mountinfo.has_value() || !cgroup.has_value()) {
    return {};
  }
  const OwnPaths own = own_paths(*cgroup);
  std::vector<Candidate> v2;
  std::vector<Candidate> v1;
  for (const std::string_view line : split(*mountinfo, '\n')) {
    auto c = candidate_of(line, own);
    if (c.has_value()) {
      (c->v2 ? v2 : v1).push_back(std::move(*c));
    }
    // A v2 hierarchy's root may offer pids where this process's own cgroup cannot (it holds
    // processes, so no controller can be enabled below it): root-only, tried after ours.
    auto root = v2_root_of(line);
    if (root.has_value() && (v2.empty() || v2.back().parent != *root)) {
      v2.push_back(Candidate{std::move(*root), true});
    }
  }
  v2.insert(v2.end(), std::make_move_iterator(v1.begin()), std::make_move_iterator(v1.end()));
  return v2;
}

// On v2 the parent must offer pids to its children: enabling it fails when the parent is not
// ours or holds processes itself (EBUSY), and then this hierarchy is not usable here.
bool v2_offers_pids(const stdfs::path& parent) {
  const auto controllers = read_small(parent / "cgroup.controllers");
  if (!controllers.has_value() || !lists(*controllers, "pids", ' ')) {
    return false;
  }
  const auto subtree = read_small(parent / "cgroup.subtree_control");
  if (subtree.has_value() && lists(*subtree, "pids", ' ')) {
    return true;
  }
  return write_small(parent / "cgroup.subtree_control", "+pids") == 0;
}

tl::unexpected<Error> failed(std::string_view what, const stdfs::path& path, int err) {
  return fail(reason::k_sandbox_failed, fs::errno_message(what, path, err), path.string());
}

// Creates a fresh directory ecluse-<pid>-<counter> under parent; nullopt when not writable.
Result<std::optional<stdfs::path>> make_dir(const stdfs::path& parent) {
  for (int attempt = 0; attempt < k_name_attempts; ++attempt) {
    const std::string name =
        "ecluse-" + std::to_string(::getpid()) + "-" + std::to_string(g_counter.fetch_add(1));
    const stdfs::path dir = parent / name;
    if (::mkdir(dir.c_str(), 0700) == 0) {
      return dir;
    }
    const int err = errno;
    if (not_writable(err)) {
      return std::optional<stdfs::path>{};
    }
    if (err != EEXIST) {  // EEXIST: left by an earlier process with the same pid
      return failed("cannot create the cgroup", dir, err);
    }
  }
  return fail(reason::k_sandbox_failed,
              "cannot find a free cgroup name in '" + parent.string() + "'");
}

// Sets pids.max and opens cgroup.procs of a new cgroup; nullopt (the directory removed) when
// the hierarchy turns out not to be writable or not to limit pids.
Result<std::optional<Made>> configure(const stdfs::path& dir, std::uint32_t max_tasks) {
  int err = write_small(dir / "pids.max", std::to_string(max_tasks));
  if (err == 0) {
    fs::UniqueFd procs(::open((dir / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
    if (procs.valid()) {
      return Made{dir, std::move(procs)};
    }
    err = errno;
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    return failed("cannot remove the unusable cgroup", dir, errno);
  }
  if (not_writable(err) || err == ENOENT) {
    return std::optional<Made>{};
  }
  return failed("cannot configure the cgroup", dir, err);
}

// The pids of the tasks in a cgroup (cgroup.procs); nullopt when it cannot be read.
std::optional<std::vector<pid_t>> tasks_of(const stdfs::path& dir) {
  const auto text = read_small(dir / "cgroup.procs");
  if (!text.has_value()) {
    return std::nullopt;
  }
  std::vector<pid_t> pids;
  for (const std::string_view line : split(*text, '\n')) {
    pid_t pid = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (ec == std::errc{} && end == line.data() + line.size() && pid > 0) {
      pids.push_back(pid);
    }
  }
  return pids;
}

void kill_each(const std::vector<pid_t>& pids) {
  for (const pid_t pid : pids) {
    if (pid != ::getpid()) {
      (void)::kill(pid, SIGKILL);  // ESRCH: it exited meanwhile
    }
  }
}

// SIGKILLs the cgroup's tasks until none is left or the bound passes; a task forking while
// it is killed is caught on the next round (and pids.max bounds how many there can be).
void kill_tasks(const stdfs::path& dir, bool v2) {
  const auto deadline = std::chrono::steady_clock::now() + k_kill_bound;
  const stdfs::path kill_file = dir / "cgroup.kill";
  const bool has_kill_file = v2 && ::access(kill_file.c_str(), W_OK) == 0;
  for (;;) {
    const auto pids = tasks_of(dir);
    if (!pids.has_value() || pids->empty()) {
      return;
    }
    if (!has_kill_file || write_small(kill_file, "1") != 0) {
      kill_each(*pids);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return;
    }
    std::this_thread::sleep_for(k_poll);
  }
}

// Kills what is left and removes the cgroup, retrying while its killed tasks exit (EBUSY); a
// moved-from cgroup (empty dir) owns nothing.
void dispose(const stdfs::path& dir, fs::UniqueFd& procs, bool v2) {
  if (dir.empty()) {
    return;
  }
  kill_tasks(dir, v2);
  procs = fs::UniqueFd();
  for (int attempt = 0; attempt < k_rmdir_attempts; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno != EBUSY) {
      return;  // removed, already gone (ENOENT), or not ours to remove
    }
    std::this_thread::sleep_for(k_poll);
  }
}

}  // namespace

Result<std::optional<PidsCgroup>> PidsCgroup::create(std::uint32_t max_tasks) {
  for (const Candidate& c : candidates()) {
    if (c.v2 && !v2_offers_pids(c.parent)) {
      continue;
    }
    ECLUSE_TRY(dir, make_dir(c.parent));
    if (!dir.has_value()) {
      continue;
    }
    ECLUSE_TRY(made, configure(*dir, max_tasks));
    if (made.has_value()) {
      return PidsCgroup(std::move(made->dir), std::move(made->procs), c.v2);
    }
  }
  return std::optional<PidsCgroup>{};
}

PidsCgroup::PidsCgroup(PidsCgroup&& other) noexcept
    : m_dir(std::exchange(other.m_dir, {})), m_procs(std::move(other.m_procs)), m_v2(other.m_v2) {}

PidsCgroup& PidsCgroup::operator=(PidsCgroup&& other) noexcept {
  if (this != &other) {
    dispose(m_dir, m_procs, m_v2);
    m_dir = std::exchange(other.m_dir, {});
    m_procs = std::move(other.m_procs);
    m_v2 = other.m_v2;
  }
  return *this;
}

PidsCgroup::~PidsCgroup() {
  dispose(m_dir, m_procs, m_v2);
}

void PidsCgroup::kill_all() const {
  if (!m_dir.empty()) {
    kill_tasks(m_dir, m_v2);
  }
}

std::optional<std::uint64_t> PidsCgroup::peak() const {
  const auto text = read_small(m_dir / "pids.peak");
  if (!text.has_value()) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end == text->data()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace ecluse::sandbox
