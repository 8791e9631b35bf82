// The egress recorder: local routes and a packet socket in a sandbox's network namespace, and
// the thread that turns what that socket captures into a deduplicated log of attempts.
#include "egress.hpp"

#include <ecluse/core/fs.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace ecluse::sandbox {

namespace {

constexpr int k_receive_buffer = 4 * 1024 * 1024;
constexpr std::size_t k_max_packet = 65536;  // loopback's MTU; a longer one arrives truncated
constexpr int k_poll_ms = 500;               // the stop flag is checked at least this often
constexpr auto k_lo_wait = std::chrono::seconds(5);  // for bwrap to bring loopback up

// strerror text, lowercased at its start so it reads inside our messages.
std::string errno_text(int err) {
  std::string text = std::error_code(err, std::generic_category()).message();
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') {
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  }
  return text;
}

// A failure inside the sandbox's namespace: EPERM means this process lacks the privilege.
tl::unexpected<Error> namespace_failure(std::string_view what, pid_t pid, int err) {
  std::string message(what);
  message += " (pid " + std::to_string(pid) + "): " + errno_text(err);
  if (err == EPERM) {
    return fail(reason::k_sandbox_egress_unavailable, message + "; run ecluse as root");
  }
  return fail(reason::k_sandbox_failed, message);
}

// RTM_NEWROUTE for the default route of family as a local route through lo (ip route add
// local default dev lo table local): every destination is then this namespace's own.
struct RouteRequest {
  nlmsghdr header;
  rtmsg route;
  rtattr oif_attr;
  std::uint32_t oif;
};

static_assert(sizeof(RouteRequest)
              == NLMSG_LENGTH(sizeof(rtmsg)) + RTA_LENGTH(sizeof(std::uint32_t)));

RouteRequest route_request(std::uint8_t family, unsigned lo_index) {
  RouteRequest r{};
  r.header.nlmsg_len = sizeof(RouteRequest);
  r.header.nlmsg_type = RTM_NEWROUTE;
  r.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
  r.header.nlmsg_seq = family;
  r.route.rtm_family = family;
  r.route.rtm_dst_len = 0;
  r.route.rtm_table = RT_TABLE_LOCAL;
  r.route.rtm_protocol = RTPROT_STATIC;
  r.route.rtm_scope = RT_SCOPE_HOST;
  r.route.rtm_type = RTN_LOCAL;
  r.oif_attr.rta_len = RTA_LENGTH(sizeof(std::uint32_t));
  r.oif_attr.rta_type = RTA_OIF;
  r.oif = lo_index;
  return r;
}

// Sends the request on a fresh NETLINK_ROUTE socket and reads its ack: 0 or an errno.
int add_local_route(std::uint8_t family, unsigned lo_index) {
  const fs::UniqueFd nl(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!nl.valid()) {
    return errno;
  }
  const RouteRequest request = route_request(family, lo_index);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(nl.get(),
               &request,
               sizeof(request),
               0,
               reinterpret_cast<const sockaddr*>(&kernel),
               sizeof(kernel))
      != static_cast<ssize_t>(sizeof(request))) {
    return errno != 0 ? errno : EIO;
  }
  alignas(nlmsghdr) std::array<char, 4096> reply{};
  ssize_t got = -1;
  do {
    got = ::recv(nl.get(), reply.data(), reply.size(), 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    return errno;
  }
  const auto* header = reinterpret_cast<const nlmsghdr*>(reply.data());
  if (static_cast<std::size_t>(got) < NLMSG_LENGTH(sizeof(nlmsgerr))
      || header->nlmsg_type != NLMSG_ERROR || header->nlmsg_seq != request.header.nlmsg_seq) {
    return EPROTO;
  }
  nlmsgerr ack{};
  std::memcpy(&ack, NLMSG_DATA(header), sizeof(ack));
  return -ack.error;
}

