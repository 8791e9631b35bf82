// Lease claims through the session's store; renewals from a thread with its own connection
// (a SQLite connection is not shared across threads mid-transaction).
#include <ecluse/core/fs.hpp>
#include <ecluse/core/interrupt.hpp>
#include <ecluse/pipeline/lease.hpp>

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

namespace ecluse::pipeline {

namespace {

std::string make_owner() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) {
    host[0] = '\0';
  }
  std::random_device rd;
  const auto nonce = (static_cast<std::uint64_t>(rd()) << 32U) | rd();
  std::array<char, 17> hex{};
  (void)std::snprintf(hex.data(), hex.size(), "%016llx", static_cast<unsigned long long>(nonce));
  return std::string(host.data()) + ":" + std::to_string(::getpid()) + ":" + hex.data();
}

std::int64_t seconds_of(TimePoint t) {
  return t.time_since_epoch().count();
}

}  // namespace

bool holder_is_dead(const std::string& owner) {
  const auto own = lease_owner();
  const auto host = own.substr(0, own.find(':'));
  const auto first = owner.find(':');
  const auto second = owner.find(':', first == std::string::npos ? first : first + 1);
  if (first == std::string::npos || second == std::string::npos || owner.substr(0, first) != host) {
    return false;
  }
  pid_t pid = 0;
  const auto digits = std::string_view(owner).substr(first + 1, second - first - 1);
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || pid <= 0) {
    return false;
  }
  if (::kill(pid, 0) != 0 && errno == ESRCH) {
    return true;
  }
  // A killed process not yet reaped by its parent is a zombie: dead too.
  auto stat = fs::read_file_bounded("/proc/" + std::to_string(pid) + "/stat",
                                    4096,
                                    reason::k_workspace_io,
                                    reason::k_workspace_io);
  const auto paren = stat ? stat->rfind(')') : std::string::npos;
  return paren != std::string::npos && stat->size() > paren + 2 && (*stat)[paren + 2] == 'Z';
}

const std::string& lease_owner() {
  static const std::string owner = make_owner();
  return owner;
}

struct LeaseHolder::Renewer {
  std::unique_ptr<store::StateStore> store;  // its own connection
  const Clock* clock = nullptr;
  std::string name;
  std::chrono::seconds ttl{};
  // Extends the lease to expires_at: false when it is no longer ours; release gives it up.
  std::function<Result<bool>(store::StateStore&, std::int64_t expires_at)> renew;
  std::function<void(store::StateStore&)> release;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::atomic<bool> lost{false};
  std::thread thread;

  store::Lease wanted() const {
    return {name, lease_owner(), seconds_of(clock->now()) + ttl.count()};
  }

  void run() {
    std::unique_lock lock(mutex);
    while (!wake.wait_for(lock, ttl / 3, [this] { return stopping; })) {
      auto still_ours = renew(*store, seconds_of(clock->now()) + ttl.count());
      if (still_ours && !*still_ours) {
        lost = true;
        interrupt::request();
        return;
      }
      // A failed renewal (the store busy) is retried at the next tick, well within the TTL.
    }
  }
};

Result<std::unique_ptr<LeaseHolder>> LeaseHolder::claim(const Session& s,
                                                        const std::string& name,
                                                        std::chrono::seconds ttl) {
  auto r = std::make_unique<Renewer>();
  r->clock = &s.clock();
  r->name = name;
  r->ttl = ttl;
  ECLUSE_TRY(claim, s.state().claim_lease(r->wanted(), seconds_of(s.clock().now())));
  if (!claim.granted && holder_is_dead(claim.lease.owner)) {
    // Its holder was a process of this host that is gone (killed): take the lease over at
    // once rather than after its expiry. Claiming "as of" its expiry is a compare-and-swap:
    // of two processes doing this, the second finds the first's fresh lease and is refused.
    ECLUSE_TRY(takeover, s.state().claim_lease(r->wanted(), claim.lease.expires_at));
    claim = std::move(takeover);
  }
  if (!claim.granted) {
    return fail(reason::k_state_lease_held,
                name + " is held by " + claim.lease.owner + " until "
                    + format_utc(TimePoint(std::chrono::seconds(claim.lease.expires_at))),
                name);
  }
  r->renew = [r = r.get()](store::StateStore& st, std::int64_t expires_at) -> Result<bool> {
    ECLUSE_TRY(c,
               st.claim_lease({r->name, lease_owner(), expires_at}, seconds_of(r->clock->now())));
    return c.granted;
  };
  r->release = [name](store::StateStore& st) {
    (void)st.release_lease(name, lease_owner());
  };
  return start(s, std::move(r));
}

Result<std::unique_ptr<LeaseHolder>> LeaseHolder::start(const Session& s,
                                                        std::unique_ptr<Renewer> r) {
  ECLUSE_TRY(store, open_state(s.ws()));
  r->store = std::move(store);
  r->thread = std::thread([raw = r.get()] { raw->run(); });
  return std::unique_ptr<LeaseHolder>(new LeaseHolder(std::move(r)));
}

Result<std::unique_ptr<LeaseHolder>> LeaseHolder::hold_job(const Session& s,
                                                           const store::Job& job,
                                                           std::chrono::seconds ttl) {
  auto r = std::make_unique<Renewer>();
  r->clock = &s.clock();
  r->name = "job:" + std::to_string(job.id);
  r->ttl = ttl;
  r->renew = [id = job.id, owner = job.owner](store::StateStore& st,
                                              std::int64_t expires_at) -> Result<bool> {
    return st.renew_job(id, owner, expires_at);
  };
  r->release = [](store::StateStore&) {
  };  // the worker ends the job itself (finish_job)
  return start(s, std::move(r));
}

Result<std::unique_ptr<LeaseHolder>> LeaseHolder::claim(const Session& s,
                                                        const std::string& name,
                                                        bool wait) {
  for (;;) {
    auto lease = claim(s, name, std::chrono::seconds(s.ws().config().lease_seconds));
    if (lease || !wait || lease.error().reason != reason::k_state_lease_held.code) {
      return lease;
    }
    if (interrupt::requested()) {
      return fail(reason::k_pipeline_interrupted,
                  "stopped while waiting for " + name + " (a stop was asked for)",
                  name);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

LeaseHolder::LeaseHolder(std::unique_ptr<Renewer> renewer) : m_renewer(std::move(renewer)) {}

LeaseHolder::~LeaseHolder() {
  {
    const std::scoped_lock lock(m_renewer->mutex);
    m_renewer->stopping = true;
  }
  m_renewer->wake.notify_all();
  m_renewer->thread.join();
  m_renewer->release(*m_renewer->store);
}

bool LeaseHolder::lost() const {
  return m_renewer->lost;
}

}  // namespace ecluse::pipeline
