// libFuzzer target: hostile drop.json.sig bytes through verify_cms and verify_raw must never
// crash, hang or throw, and every refusal carries a reason code. The pinned root and raw key
// come from $ECLUSE_FUZZ_PKI (root.pem, raw.pub.pem), made by scripts/fuzz.sh at run time.
#include <ecluse/crypto/signature.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace {

struct Pinned {
  ecluse::crypto::Anchors anchors;
  std::optional<ecluse::crypto::PublicKey> raw;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const Pinned& pinned() {
  static const Pinned k_pinned = [] {
    Pinned p;
    const char* dir = std::getenv("ECLUSE_FUZZ_PKI");  // NOLINT(concurrency-mt-unsafe)
    const std::string d = dir != nullptr ? dir : ".";
    auto roots = ecluse::crypto::parse_certificates(
        slurp(d + "/root.pem"), ecluse::reason::k_internal, "root.pem");
    auto raw = ecluse::crypto::parse_public_key(
        slurp(d + "/raw.pub.pem"), ecluse::reason::k_internal, "raw.pub.pem");
    if (!roots || !raw) {
      __builtin_trap();  // the fuzzer's own set-up is broken
    }
    p.anchors.vendor = "acme";
    p.anchors.roots = *roots;
    p.raw = *raw;
    return p;
  }();
  return k_pinned;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view sig(reinterpret_cast<const char*>(data), size);
  const std::string content = slurp(std::string(std::getenv("ECLUSE_FUZZ_PKI")) + "/drop.json");
  const auto at = ecluse::TimePoint(std::chrono::seconds(1795000000));
  const auto cms = ecluse::crypto::verify_cms(sig, content, pinned().anchors, {}, at);
  if (!cms && cms.error().reason.empty()) {
    __builtin_trap();
  }
  const auto raw = ecluse::crypto::verify_raw(sig, content, *pinned().raw, {});
  if (!raw && raw.error().reason.empty()) {
    __builtin_trap();
  }
  return 0;
}