// IPv4 must be made local; IPv6 may be absent (disabled or unsupported by the kernel): then it
// is unreachable from the sandbox, so there is nothing to record. lo is up (wait_for_loopback),
// so ENETDOWN is an error.
Status add_routes(unsigned lo_index, pid_t pid) {
  const int v4 = add_local_route(AF_INET, lo_index);
  if (v4 != 0) {
    return namespace_failure(
        "cannot add the local IPv4 route in the sandbox's network namespace", pid, v4);
  }
  const int v6 = add_local_route(AF_INET6, lo_index);
  const bool v6_absent = v6 == EAFNOSUPPORT || v6 == EOPNOTSUPP || v6 == EACCES || v6 == ENODEV;
  if (v6 != 0 && !v6_absent) {
    return namespace_failure(
        "cannot add the local IPv6 route in the sandbox's network namespace", pid, v6);
  }
  return {};
}

// A packet socket bound to lo, created in (and so forever bound to) the current namespace.
Result<fs::UniqueFd> open_capture(unsigned lo_index, pid_t pid) {
  // Protocol 0 registers no packet hook until bind: registering one for every device and then
  // moving it to lo would cost an RCU grace period (synchronize_net) on every run.
  fs::UniqueFd sock(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) {
    return namespace_failure(
        "cannot open a packet socket in the sandbox's network namespace", pid, errno);
  }
  sockaddr_ll where{};
  where.sll_family = AF_PACKET;
  where.sll_protocol = htons(ETH_P_ALL);
  where.sll_ifindex = static_cast<int>(lo_index);
  if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&where), sizeof(where)) != 0) {
    return namespace_failure("cannot bind the packet socket to the sandbox's loopback", pid, errno);
  }
  // SO_RCVBUFFORCE passes net.core.rmem_max (we hold CAP_NET_ADMIN); SO_RCVBUF is the fallback.
  const int size = k_receive_buffer;
  if (::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0
      && ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) != 0) {
    return namespace_failure("cannot size the packet socket's buffer", pid, errno);
  }
  return sock;
}

