// libFuzzer target: classification and endpoint extraction must never crash, hang, read out of
// bounds or read more than their caps, whatever the bytes (they see every changed vendor file).
#include <ecluse/diff/classify.hpp>
#include <ecluse/diff/endpoints.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

// A source that counts what it is asked for, to hold classify to its read cap.
class Counting final : public ecluse::diff::ByteSource {
 public:
  explicit Counting(std::string_view bytes) : m_inner(bytes), m_size(bytes.size()) {}

  [[nodiscard]] std::uint64_t size() const override { return m_size; }

  [[nodiscard]] ecluse::Result<std::string> read_at(std::uint64_t offset,
                                                    std::size_t n) const override {
    m_read += n;
    return m_inner.read_at(offset, n);
  }

  mutable std::uint64_t m_read = 0;

 private:
  ecluse::diff::BufferSource m_inner;
  std::uint64_t m_size;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const Counting src(bytes);
  const auto c = ecluse::diff::classify(src, size > 0 && (data[0] & 1U) != 0 ? "tar" : "");
  if (!c || src.m_read > (512U << 10U)) {
    __builtin_trap();  // a buffer never fails to read; the cap holds for any header
  }
  (void)ecluse::diff::to_json(*c);
  const auto found = ecluse::diff::extract_endpoints(bytes);
  for (const auto& e : found) {
    if (e.offset >= size || e.value.empty()) {
      __builtin_trap();
    }
  }
  const ecluse::diff::BufferSource whole(bytes);
  if (!ecluse::diff::scan_endpoints(whole, size)) {
    __builtin_trap();
  }
  return 0;
}
