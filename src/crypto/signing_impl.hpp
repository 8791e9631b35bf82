// Private to src/crypto: what a SigningKey holds, so the CMS and certificate adapters can hand
// its OpenSSL key to OpenSSL without the key material ever leaving src/crypto.
#pragma once

#include <ecluse/crypto/signing.hpp>

#include <memory>

#include "openssl.hpp"

namespace ecluse::crypto {

struct SigningKey::Impl {
  // Keeps what the key lives in (the pkcs11 engine) loaded as long as the key is: declared
  // first, so it is destroyed after the key.
  std::shared_ptr<void> keepalive;
  ossl::PkeyPtr pkey;
  PublicKey public_key;
  KeyType type = KeyType::ed25519;
  std::string_view backend = "file";
};

// Builds a SigningKey around an OpenSSL private key: its public key, id and type are derived
// here (keys.unsupported_type for a key ecluse does not sign with).
Result<SigningKey> make_signing_key(ossl::PkeyPtr pkey,
                                    std::string_view backend,
                                    std::shared_ptr<void> keepalive = {});

// Configures ctx (from EVP_DigestSignInit/VerifyInit) for the type's scheme: RSA-PSS with
// MGF1-SHA-256 and a 32-byte salt; nothing for the others.
bool set_scheme_params(EVP_PKEY_CTX* ctx, KeyType type);

// The digest the type's scheme signs with (nullptr for Ed25519, which hashes itself).
const EVP_MD* scheme_digest(KeyType type);

}  // namespace ecluse::crypto