// bwrap's child brings loopback up (address, link) after it reported the sandbox on --info-fd
// and before the command runs. A packet socket bound to a down device is never hooked, and
// ::1 (needed for the IPv6 route) exists only once lo is up: wait for it, at most k_lo_wait.
Status wait_for_loopback(pid_t pid) {
  const fs::UniqueFd probe(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) {
    return namespace_failure("cannot open a socket in the sandbox's network namespace", pid, errno);
  }
  const auto deadline = std::chrono::steady_clock::now() + k_lo_wait;
  for (;;) {
    ifreq req{};
    std::memcpy(req.ifr_name, "lo", 3);
    if (::ioctl(probe.get(), SIOCGIFFLAGS, &req) != 0) {
      return namespace_failure("cannot read the sandbox's loopback state", pid, errno);
    }
    if ((req.ifr_flags & IFF_UP) != 0) {
      return {};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return fail(reason::k_sandbox_failed,
                  "the sandbox's loopback did not come up (pid " + std::to_string(pid) + ")");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// Runs on a thread of its own: joins the namespace, sets it up, opens the socket, goes back.
Result<fs::UniqueFd> inside_namespace(int target_ns, pid_t pid) {
  const fs::UniqueFd own_ns(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!own_ns.valid()) {
    return fail(reason::k_sandbox_failed,
                fs::errno_message("cannot open", "/proc/thread-self/ns/net", errno));
  }
  if (::setns(target_ns, CLONE_NEWNET) != 0) {
    return namespace_failure("cannot join the sandbox's network namespace", pid, errno);
  }
  Result<fs::UniqueFd> sock = [&]() -> Result<fs::UniqueFd> {
    const unsigned lo_index = ::if_nametoindex("lo");
    if (lo_index == 0) {
      return namespace_failure(
          "no loopback interface in the sandbox's network namespace", pid, errno);
    }
    ECLUSE_CHECK(wait_for_loopback(pid));
    // The socket first: a missing CAP_NET_RAW then fails before any route is changed.
    ECLUSE_TRY(capture, open_capture(lo_index, pid));
    ECLUSE_CHECK(add_routes(lo_index, pid));
    return capture;
  }();
  if (::setns(own_ns.get(), CLONE_NEWNET) != 0) {
    // The thread ends right after; nothing of ours runs in the sandbox's namespace.
  }
  return sock;
}

// inside_namespace on a short-lived thread, so the caller's thread never changes namespace.
Result<fs::UniqueFd> open_in_namespace(int target_ns, pid_t pid) {
  Result<fs::UniqueFd> sock = fail(reason::k_sandbox_failed, "the namespace thread did not run");
  std::atomic<bool> threw = false;
  try {
    std::thread worker([&]() noexcept {
      try {
        sock = inside_namespace(target_ns, pid);
      } catch (...) {
        threw = true;
      }
    });
    worker.join();
  } catch (const std::system_error& e) {
    return fail(reason::k_sandbox_failed,
                std::string("cannot start the thread that joins the sandbox's network namespace: ")
                    + e.what());
  }
  if (threw) {
    return fail(reason::k_sandbox_failed, "out of memory joining the sandbox's network namespace");
  }
  return sock;
}

}  // namespace

struct EgressRecorder::State {
  fs::UniqueFd socket;
  fs::UniqueFd stop_event;
  std::atomic<bool> stopping = false;
  std::thread thread;
  bool stopped = false;
  std::mutex mutex;
  EgressLog log;                        // guarded by mutex
  std::atomic<std::uint64_t> lost = 0;  // attempts that could not be recorded (out of memory)
  std::array<std::uint8_t, k_max_packet> buffer{};  // the capture thread's, then stop()'s

  void record(const EgressEvent& event) noexcept;
  bool receive_one() noexcept;  // false when nothing more can be read now
  void capture() noexcept;
  void halt() noexcept;
};

void EgressRecorder::State::record(const EgressEvent& event) noexcept {
  try {
    const std::lock_guard<std::mutex> lock(mutex);
    ++log.packets;
    const auto seen = std::find_if(log.attempts.begin(),
                                   log.attempts.end(),
                                   [&](const EgressAttempt& a) { return a.event == event; });
    if (seen != log.attempts.end()) {
      ++seen->count;
    } else if (log.attempts.size() < k_max_attempts) {
      log.attempts.push_back(EgressAttempt{event, 1});
    } else {
      ++log.dropped;
    }
  } catch (...) {  // out of memory: the attempt is lost, and counted as such
    ++lost;
  }
}

bool EgressRecorder::State::receive_one() noexcept {
  sockaddr_ll from{};
  socklen_t from_len = sizeof(from);
  const ssize_t got = ::recvfrom(socket.get(),
                                 buffer.data(),
                                 buffer.size(),
                                 MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from),
                                 &from_len);
  if (got < 0) {
    return errno == EINTR;
  }
  // Loopback shows each packet twice, leaving and arriving: keep the leaving copy only.
  if (from.sll_pkttype != PACKET_OUTGOING) {
    return true;
  }
  const std::span<const std::uint8_t> bytes(buffer.data(), static_cast<std::size_t>(got));
  try {
    if (const auto event = parse_packet(ntohs(from.sll_protocol), bytes)) {
      record(*event);
    }
  } catch (...) {
    ++lost;
  }
  return true;
}

void EgressRecorder::State::capture() noexcept {
  std::array<pollfd, 2> fds{{{socket.get(), POLLIN, 0}, {stop_event.get(), POLLIN, 0}}};
  while (!stopping) {
    const int ready = ::poll(fds.data(), fds.size(), k_poll_ms);
    if (ready < 0 && errno != EINTR) {
      return;
    }
    if (ready <= 0) {
      continue;
    }
    if (fds[1].revents != 0) {
      return;
    }
    if ((fds[0].revents & (POLLHUP | POLLNVAL)) != 0) {
      ++lost;  // the capture ended early: the evidence must not read as complete
      return;
    }
    if ((fds[0].revents & POLLERR) != 0) {
      // A pending socket error (ENETDOWN while lo changes state) is cleared, not fatal.
      int err = 0;
      socklen_t len = sizeof(err);
      (void)::getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if ((fds[0].revents & POLLIN) != 0) {
      while (!stopping && receive_one()) {
      }
    }
  }
}

// Closing a packet socket waits for an RCU grace period (packet_release: synchronize_net), a
// few milliseconds that nothing here needs to wait for: the socket is closed on a thread of its
// own (or here, when no thread can be started).
void close_later(fs::UniqueFd fd) noexcept {
  try {
    std::thread([f = std::move(fd)]() mutable { f = fs::UniqueFd(); }).detach();
  } catch (...) {
    // fd was not moved into a thread that started: it closes here, on return.
  }
}

// Stops the thread, drains what the socket still holds, reads the kernel's drop count.
void EgressRecorder::State::halt() noexcept {
  if (stopped) {
    return;
  }
  stopped = true;
  stopping = true;
  const std::uint64_t one = 1;
  if (::write(stop_event.get(), &one, sizeof(one)) != static_cast<ssize_t>(sizeof(one))) {
    // The thread still sees the flag within k_poll_ms.
  }
  if (thread.joinable()) {
    try {
      thread.join();
    } catch (const std::system_error&) {
      thread.detach();  // cannot happen for a joinable thread other than this one
    }
  }
  while (receive_one()) {
  }
  tpacket_stats stats{};
  socklen_t stats_len = sizeof(stats);
  if (::getsockopt(socket.get(), SOL_PACKET, PACKET_STATISTICS, &stats, &stats_len) == 0) {
    log.dropped += stats.tp_drops;
  }
  log.dropped += lost.exchange(0);
  close_later(std::move(socket));
  stop_event = fs::UniqueFd();
}

Result<EgressRecorder> EgressRecorder::attach(pid_t pid) {
  const std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/net";
  const fs::UniqueFd target_ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target_ns.valid()) {
    const int err = errno;
    if (err == EPERM || err == EACCES) {
      return fail(reason::k_sandbox_egress_unavailable,
                  fs::errno_message("cannot open", ns_path, err) + "; run ecluse as root",
                  ns_path);
    }
    return fail(reason::k_sandbox_failed, fs::errno_message("cannot open", ns_path, err), ns_path);
  }
  ECLUSE_TRY(sock, open_in_namespace(target_ns.get(), pid));
  auto state = std::make_unique<State>();
  state->socket = std::move(sock);
  state->stop_event = fs::UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!state->stop_event.valid()) {
    return fail(reason::k_sandbox_failed,
                "cannot create the egress recorder's eventfd: " + errno_text(errno));
  }
  try {
    state->thread = std::thread([raw = state.get()] { raw->capture(); });
  } catch (const std::system_error& e) {
    return fail(reason::k_sandbox_failed,
                std::string("cannot start the egress capture thread: ") + e.what());
  }
  return EgressRecorder(std::move(state));
}

