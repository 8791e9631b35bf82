// Leases in the state store, so that two processes (two watchers, a watcher and a CLI ingest,
// later workers on several machines) never work on the same drop or run at once. A lease names
// its holder (host, pid, nonce) and an expiry; the holder renews it from a thread with its own
// state-store connection, so a holder that dies loses it within one TTL and another process
// takes over from the last committed stage.
//
// Reason codes: state.lease_held, state.lease_lost, store.*.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/pipeline/driver.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace ecluse::pipeline {

inline constexpr std::chrono::seconds k_lease_ttl{60};

// This process's owner name: "HOST:PID:NONCE".
const std::string& lease_owner();

// Is owner ("HOST:PID:NONCE") a process of this host that no longer exists (or a zombie)?
bool holder_is_dead(const std::string& owner);

class LeaseHolder {
 public:
  // Claims lease `name` (e.g. "drop:ID") for this process; state.lease_held, naming the holder
  // and its expiry, when another live holder has it.
  static Result<std::unique_ptr<LeaseHolder>> claim(const Session& s,
                                                    const std::string& name,
                                                    std::chrono::seconds ttl = k_lease_ttl);
  // The same, but while another process holds it, polled every 100 ms when `wait` (a stop
  // asked for ends the wait: pipeline.interrupted).
  static Result<std::unique_ptr<LeaseHolder>> claim(const Session& s,
                                                    const std::string& name,
                                                    bool wait);
  // Renews a job this process claimed from the queue (store::StateStore::claim_job) until the
  // holder is destroyed; lost() when another worker took it over.
  static Result<std::unique_ptr<LeaseHolder>> hold_job(const Session& s,
                                                       const store::Job& job,
                                                       std::chrono::seconds ttl);
  LeaseHolder(const LeaseHolder&) = delete;
  LeaseHolder& operator=(const LeaseHolder&) = delete;
  LeaseHolder(LeaseHolder&&) = delete;
  LeaseHolder& operator=(LeaseHolder&&) = delete;
  // Stops renewing and gives the lease up.
  ~LeaseHolder();

  // Did a renewal find the lease taken over (this process was stopped past its expiry)? The
  // holder then also asks for a stop (interrupt::request), so no further stage starts.
  [[nodiscard]] bool lost() const;

  struct Renewer;

 private:
  explicit LeaseHolder(std::unique_ptr<Renewer> renewer);
  static Result<std::unique_ptr<LeaseHolder>> start(const Session& s, std::unique_ptr<Renewer> r);
  std::unique_ptr<Renewer> m_renewer;
};

}  // namespace ecluse::pipeline
