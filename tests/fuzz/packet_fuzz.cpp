// libFuzzer target: the egress packet parser (IPv4/IPv6, TCP/UDP/ICMP, DNS questions) on
// arbitrary bytes; the first byte picks the ethertype.
#include <cstddef>
#include <cstdint>
#include <span>

#include "sandbox/packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint16_t ethertype = (data[0] & 1U) != 0 ? 0x86DD : 0x0800;
  const std::span<const std::uint8_t> bytes(data + 1, size - 1);
  if (const auto e = ecluse::sandbox::parse_packet(ethertype, bytes)) {
    if (e->kind.empty() || e->address.empty()) {
      __builtin_trap();  // an event always names what it reached
    }
  }
  (void)ecluse::sandbox::parse_dns_question(bytes);
  return 0;
}
