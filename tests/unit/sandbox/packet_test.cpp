// parse_packet and parse_dns_question on packets built here: truncated, malformed and crafted
// input and the kernel's own answers first (never reported, never read past the end), then
// the attempts a sandboxed program makes (TCP SYN, UDP, DNS question, ICMP echo).
#include "sandbox/packet.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using ecluse::sandbox::EgressEvent;
using ecluse::sandbox::parse_dns_question;
using ecluse::sandbox::parse_packet;

namespace {

using Bytes = std::vector<std::uint8_t>;
using Ipv4 = std::array<std::uint8_t, 4>;
using Ipv6 = std::array<std::uint8_t, 16>;

constexpr std::uint16_t k_ipv4 = 0x0800;
constexpr std::uint16_t k_ipv6 = 0x86DD;
constexpr std::uint8_t k_syn = 0x02;
constexpr std::uint8_t k_rst = 0x04;
constexpr std::uint8_t k_ack = 0x10;
constexpr std::uint16_t k_type_a = 1;
constexpr std::uint16_t k_type_aaaa = 28;

const Ipv6 k_doc_v6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};  // 2001:db8::1

void put16(Bytes& b, std::size_t at, std::size_t v) {
  b.at(at) = static_cast<std::uint8_t>(v >> 8U);
  b.at(at + 1) = static_cast<std::uint8_t>(v & 0xFFU);
}

void append16(Bytes& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8U));
  b.push_back(static_cast<std::uint8_t>(v & 0xFFU));
}

Bytes concat(Bytes head, const Bytes& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

Bytes tcp(std::uint16_t dst_port, std::uint8_t flags) {
  Bytes b(20, 0);
  put16(b, 0, 40000);
  put16(b, 2, dst_port);
  b[12] = 5U << 4U;  // data offset: 5 words, no options
  b[13] = flags;
  put16(b, 14, 65535);
  return b;
}

Bytes udp(std::uint16_t dst_port, const Bytes& payload) {
  Bytes b(8, 0);
  put16(b, 0, 40000);
  put16(b, 2, dst_port);
  put16(b, 4, 8 + payload.size());
  return concat(b, payload);
}

Bytes icmp(std::uint8_t type, std::uint8_t code, const Bytes& rest = {}) {
  return concat(Bytes{type, code, 0, 0, 0, 1, 0, 1}, rest);
}

Bytes ipv4(std::uint8_t protocol, Ipv4 dst, const Bytes& payload) {
  Bytes b(20, 0);
  b[0] = 0x45;
  put16(b, 2, 20 + payload.size());
  put16(b, 6, 0x4000);  // don't fragment
  b[8] = 64;
  b[9] = protocol;
  b[12] = 127;
  b[15] = 1;
  std::copy(dst.begin(), dst.end(), b.begin() + 16);
  return concat(b, payload);
}

Bytes ipv6(std::uint8_t next, const Ipv6& dst, const Bytes& payload) {
  Bytes b(40, 0);
  b[0] = 0x60;
  put16(b, 4, payload.size());
  b[6] = next;
  b[7] = 64;
  b[23] = 1;  // source ::1
  std::copy(dst.begin(), dst.end(), b.begin() + 24);
  return concat(b, payload);
}

// An 8-byte extension header (hop-by-hop, routing or destination options) naming next.
Bytes extension(std::uint8_t next) {
  return Bytes{next, 0, 1, 4, 0, 0, 0, 0};
}

Bytes dns_header(std::uint16_t flags, std::uint16_t qdcount) {
  Bytes b(12, 0);
  put16(b, 0, 0x1234);
  put16(b, 2, flags);
  put16(b, 4, qdcount);
  return b;
}

void append_name(Bytes& b, std::string_view dotted) {
  while (!dotted.empty()) {
    const auto dot = dotted.find('.');
    const auto label = dotted.substr(0, dot);
    b.push_back(static_cast<std::uint8_t>(label.size()));
    b.insert(b.end(), label.begin(), label.end());
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
  }
  b.push_back(0);
}

Bytes dns_query(std::string_view name, std::uint16_t qtype) {
  Bytes b = dns_header(0x0100, 1);  // RD
  append_name(b, name);
  append16(b, qtype);
  append16(b, 1);  // IN
  return b;
}

// The question of a message whose name is given as raw wire bytes (to craft bad labels).
Bytes dns_raw_name(const Bytes& wire_name) {
  Bytes b = concat(dns_header(0x0100, 1), wire_name);
  append16(b, k_type_a);
  append16(b, 1);
  return b;
}

Bytes syn_v4() {
  return ipv4(6, {10, 1, 2, 3}, tcp(443, k_syn));
}

// Every strict prefix, each in its own allocation so the sanitizer sees a read past its end.
bool no_prefix_parses(std::uint16_t ethertype, const Bytes& packet) {
  for (std::size_t n = 0; n < packet.size(); ++n) {
    const Bytes prefix(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(n));
    if (parse_packet(ethertype, prefix).has_value()) {
      return false;
    }
  }
  return true;
}

EgressEvent expected(std::string kind,
                     std::string protocol,
                     std::string address,
                     std::uint16_t port) {
  EgressEvent e;
  e.kind = std::move(kind);
  e.protocol = std::move(protocol);
  e.address = std::move(address);
  e.port = port;
  return e;
}

}  // namespace

