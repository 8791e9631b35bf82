// Streaming SHA-256 through OpenSSL's EVP interface (the only digest ecluse trusts for content).
#pragma once

#include <ecluse/core/error.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ecluse::crypto {

// A SHA-256 value.
class Digest {
 public:
  static constexpr std::size_t k_size = 32;
  Digest() = default;

  explicit Digest(const std::array<std::uint8_t, k_size>& bytes) : m_bytes(bytes) {}

  // Parses exactly 64 lowercase hexadecimal digits.
  static std::optional<Digest> from_hex(std::string_view hex);
  [[nodiscard]] std::string hex() const;

  [[nodiscard]] const std::array<std::uint8_t, k_size>& bytes() const { return m_bytes; }

  friend bool operator==(const Digest&, const Digest&) = default;

 private:
  std::array<std::uint8_t, k_size> m_bytes{};
};

// Incremental hasher: update() any number of times, then finish() once.
class Sha256 {
 public:
  // Fails (internal.crypto) only when OpenSSL cannot provide SHA-256.
  static Result<Sha256> create();
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  ~Sha256();

  Status update(std::string_view bytes);
  Result<Digest> finish();

 private:
  struct Impl;
  explicit Sha256(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// One-shot digest of a buffer.
Result<Digest> sha256(std::string_view bytes);

}  // namespace ecluse::crypto