EgressRecorder::EgressRecorder(std::unique_ptr<State> state) : m_state(std::move(state)) {}

EgressRecorder::EgressRecorder(EgressRecorder&& other) noexcept = default;

EgressRecorder& EgressRecorder::operator=(EgressRecorder&& other) noexcept {
  if (this != &other) {
    if (m_state) {
      m_state->halt();
    }
    m_state = std::move(other.m_state);
  }
  return *this;
}

EgressRecorder::~EgressRecorder() {
  if (m_state) {
    m_state->halt();
  }
}

EgressLog EgressRecorder::stop() {
  if (!m_state) {
    return {};
  }
  m_state->halt();
  const std::lock_guard<std::mutex> lock(m_state->mutex);
  return std::exchange(m_state->log, EgressLog{});
}

json::Json to_json(const EgressAttempt& a) {
  json::Json j = {
      {"kind", a.event.kind},
      {"protocol", a.event.protocol},
      {"address", a.event.address},
      {"port", a.event.port},
      {"count", a.count},
  };
  if (a.event.kind == "dns") {
    j["name"] = a.event.name;
    j["qtype"] = a.event.qtype;
  }
  return j;
}

Status egress_observable() {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  if (::syscall(SYS_capget, &header, data.data()) != 0) {
    return fail(reason::k_sandbox_failed,
                "cannot read this process's capabilities: " + errno_text(errno));
  }
  const auto has = [&](unsigned cap) {
    return (data.at(cap / 32).effective & (1U << (cap % 32))) != 0;
  };
  std::string missing;
  for (const auto& [cap, name] : {std::pair{CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
                                  std::pair{CAP_NET_ADMIN, "CAP_NET_ADMIN"},
                                  std::pair{CAP_NET_RAW, "CAP_NET_RAW"}}) {
    if (!has(static_cast<unsigned>(cap))) {
      missing += missing.empty() ? name : std::string(" and ") + name;
    }
  }
  if (!missing.empty()) {
    return fail(reason::k_sandbox_egress_unavailable,
                "this process lacks " + missing
                    + " to observe the sandbox's network namespace; run ecluse as root");
  }
  return {};
}

}  // namespace ecluse::sandbox