TEST_CASE("sandbox::parse_packet refuses truncated and malformed packets") {
  SUBCASE("every truncation of a SYN, an IPv6 SYN and a DNS question") {
    CHECK(no_prefix_parses(k_ipv4, syn_v4()));
    CHECK(no_prefix_parses(k_ipv6, ipv6(6, k_doc_v6, tcp(443, k_syn))));
    CHECK(no_prefix_parses(k_ipv4, ipv4(17, {127, 0, 0, 1}, udp(53, dns_query("a.example", 1)))));
    CHECK(no_prefix_parses(k_ipv6, ipv6(0, k_doc_v6, concat(extension(6), tcp(443, k_syn)))));
  }
  SUBCASE("an IHL below five words") {
    Bytes p = syn_v4();
    p[0] = 0x44;
    CHECK_FALSE(parse_packet(k_ipv4, p));
  }
  SUBCASE("an IHL past the total length") {
    Bytes p = syn_v4();
    p[0] = 0x4F;
    CHECK_FALSE(parse_packet(k_ipv4, p));
  }
  SUBCASE("a version that does not match the ethertype") {
    CHECK_FALSE(parse_packet(k_ipv6, syn_v4()));
    CHECK_FALSE(parse_packet(k_ipv4, ipv6(6, k_doc_v6, tcp(443, k_syn))));
  }
  SUBCASE("a total length larger than the captured bytes") {
    Bytes p = syn_v4();
    put16(p, 2, p.size() + 1);
    CHECK_FALSE(parse_packet(k_ipv4, p));
  }
  SUBCASE("an IPv6 payload length larger than the captured bytes") {
    Bytes p = ipv6(6, k_doc_v6, tcp(443, k_syn));
    put16(p, 4, 21);
    CHECK_FALSE(parse_packet(k_ipv6, p));
  }
  SUBCASE("a TCP data offset below five words or past the segment") {
    Bytes p = syn_v4();
    p[20 + 12] = 4U << 4U;
    CHECK_FALSE(parse_packet(k_ipv4, p));
    p[20 + 12] = 6U << 4U;
    CHECK_FALSE(parse_packet(k_ipv4, p));
  }
  SUBCASE("a UDP length that lies") {
    Bytes p = ipv4(17, {8, 8, 8, 8}, udp(123, Bytes(4, 0)));
    put16(p, 20 + 4, 13);
    CHECK_FALSE(parse_packet(k_ipv4, p));
    put16(p, 20 + 4, 7);
    CHECK_FALSE(parse_packet(k_ipv4, p));
  }
  SUBCASE("an extension header longer than the payload") {
    Bytes ext = extension(6);
    ext[1] = 3;  // 32 bytes announced, 28 present
    CHECK_FALSE(parse_packet(k_ipv6, ipv6(60, k_doc_v6, concat(ext, tcp(443, k_syn)))));
  }
  SUBCASE("an ethertype that is neither IPv4 nor IPv6 (ARP)") {
    CHECK_FALSE(parse_packet(0x0806, syn_v4()));
  }
}

