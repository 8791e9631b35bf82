// The watcher's poll loop: inotify, a one-second timer, a signalfd and one pidfd per worker.
#include <ecluse/core/event_log.hpp>
#include <ecluse/queue/queue.hpp>
#include <ecluse/watch/watch.hpp>

#include <poll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <map>
#include <set>

#include "drops.hpp"
#include "worker.hpp"

namespace ecluse::watch {

namespace {

using Steady = std::chrono::steady_clock;

constexpr int k_exit_failed = 3;
constexpr std::uint32_t k_incoming_events = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO
                                            | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF
                                            | IN_MOVE_SELF | IN_ONLYDIR;
constexpr std::uint32_t k_drop_events = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO
                                        | IN_CLOSE_WRITE | IN_ATTRIB | IN_MODIFY | IN_ONLYDIR;

// waiting: not ready yet; queued: enqueued (or found enqueued before).
enum class Phase { waiting, queued };

struct DropDir {
  Phase phase = Phase::waiting;
  int wd = -1;
  detail::Fingerprint fp;
  Steady::time_point changed;
};

struct Running {
  detail::Worker worker;
  bool reverify = false;  // an `ecluse reverify --all` run; else an `ecluse worker`
};

class Watcher {
 public:
  Watcher(const pipeline::Session& s, const WatchOptions& o) : m_s(s), m_opts(o) {}

  Result<int> run();

 private:
  Status setup();
  void scan();
  void dispatch();
  [[nodiscard]] bool ready(const std::string& dir, DropDir& d) const;
  void enqueue(const std::string& dir, DropDir& d);
  void start_workers();
  void start_reverify();
  void on_inotify();
  void on_signal();
  void on_tick();
  void on_exit(std::size_t index);
  [[nodiscard]] bool pending() const;
  [[nodiscard]] std::size_t workers() const;
  std::filesystem::path output_file();

  const pipeline::Session& m_s;
  const WatchOptions& m_opts;
  fs::UniqueFd m_inotify;
  fs::UniqueFd m_signal;
  fs::UniqueFd m_timer;
  int m_incoming_wd = -1;
  std::map<std::string, DropDir> m_drops;  // by directory
  std::map<int, std::string> m_wd_dirs;
  std::vector<Running> m_running;
  bool m_stopping = false;
  bool m_failed = false;
  bool m_rescan = true;
  bool m_workers_started = false;
  Steady::time_point m_restart_at;  // a worker that exited is replaced from then on
  Steady::time_point m_next_rescan;
  Steady::time_point m_next_reverify;
  unsigned m_seq = 0;
};

Status fd_error(const char* what) {
  return fail(reason::k_watch_failed, std::string(what) + ": " + std::strerror(errno));
}

Status Watcher::setup() {
  m_inotify = fs::UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!m_inotify.valid()) {
    return fd_error("inotify_init1");
  }
  m_incoming_wd = ::inotify_add_watch(m_inotify.get(), m_opts.incoming.c_str(), k_incoming_events);
  if (m_incoming_wd < 0) {
    return fail(reason::k_watch_failed,
                fs::errno_message("cannot watch", m_opts.incoming, errno),
                m_opts.incoming.string());
  }
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : {SIGTERM, SIGINT, SIGHUP}) {
    sigaddset(&set, sig);
  }
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) {
    return fd_error("sigprocmask");
  }
  m_signal = fs::UniqueFd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  m_timer = fs::UniqueFd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!m_signal.valid() || !m_timer.valid()) {
    return fd_error("signalfd/timerfd");
  }
  const itimerspec tick{{1, 0}, {1, 0}};
  if (::timerfd_settime(m_timer.get(), 0, &tick, nullptr) != 0) {
    return fd_error("timerfd_settime");
  }
  const auto now = Steady::now();
  m_next_rescan = now + m_opts.rescan;
  if (m_opts.reverify_every) {
    m_next_reverify = now + *m_opts.reverify_every;
  }
  return {};
}

