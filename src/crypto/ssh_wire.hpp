// Private to src/crypto: SSH wire formats. The RFC 4251 §5 data types (uint32, string, mpint),
// read strictly and written canonically, and what is built from them: the public key blobs
// (RFC 4253 §6.6 ssh-ed25519 / ssh-rsa, RFC 5656 §3.1 ecdsa-sha2-nistp256) and the ECDSA
// signature encoding (RFC 5656 §3.1.2).
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/crypto/signing.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "openssl.hpp"

namespace ecluse::crypto::ssh {

// Reads fields off a byte string, front to back. The first read that does not fit marks the
// reader failed: that read and every later one yield empty values, and finished() is false,
// so a parser reads all its fields and checks once.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : m_rest(bytes) {}

  // The next n bytes.
  std::string_view bytes(std::size_t n);

  // A big-endian uint32.
  std::uint32_t u32();

  // A string: uint32 length, then that many bytes (never more than remain).
  std::string_view string();

  // An mpint that must be non-negative and minimally encoded (no needless leading 0x00): its
  // magnitude as unsigned big-endian bytes, empty for zero.
  std::string_view mpint();

  // Did every read fit, and is nothing left over?
  [[nodiscard]] bool finished() const { return !m_failed && m_rest.empty(); }

 private:
  std::string_view m_rest;
  bool m_failed = false;
};

void put_u32(std::string& out, std::uint32_t value);

void put_string(std::string& out, std::string_view bytes);

// magnitude: unsigned big-endian bytes (leading zeros allowed, they are dropped).
void put_mpint(std::string& out, std::string_view magnitude);

const unsigned char* uchars(std::string_view s);

// A non-negative BIGNUM as unsigned big-endian bytes (empty for zero).
std::string bn_bytes(const BIGNUM* bn);

// sshsig.malformed with "ssh signature: what".
tl::unexpected<Error> malformed(const std::string& what);

// The SSH blob of a key of that type: string type name, then the key's fields.
Result<std::string> key_blob(EVP_PKEY* pkey, KeyType type);

// The key an SSH blob holds: sshsig.malformed unless it is exactly an ssh-ed25519,
// ecdsa-sha2-nistp256 (a point on the curve) or ssh-rsa (odd e ≤ 64 bits, odd n ≤ 16384 bits)
// blob of at most 64 KiB.
Result<ossl::PkeyPtr> pkey_from_blob(std::string_view blob);

// RFC 5656 §3.1.2: the DER ECDSA-Sig-Value OpenSSL makes as the SSH form, mpint r and mpint
// s (internal.crypto if OpenSSL's DER does not decode).
Result<std::string> ecdsa_to_ssh(std::string_view der);

// The reverse, for verification: sshsig.malformed unless exactly two positive canonical mpints
// of at most 32 bytes.
Result<std::string> ecdsa_to_der(std::string_view ssh);

}  // namespace ecluse::crypto::ssh
