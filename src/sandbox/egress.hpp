// Observing what a running sandbox tries to reach, from outside it: the recorder joins the
// sandbox's own network namespace (setns, on a thread of ours, and back), makes every IPv4 and
// IPv6 destination local to that namespace's loopback (RTN_LOCAL routes 0.0.0.0/0 and ::/0 in
// the local table, so a connection is refused at once and a datagram answered by ICMP, and no
// packet can leave the machine), and reads every packet on that loopback from an AF_PACKET
// socket. The namespace is bwrap's --unshare-net one: it holds only loopback.
//
// Reason codes: sandbox.egress_unavailable (this process may not join or configure the
// namespace: not root), sandbox.failed (netlink, socket or thread failure).
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "packet.hpp"

namespace ecluse::sandbox {

struct EgressAttempt {
  EgressEvent event;
  std::uint64_t count = 0;  // how many packets made this same attempt
};

struct EgressLog {
  std::vector<EgressAttempt> attempts;  // distinct attempts, in order of first sight
  std::uint64_t packets = 0;            // attempt packets seen
  std::uint64_t dropped = 0;            // lost by the kernel (PACKET_STATISTICS) or over the cap
};

// {"kind","protocol","address","port","count"} (+ "name","qtype" for dns).
json::Json to_json(const EgressAttempt& a);

class EgressRecorder {
 public:
  // Attaches to the network namespace of pid (a process inside the sandbox, before the code
  // under test runs): routes, packet socket, capture thread.
  static Result<EgressRecorder> attach(pid_t pid);

  EgressRecorder(EgressRecorder&& other) noexcept;
  EgressRecorder& operator=(EgressRecorder&& other) noexcept;
  EgressRecorder(const EgressRecorder&) = delete;
  EgressRecorder& operator=(const EgressRecorder&) = delete;
  ~EgressRecorder();  // stops the thread if stop() was not called

  // Stops capturing after draining what the socket still holds; at most k_max_attempts
  // distinct attempts are kept (the rest counted in dropped).
  EgressLog stop();

  static constexpr std::size_t k_max_attempts = 256;

 private:
  struct State;
  explicit EgressRecorder(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

// Can this process observe a sandbox's network namespace (effective CAP_SYS_ADMIN, CAP_NET_ADMIN
// and CAP_NET_RAW, the last for the packet socket)? sandbox.egress_unavailable naming what is
// missing.
Status egress_observable();

}  // namespace ecluse::sandbox