// Adds new drop directories (watched), forgets vanished ones that were not running.
void Watcher::scan() {
  m_rescan = false;
  const auto dirs = detail::drop_dirs(m_opts.incoming);
  std::map<std::string, bool> present;
  for (const auto& dir : dirs) {
    const auto key = dir.string();
    present[key] = true;
    if (m_drops.contains(key)) {
      continue;
    }
    DropDir d;
    d.wd = ::inotify_add_watch(m_inotify.get(), dir.c_str(), k_drop_events);
    if (d.wd >= 0) {
      m_wd_dirs[d.wd] = key;
    }
    d.fp = detail::fingerprint(dir);
    d.changed = Steady::now();
    m_drops.emplace(key, d);
    log_event(m_opts.json_log, "drop.seen", {{"dir", key}});
  }
  for (auto it = m_drops.begin(); it != m_drops.end();) {
    if (present.contains(it->first)) {
      ++it;
      continue;
    }
    if (it->second.phase != Phase::queued) {
      log_event(m_opts.json_log, "drop.vanished", {{"dir", it->first}});
    }
    if (it->second.wd >= 0) {
      (void)::inotify_rm_watch(m_inotify.get(), it->second.wd);
      m_wd_dirs.erase(it->second.wd);
    }
    it = m_drops.erase(it);
  }
}

bool Watcher::ready(const std::string& dir, DropDir& d) const {
  if (m_opts.ready == ReadyRule::marker) {
    return detail::has_marker(dir);
  }
  const auto fp = detail::fingerprint(dir);
  const auto now = Steady::now();
  if (!(fp == d.fp)) {
    d.fp = fp;
    d.changed = now;
  }
  return now - d.changed >= m_opts.quiet;
}

std::filesystem::path Watcher::output_file() {
  return m_opts.workspace / "locks" / "watch"
         / ("worker-" + std::to_string(::getpid()) + "-" + std::to_string(++m_seq) + ".json");
}

// Puts a ready drop into the job queue: a directory queued before (same drop.json) is left
// as it is, which is how a restart does not replay what is done.
void Watcher::enqueue(const std::string& dir, DropDir& d) {
  auto e = queue::enqueue_drop(m_s, dir, m_opts.promote_to);
  if (!e) {
    log_event(m_opts.json_log,
              "drop.failed",
              {{"dir", dir}, {"reason", e.error().reason}, {"message", e.error().message}});
    m_failed = m_failed || m_opts.once;
    return;  // still waiting: tried again on the next loop
  }
  d.phase = Phase::queued;
  json::Json fields{{"dir", dir}, {"job", e->job.id}, {"drop", e->job.drop.substr(0, 12)}};
  if (e->added) {
    log_event(m_opts.json_log, "drop.queued", fields);
    return;
  }
  fields["status"] = e->job.status;
  const bool open = e->job.status == "queued" || e->job.status == "running";
  log_event(m_opts.json_log, open ? "drop.already_queued" : "drop.already_finished", fields);
}

// The local workers: `ecluse worker` processes sharing the watcher's log (with --once they
// drain the queue and exit).
void Watcher::start_workers() {
  m_workers_started = true;
  for (auto n = workers(); n < m_opts.jobs; ++n) {
    std::vector<std::string> args{"--workspace",
                                  m_opts.workspace.string(),
                                  "worker",
                                  "--log-format",
                                  m_opts.json_log ? "json" : "human"};
    if (m_opts.once) {
      args.emplace_back("--drain");
    }
    auto w = detail::spawn(m_opts.exe, args, {});
    if (!w) {
      log_event(m_opts.json_log,
                "watch.worker_failed",
                {{"reason", w.error().reason}, {"message", w.error().message}});
      m_failed = m_failed || m_opts.once;
      m_restart_at = Steady::now() + m_opts.retry;
      return;
    }
    m_running.push_back(Running{std::move(*w), false});
  }
}