TEST_CASE("sandbox::parse_packet ignores the kernel's answers") {
  SUBCASE("SYN-ACK") {
    CHECK_FALSE(parse_packet(k_ipv4, ipv4(6, {127, 0, 0, 1}, tcp(40000, k_syn | k_ack))));
  }
  SUBCASE("RST and RST-ACK") {
    CHECK_FALSE(parse_packet(k_ipv4, ipv4(6, {10, 1, 2, 3}, tcp(40000, k_rst))));
    CHECK_FALSE(parse_packet(k_ipv4, ipv4(6, {10, 1, 2, 3}, tcp(40000, k_rst | k_ack))));
    CHECK_FALSE(parse_packet(k_ipv6, ipv6(6, k_doc_v6, tcp(40000, k_rst | k_ack))));
  }
  SUBCASE("a SYN with RST set") {
    CHECK_FALSE(parse_packet(k_ipv4, ipv4(6, {10, 1, 2, 3}, tcp(443, k_syn | k_rst))));
  }
  SUBCASE("a plain ACK") {
    CHECK_FALSE(parse_packet(k_ipv4, ipv4(6, {10, 1, 2, 3}, tcp(443, k_ack))));
  }
  SUBCASE("ICMP port unreachable quoting the datagram it answers") {
    const Bytes quoted = ipv4(17, {127, 0, 0, 1}, udp(53, dns_query("a.example", 1)));
    CHECK_FALSE(parse_packet(k_ipv4, ipv4(1, {127, 0, 0, 1}, icmp(3, 3, quoted))));
  }
  SUBCASE("ICMP echo reply, ICMPv6 unreachable and echo reply") {
    CHECK_FALSE(parse_packet(k_ipv4, ipv4(1, {127, 0, 0, 1}, icmp(0, 0))));
    CHECK_FALSE(parse_packet(k_ipv6, ipv6(58, k_doc_v6, icmp(1, 4))));
    CHECK_FALSE(parse_packet(k_ipv6, ipv6(58, k_doc_v6, icmp(129, 0))));
  }
  SUBCASE("an ICMPv4 echo request carried in IPv6 and the reverse") {
    CHECK_FALSE(parse_packet(k_ipv6, ipv6(1, k_doc_v6, icmp(8, 0))));
    CHECK_FALSE(parse_packet(k_ipv4, ipv4(58, {10, 1, 2, 3}, icmp(128, 0))));
  }
  SUBCASE("other protocols (IGMP)") {
    CHECK_FALSE(parse_packet(k_ipv4, ipv4(2, {224, 0, 0, 1}, Bytes(8, 0))));
  }
}

TEST_CASE("sandbox::parse_packet skips fragments and over-long extension chains") {
  SUBCASE("a non-first IPv4 fragment that looks like a SYN") {
    Bytes p = syn_v4();
    put16(p, 6, 0x0001);  // offset 8 bytes
    CHECK_FALSE(parse_packet(k_ipv4, p));
    put16(p, 6, 0x2001);  // more fragments, offset 8 bytes
    CHECK_FALSE(parse_packet(k_ipv4, p));
  }
  SUBCASE("a non-first IPv6 fragment") {
    const Bytes fragment{6, 0, 0x00, 0x08, 0, 0, 0, 1};  // offset 1 (8 bytes)
    CHECK_FALSE(parse_packet(k_ipv6, ipv6(44, k_doc_v6, concat(fragment, tcp(443, k_syn)))));
  }
  SUBCASE("a chain of twenty destination-options headers") {
    Bytes payload = tcp(443, k_syn);
    for (int i = 0; i < 20; ++i) {
      payload = concat(extension(i == 0 ? 6 : 60), payload);
    }
    CHECK_FALSE(parse_packet(k_ipv6, ipv6(60, k_doc_v6, payload)));
  }
}

TEST_CASE("sandbox::parse_dns_question refuses malformed and non-query messages") {
  SUBCASE("a compression pointer") {
    CHECK_FALSE(parse_dns_question(dns_raw_name({0xC0, 0x0C})));
    CHECK_FALSE(parse_dns_question(dns_raw_name({1, 'a', 0xC0, 0x0C})));
  }
  SUBCASE("the extended label types 0x40 and 0x80") {
    CHECK_FALSE(parse_dns_question(dns_raw_name({0x41, 'a', 0})));
    CHECK_FALSE(parse_dns_question(dns_raw_name({0x81, 'a', 0})));
  }
  SUBCASE("a label of 64 bytes") {
    CHECK_FALSE(parse_dns_question(dns_query(std::string(64, 'a') + ".example", 1)));
  }
  SUBCASE("a name of 256 wire bytes; 255 is accepted") {
    const std::string l63(63, 'a');
    const std::string base = l63 + "." + l63 + "." + l63 + ".";
    CHECK_FALSE(parse_dns_question(dns_query(base + std::string(62, 'b'), 1)));
    const auto longest = parse_dns_question(dns_query(base + std::string(61, 'b'), 1));
    REQUIRE(longest);
    CHECK(longest->name.size() == 253);
  }
  SUBCASE("a response (QR = 1)") {
    Bytes m = dns_query("a.example", 1);
    m[2] |= 0x80U;
    CHECK_FALSE(parse_dns_question(m));
  }
  SUBCASE("no question (QDCOUNT = 0)") {
    Bytes m = dns_query("a.example", 1);
    put16(m, 4, 0);
    CHECK_FALSE(parse_dns_question(m));
  }
  SUBCASE("every truncation of a question") {
    const Bytes m = dns_query("phone.example.com", 1);
    for (std::size_t n = 0; n < m.size(); ++n) {
      const Bytes prefix(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(n));
      CHECK_FALSE(parse_dns_question(prefix));
    }
  }
  SUBCASE("a DNS response to port 53 is only a datagram") {
    Bytes m = dns_query("a.example", 1);
    m[2] |= 0x80U;
    const auto e = parse_packet(k_ipv4, ipv4(17, {127, 0, 0, 1}, udp(53, m)));
    REQUIRE(e);
    CHECK(e->kind == "udp");
    CHECK(e->name.empty());
  }
}

