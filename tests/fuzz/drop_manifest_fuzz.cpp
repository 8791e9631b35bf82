// libFuzzer target: parse_drop_manifest must never crash, hang or throw, whatever the bytes.
#include <ecluse/intake/drop_manifest.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto manifest = ecluse::intake::parse_drop_manifest(bytes);
  if (!manifest && manifest.error().reason.empty()) {
    __builtin_trap();  // every rejection must carry a reason code
  }
  return 0;
}