std::size_t Watcher::workers() const {
  return static_cast<std::size_t>(std::count_if(
      m_running.begin(), m_running.end(), [](const Running& r) { return !r.reverify; }));
}

void Watcher::start_reverify() {
  auto w = detail::spawn(m_opts.exe,
                         {"--workspace", m_opts.workspace.string(), "reverify", "--all", "--json"},
                         output_file());
  if (!w) {
    log_event(m_opts.json_log,
              "reverify.failed",
              {{"reason", w.error().reason}, {"message", w.error().message}});
    return;
  }
  log_event(m_opts.json_log, "reverify.started", {{"worker", w->pid}});
  m_running.push_back(Running{std::move(*w), true});
}

// Enqueues the drops that became ready, in name order (the queue keeps drops of one line in
// that order). The workers start once the first drops are queued (with --once: once every
// drop that will be ready is), and a worker that exited is replaced (not with --once).
void Watcher::dispatch() {
  if (m_stopping) {
    return;
  }
  for (auto& [dir, d] : m_drops) {
    if (d.phase == Phase::waiting && ready(dir, d)) {
      enqueue(dir, d);
    }
  }
  if (m_opts.once ? (!m_workers_started && !pending())
                  : (workers() < m_opts.jobs && Steady::now() >= m_restart_at)) {
    start_workers();
  }
}

void Watcher::on_inotify() {
  alignas(inotify_event) std::array<char, 16384> buf{};
  for (;;) {
    const auto n = ::read(m_inotify.get(), buf.data(), buf.size());
    if (n <= 0) {
      return;
    }
    for (std::size_t off = 0; off < static_cast<std::size_t>(n);) {
      inotify_event ev{};
      std::memcpy(&ev, buf.data() + off, sizeof ev);
      off += sizeof(inotify_event) + ev.len;
      if ((ev.mask & IN_Q_OVERFLOW) != 0U || ev.wd == m_incoming_wd) {
        m_rescan = true;
        continue;
      }
      const auto it = m_wd_dirs.find(ev.wd);
      if (it == m_wd_dirs.end()) {
        continue;
      }
      if ((ev.mask & IN_IGNORED) != 0U) {
        m_rescan = true;
        continue;
      }
      auto d = m_drops.find(it->second);
      if (d != m_drops.end()) {
        d->second.changed = Steady::now();
        if (d->second.phase == Phase::queued) {
          d->second.phase = Phase::waiting;  // a queued directory changed: look again
        }
      }
    }
  }
}

