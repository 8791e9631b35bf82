// Parsing captured IPv4 (RFC 791) and IPv6 (RFC 8200) packets into egress attempts, and DNS
// questions (RFC 1035 §4.1); every read is bounded by the captured bytes.
#include "packet.hpp"

#include <ecluse/core/printable.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <utility>

namespace ecluse::sandbox {

namespace {

using Bytes = std::span<const std::uint8_t>;

constexpr std::uint16_t k_ethertype_ipv4 = 0x0800;
constexpr std::uint16_t k_ethertype_ipv6 = 0x86DD;

constexpr std::uint8_t k_proto_hop_by_hop = 0;
constexpr std::uint8_t k_proto_icmp = 1;
constexpr std::uint8_t k_proto_tcp = 6;
constexpr std::uint8_t k_proto_udp = 17;
constexpr std::uint8_t k_proto_routing = 43;
constexpr std::uint8_t k_proto_fragment = 44;
constexpr std::uint8_t k_proto_icmpv6 = 58;
constexpr std::uint8_t k_proto_dest_options = 60;

constexpr std::size_t k_ipv4_min_header = 20;
constexpr std::size_t k_ipv6_header = 40;
constexpr std::size_t k_tcp_min_header = 20;
constexpr std::size_t k_udp_header = 8;
constexpr std::size_t k_icmp_echo_header = 8;
constexpr std::size_t k_dns_header = 12;
constexpr std::size_t k_dns_max_name = 255;  // RFC 1035 §2.3.4, in wire octets
constexpr std::size_t k_dns_max_label = 63;

// A real packet has a handful of extension headers; a longer chain is a crafted one.
constexpr int k_max_extension_headers = 8;

constexpr std::uint8_t k_tcp_syn = 0x02;
constexpr std::uint8_t k_tcp_rst = 0x04;
constexpr std::uint8_t k_tcp_ack = 0x10;
constexpr std::uint8_t k_icmp_echo_request = 8;
constexpr std::uint8_t k_icmpv6_echo_request = 128;
constexpr std::uint16_t k_dns_port = 53;

// Big-endian 16-bit value at offset at; the caller has checked at + 2 <= b.size().
std::uint16_t be16(Bytes b, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<unsigned>(b[at]) << 8U) | b[at + 1]);
}

// The textual form of an address of family af (4 or 16 bytes at b).
std::string address_text(int af, Bytes b) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (::inet_ntop(af, b.data(), text.data(), static_cast<socklen_t>(text.size())) == nullptr) {
    return {};
  }
  return {text.data()};
}

EgressEvent event(std::string kind, std::string protocol, std::string address, std::uint16_t port) {
  EgressEvent e;
  e.kind = std::move(kind);
  e.protocol = std::move(protocol);
  e.address = std::move(address);
  e.port = port;
  return e;
}

// Only a connection's opening SYN is an attempt; SYN-ACK and RST are the kernel's answers.
std::optional<EgressEvent> parse_tcp(std::string address, Bytes seg) {
  if (seg.size() < k_tcp_min_header) {
    return std::nullopt;
  }
  const std::size_t data_offset = static_cast<std::size_t>(seg[12] >> 4U) * 4;
  if (data_offset < k_tcp_min_header || data_offset > seg.size()) {
    return std::nullopt;
  }
  const std::uint8_t flags = seg[13];
  if ((flags & k_tcp_syn) == 0 || (flags & (k_tcp_ack | k_tcp_rst)) != 0) {
    return std::nullopt;
  }
  return event("connect", "tcp", std::move(address), be16(seg, 2));
}

std::optional<EgressEvent> parse_udp(std::string address, Bytes seg) {
  if (seg.size() < k_udp_header) {
    return std::nullopt;
  }
  const std::size_t length = be16(seg, 4);
  if (length < k_udp_header || length > seg.size()) {
    return std::nullopt;
  }
  const std::uint16_t port = be16(seg, 2);
  EgressEvent e = event("udp", "udp", std::move(address), port);
  if (port == k_dns_port) {
    if (auto q = parse_dns_question(seg.subspan(k_udp_header, length - k_udp_header))) {
      e.kind = "dns";
      e.name = std::move(q->name);
      e.qtype = std::move(q->qtype);
    }
  }
  return e;
}

// Only an echo request is an attempt; unreachables and echo replies are the kernel's answers.
std::optional<EgressEvent> parse_icmp(std::string address, Bytes seg, bool v6) {
  if (seg.size() < k_icmp_echo_header) {
    return std::nullopt;
  }
  if (seg[0] != (v6 ? k_icmpv6_echo_request : k_icmp_echo_request)) {
    return std::nullopt;
  }
  return event("icmp", v6 ? "icmpv6" : "icmp", std::move(address), 0);
}

