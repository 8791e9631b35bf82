// Reading packets captured on a sandbox's loopback: which of them are attempts of the code
// under test to reach somewhere (a TCP SYN, a UDP datagram, a DNS question, an ICMP echo), and
// which are only the kernel's answers (RST, ICMP unreachable), never reported. Every length
// and offset is checked against the captured bytes: a capture is hostile input.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace ecluse::sandbox {

struct EgressEvent {
  std::string kind;      // "connect" (TCP SYN), "udp", "dns" (a DNS question), "icmp" (echo)
  std::string protocol;  // "tcp", "udp", "icmp", "icmpv6"
  std::string address;   // destination address, textual (inet_ntop)
  std::uint16_t port = 0;
  std::string name;   // dns: the name asked for, printable (core/printable.hpp), no final dot
  std::string qtype;  // dns: "A", "AAAA", … or the number

  friend bool operator==(const EgressEvent&, const EgressEvent&) = default;
};

// An IPv4 (ethertype 0x0800) or IPv6 (0x86DD) packet as an AF_PACKET SOCK_DGRAM socket gives
// it (network header first). nullopt for anything that is not an attempt or is malformed.
// A UDP datagram to port 53 that holds a DNS question is kind "dns" (else "udp").
std::optional<EgressEvent> parse_packet(std::uint16_t ethertype,
                                        std::span<const std::uint8_t> bytes);

struct DnsQuestion {
  std::string name;
  std::string qtype;
};

// The first question of a DNS query message (QR = 0, QDCOUNT ≥ 1), names at most 255 bytes,
// labels at most 63; compression pointers are refused in questions (a query never needs them).
std::optional<DnsQuestion> parse_dns_question(std::span<const std::uint8_t> message);

}  // namespace ecluse::sandbox