void Watcher::on_signal() {
  signalfd_siginfo si{};
  while (::read(m_signal.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo == SIGHUP) {
      m_rescan = true;
      continue;
    }
    if (m_stopping) {
      log_event(m_opts.json_log, "watch.killing", {{"workers", m_running.size()}});
      for (const auto& r : m_running) {
        (void)::kill(r.worker.pid, SIGKILL);
      }
      continue;
    }
    m_stopping = true;
    log_event(
        m_opts.json_log,
        "watch.stopping",
        {{"signal", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM"}, {"workers", m_running.size()}});
    for (const auto& r : m_running) {
      (void)::kill(r.worker.pid, SIGTERM);
    }
  }
}

void Watcher::on_tick() {
  std::uint64_t expirations = 0;
  (void)!::read(m_timer.get(), &expirations, sizeof expirations);
  const auto now = Steady::now();
  if (now >= m_next_rescan) {
    m_rescan = true;
    m_next_rescan = now + m_opts.rescan;
  }
  const bool reverifying =
      std::any_of(m_running.begin(), m_running.end(), [](const Running& r) { return r.reverify; });
  if (m_opts.reverify_every && now >= m_next_reverify && !reverifying && !m_stopping) {
    m_next_reverify = now + *m_opts.reverify_every;
    start_reverify();
  }
}

std::string string_at(const json::Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j.at(key).is_string() ? j.at(key).get<std::string>()
                                                                   : std::string();
}

void Watcher::on_exit(std::size_t index) {
  auto r = std::move(m_running.at(index));
  m_running.erase(m_running.begin() + static_cast<std::ptrdiff_t>(index));
  const auto f = detail::reap(r.worker);
  if (!r.reverify) {
    json::Json fields{{"worker", r.worker.pid}, {"exit", f.exit_code}};
    if (f.term_signal != 0) {
      fields["signal"] = f.term_signal;
      fields["message"] = "its job resumes from the last committed stage";
    }
    if (f.term_signal != 0 || f.exit_code != 0) {
      m_failed = m_failed || m_opts.once;
      log_event(m_opts.json_log, "watch.worker_exited", fields);
    }
    if (!m_stopping && !m_opts.once) {
      m_restart_at = Steady::now() + std::chrono::seconds(1);
    }
    return;
  }
  json::Json fields{{"exit", f.exit_code}};
  if (f.output.is_object()) {
    fields["ok"] = f.output.value("ok", false);
    fields["problems"] = f.output.value("problems", json::Json::array()).size();
    fields["report"] = string_at(f.output, "report");
  }
  if (f.term_signal != 0) {
    fields["signal"] = f.term_signal;
  }
  log_event(m_opts.json_log, "reverify.finished", fields);
}

// With --once and --ready quiet, drops still settling: the workers wait until they are queued.
bool Watcher::pending() const {
  return m_opts.ready == ReadyRule::quiet
         && std::any_of(m_drops.begin(), m_drops.end(), [](const auto& e) {
              return e.second.phase == Phase::waiting;
            });
}

Result<int> Watcher::run() {
  ECLUSE_CHECK(setup());
  std::error_code ec;
  std::filesystem::create_directories(m_opts.workspace / "locks" / "watch", ec);
  log_event(m_opts.json_log,
            "watch.started",
            {{"incoming", m_opts.incoming.string()},
             {"jobs", m_opts.jobs},
             {"ready", m_opts.ready == ReadyRule::marker ? "marker" : "quiet"},
             {"promote_to", m_opts.promote_to}});
  for (;;) {
    if (m_rescan) {
      scan();
    }
    dispatch();
    if ((m_stopping || m_opts.once)
        && (m_stopping ? m_running.empty() : m_workers_started && m_running.empty())) {
      log_event(m_opts.json_log, "watch.stopped", {{"failed", m_failed}});
      return m_failed ? k_exit_failed : 0;
    }
    std::vector<pollfd> fds{
        {m_inotify.get(), POLLIN, 0}, {m_signal.get(), POLLIN, 0}, {m_timer.get(), POLLIN, 0}};
    for (const auto& r : m_running) {
      fds.push_back({r.worker.pidfd.get(), POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
      return fail(reason::k_watch_failed, std::string("poll: ") + std::strerror(errno));
    }
    if ((fds[0].revents & POLLIN) != 0) {
      on_inotify();
    }
    if ((fds[1].revents & POLLIN) != 0) {
      on_signal();
    }
    if ((fds[2].revents & POLLIN) != 0) {
      on_tick();
    }
    for (std::size_t i = fds.size(); i-- > 3;) {
      if (fds[i].revents != 0) {
        on_exit(i - 3);
      }
    }
  }
}

}  // namespace

Result<int> run(const pipeline::Session& s, const WatchOptions& opts) {
  Watcher w(s, opts);
  return w.run();
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  std::uint64_t n = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc() || ptr == text.data() || n == 0 || n > (1ULL << 32U)) {
    return std::nullopt;
  }
  const std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60;
  } else if (unit == "h") {
    scale = 3600;
  } else if (unit == "d") {
    scale = 86400;
  } else {
    return std::nullopt;
  }
  return std::chrono::seconds(static_cast<std::int64_t>(n * scale));
}

}  // namespace ecluse::watch
