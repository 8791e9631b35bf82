// SHA-256 over OpenSSL EVP. Invariant: a Digest is only ever produced by a completed,
// error-checked EVP digest; every OpenSSL status is compared with exactly 1.
#include <ecluse/crypto/sha256.hpp>

#include <openssl/evp.h>

#include "openssl.hpp"

namespace ecluse::crypto {

namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

}  // namespace

std::optional<Digest> Digest::from_hex(std::string_view hex) {
  if (hex.size() != 2 * k_size) {
    return std::nullopt;
  }
  std::array<std::uint8_t, k_size> bytes{};
  for (std::size_t i = 0; i < k_size; ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    bytes.at(i) = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return Digest(bytes);
}

std::string Digest::hex() const {
  constexpr std::string_view k_hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * k_size);
  for (const auto b : m_bytes) {
    out.push_back(k_hex[b >> 4U]);
    out.push_back(k_hex[b & 0xfU]);
  }
  return out;
}

struct Sha256::Impl {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx;
  bool finished = false;
};

Sha256::Sha256(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

Result<Sha256> Sha256::create() {
  auto impl = std::make_unique<Impl>();
  impl->ctx.reset(EVP_MD_CTX_new());
  if (!impl->ctx || EVP_DigestInit_ex(impl->ctx.get(), EVP_sha256(), nullptr) != 1) {
    return ossl::failure("cannot initialise SHA-256");
  }
  return Sha256(std::move(impl));
}

Status Sha256::update(std::string_view bytes) {
  if (m_impl->finished) {
    return fail(reason::k_internal_crypto, "sha256 update after finish");
  }
  if (!bytes.empty() && EVP_DigestUpdate(m_impl->ctx.get(), bytes.data(), bytes.size()) != 1) {
    return ossl::failure("cannot update SHA-256");
  }
  return {};
}

Result<Digest> Sha256::finish() {
  if (m_impl->finished) {
    return fail(reason::k_internal_crypto, "sha256 finished twice");
  }
  m_impl->finished = true;
  std::array<std::uint8_t, Digest::k_size> out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(m_impl->ctx.get(), out.data(), &len) != 1 || len != Digest::k_size) {
    return ossl::failure("cannot finish SHA-256");
  }
  return Digest(out);
}

Result<Digest> sha256(std::string_view bytes) {
  ECLUSE_TRY(h, Sha256::create());
  ECLUSE_CHECK(h.update(bytes));
  return h.finish();
}

}  // namespace ecluse::crypto