TEST_CASE("sandbox::parse_packet reports connections, datagrams and echo requests") {
  SUBCASE("an IPv4 SYN to 10.1.2.3:443") {
    CHECK(parse_packet(k_ipv4, syn_v4()) == expected("connect", "tcp", "10.1.2.3", 443));
  }
  SUBCASE("an IPv4 SYN with options in the header and first-fragment bits") {
    Bytes p = ipv4(6, {10, 1, 2, 3}, tcp(443, k_syn));
    p.insert(p.begin() + 20, {1, 1, 1, 0});  // IHL 6: NOP, NOP, NOP, EOL
    p[0] = 0x46;
    put16(p, 2, p.size());
    put16(p, 6, 0x2000);  // more fragments, offset 0
    CHECK(parse_packet(k_ipv4, p) == expected("connect", "tcp", "10.1.2.3", 443));
  }
  SUBCASE("an IPv6 SYN to [2001:db8::1]:443") {
    CHECK(parse_packet(k_ipv6, ipv6(6, k_doc_v6, tcp(443, k_syn)))
          == expected("connect", "tcp", "2001:db8::1", 443));
  }
  SUBCASE("an IPv6 SYN behind hop-by-hop, routing and a first fragment") {
    const Bytes fragment{6, 0, 0x00, 0x01, 0, 0, 0, 1};  // offset 0, more fragments
    const Bytes payload = concat(concat(extension(43), extension(44)), fragment);
    CHECK(parse_packet(k_ipv6, ipv6(0, k_doc_v6, concat(payload, tcp(443, k_syn))))
          == expected("connect", "tcp", "2001:db8::1", 443));
  }
  SUBCASE("a UDP datagram to 8.8.8.8:123") {
    CHECK(parse_packet(k_ipv4, ipv4(17, {8, 8, 8, 8}, udp(123, Bytes(48, 0))))
          == expected("udp", "udp", "8.8.8.8", 123));
  }
  SUBCASE("a datagram to port 53 that is not DNS") {
    CHECK(parse_packet(k_ipv4, ipv4(17, {127, 0, 0, 1}, udp(53, Bytes(3, 0xFF))))
          == expected("udp", "udp", "127.0.0.1", 53));
  }
  SUBCASE("an ICMP echo request and an ICMPv6 one") {
    CHECK(parse_packet(k_ipv4, ipv4(1, {192, 0, 2, 7}, icmp(8, 0)))
          == expected("icmp", "icmp", "192.0.2.7", 0));
    CHECK(parse_packet(k_ipv6, ipv6(58, k_doc_v6, icmp(128, 0)))
          == expected("icmp", "icmpv6", "2001:db8::1", 0));
  }
}

TEST_CASE("sandbox::parse_packet reads the DNS question of a query") {
  SUBCASE("Phone.Example.COM type A to 127.0.0.1:53") {
    const auto e = parse_packet(
        k_ipv4, ipv4(17, {127, 0, 0, 1}, udp(53, dns_query("Phone.Example.COM", k_type_a))));
    EgressEvent want = expected("dns", "udp", "127.0.0.1", 53);
    want.name = "phone.example.com";
    want.qtype = "A";
    CHECK(e == want);
  }
  SUBCASE("AAAA over IPv6") {
    const auto e =
        parse_packet(k_ipv6, ipv6(17, k_doc_v6, udp(53, dns_query("cdn.example", k_type_aaaa))));
    REQUIRE(e);
    CHECK(e->kind == "dns");
    CHECK(e->address == "2001:db8::1");
    CHECK(e->name == "cdn.example");
    CHECK(e->qtype == "AAAA");
  }
  SUBCASE("the root name, HTTPS and an unnamed type") {
    CHECK(parse_dns_question(dns_query("", 2))->name == ".");
    CHECK(parse_dns_question(dns_query("", 2))->qtype == "NS");
    CHECK(parse_dns_question(dns_query("svc.example", 65))->qtype == "HTTPS");
    CHECK(parse_dns_question(dns_query("svc.example", 99))->qtype == "99");
  }
  SUBCASE("a name with a control byte is made printable") {
    const auto q = parse_dns_question(
        dns_raw_name({3, 'A', 0x1B, 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0}));
    REQUIRE(q);
    CHECK(q->name == "a\\x1bb.example");
  }
}