std::optional<EgressEvent> parse_transport(std::uint8_t protocol,
                                           bool v6,
                                           std::string address,
                                           Bytes seg) {
  if (protocol == k_proto_tcp) {
    return parse_tcp(std::move(address), seg);
  }
  if (protocol == k_proto_udp) {
    return parse_udp(std::move(address), seg);
  }
  if ((!v6 && protocol == k_proto_icmp) || (v6 && protocol == k_proto_icmpv6)) {
    return parse_icmp(std::move(address), seg, v6);
  }
  return std::nullopt;
}

std::optional<EgressEvent> parse_ipv4(Bytes b) {
  if (b.size() < k_ipv4_min_header || (b[0] >> 4U) != 4) {
    return std::nullopt;
  }
  const std::size_t header = static_cast<std::size_t>(b[0] & 0x0FU) * 4;
  const std::size_t total = be16(b, 2);
  if (header < k_ipv4_min_header || total < header || total > b.size()) {
    return std::nullopt;
  }
  if ((be16(b, 6) & 0x1FFFU) != 0) {  // a later fragment holds no transport header
    return std::nullopt;
  }
  return parse_transport(
      b[9], false, address_text(AF_INET, b.subspan(16, 4)), b.subspan(header, total - header));
}

std::optional<EgressEvent> parse_ipv6(Bytes b) {
  if (b.size() < k_ipv6_header || (b[0] >> 4U) != 6) {
    return std::nullopt;
  }
  const std::size_t payload_length = be16(b, 4);
  if (payload_length > b.size() - k_ipv6_header) {
    return std::nullopt;
  }
  std::uint8_t next = b[6];
  Bytes rest = b.subspan(k_ipv6_header, payload_length);
  for (int i = 0; i <= k_max_extension_headers; ++i) {
    if (next == k_proto_hop_by_hop || next == k_proto_routing || next == k_proto_dest_options) {
      if (rest.size() < 2 || (static_cast<std::size_t>(rest[1]) + 1) * 8 > rest.size()) {
        return std::nullopt;
      }
      next = rest[0];
      rest = rest.subspan((static_cast<std::size_t>(rest[1]) + 1) * 8);
    } else if (next == k_proto_fragment) {
      if (rest.size() < 8 || (be16(rest, 2) >> 3U) != 0) {  // only the first fragment
        return std::nullopt;
      }
      next = rest[0];
      rest = rest.subspan(8);
    } else {
      return parse_transport(next, true, address_text(AF_INET6, b.subspan(24, 16)), rest);
    }
  }
  return std::nullopt;
}

std::string qtype_name(std::uint16_t qtype) {
  static constexpr std::array<std::pair<std::uint16_t, const char*>, 11> k_names{{
      {1, "A"},
      {2, "NS"},
      {5, "CNAME"},
      {6, "SOA"},
      {12, "PTR"},
      {15, "MX"},
      {16, "TXT"},
      {28, "AAAA"},
      {33, "SRV"},
      {65, "HTTPS"},
      {255, "ANY"},
  }};
  for (const auto& [number, name] : k_names) {
    if (number == qtype) {
      return name;
    }
  }
  return std::to_string(qtype);
}

// Reads the uncompressed name at pos (advanced past it), lowercased (ASCII), labels joined
// by dots, without the final dot; nullopt if malformed, over-long or compressed.
std::optional<std::string> read_name(Bytes m, std::size_t& pos) {
  std::string name;
  std::size_t wire = 1;  // the terminating root label
  while (true) {
    if (pos >= m.size()) {
      return std::nullopt;
    }
    const std::size_t length = m[pos];
    ++pos;
    if (length == 0) {
      return name;
    }
    // 0xC0 is a compression pointer, 0x40 and 0x80 are extended label types (RFC 6891 §5).
    if (length > k_dns_max_label || length > m.size() - pos) {
      return std::nullopt;
    }
    wire += length + 1;
    if (wire > k_dns_max_name) {
      return std::nullopt;
    }
    if (!name.empty()) {
      name += '.';
    }
    for (const std::uint8_t c : m.subspan(pos, length)) {
      name += static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    pos += length;
  }
}

}  // namespace

std::optional<EgressEvent> parse_packet(std::uint16_t ethertype,
                                        std::span<const std::uint8_t> bytes) {
  if (ethertype == k_ethertype_ipv4) {
    return parse_ipv4(bytes);
  }
  if (ethertype == k_ethertype_ipv6) {
    return parse_ipv6(bytes);
  }
  return std::nullopt;
}

std::optional<DnsQuestion> parse_dns_question(std::span<const std::uint8_t> message) {
  if (message.size() < k_dns_header) {
    return std::nullopt;
  }
  const bool response = (be16(message, 2) & 0x8000U) != 0;
  if (response || be16(message, 4) == 0) {
    return std::nullopt;
  }
  std::size_t pos = k_dns_header;
  auto name = read_name(message, pos);
  if (!name || message.size() - pos < 4) {  // QTYPE and QCLASS follow the name
    return std::nullopt;
  }
  DnsQuestion q;
  q.name = name->empty() ? std::string(".") : printable(*name);
  q.qtype = qtype_name(be16(message, pos));
  return q;
}

}  // namespace ecluse::sandbox
