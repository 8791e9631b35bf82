// Operator signing keys: generation, loading (PEM files held 0600, or PKCS#11 objects through
// OpenSSL's pkcs11 engine), signing and verification. One scheme per key type, named as
// TUF and securesystemslib name them, so every signature ecluse makes is checkable by
// standard tools: Ed25519 (pure), ECDSA P-256 over SHA-256 (DER signature), RSA-3072 with
// PSS over SHA-256 (MGF1-SHA-256, salt length 32).
//
// Reason codes: keys.loose_permissions, keys.unreadable, keys.bad_key_file,
// keys.passphrase_missing, keys.bad_passphrase, keys.unsupported_type,
// keys.pkcs11_unavailable, keys.token_absent, internal.crypto.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/crypto/x509.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ecluse::crypto {

enum class KeyType { ed25519, ecdsa_p256, rsa_3072 };

// "ed25519", "ecdsa-p256", "rsa-3072" (the --type names).
std::string_view to_string(KeyType t);
std::optional<KeyType> parse_key_type(std::string_view text);

// The signature scheme of a key type: "ed25519", "ecdsa-sha2-nistp256", "rsassa-pss-sha256".
std::string_view scheme_of(KeyType t);

// The type of a public key, or nullopt for keys ecluse does not sign with (RSA other than
// 3072 bits is accepted as rsa_3072's scheme only when at least 3072 bits).
std::optional<KeyType> key_type_of(const PublicKey& key);

// Bytes wiped from memory when destroyed (private key PEM, passphrases, PINs).
class Secret {
 public:
  Secret() = default;

  explicit Secret(std::string bytes) : m_bytes(std::move(bytes)) {}

  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  [[nodiscard]] std::string_view view() const { return m_bytes; }

  [[nodiscard]] bool empty() const { return m_bytes.empty(); }

 private:
  std::string m_bytes;
};

struct GeneratedKey {
  Secret private_pem;  // PKCS#8 PEM, encrypted with AES-256-CBC when a passphrase was given
  PublicKey public_key;
};

// A fresh key pair of that type.
Result<GeneratedKey> generate_key(KeyType type, std::string_view passphrase = {});

// A private key ecluse can sign with. Move-only; the key material never leaves it.
class SigningKey {
 public:
  struct Impl;

  explicit SigningKey(std::unique_ptr<Impl> impl);
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  [[nodiscard]] const PublicKey& public_key() const;

  [[nodiscard]] const std::string& key_id() const { return public_key().key_id(); }

  [[nodiscard]] KeyType type() const;

  // "file" or "pkcs11".
  [[nodiscard]] std::string_view backend() const;

  // Signs message with the type's scheme; the raw signature bytes.
  [[nodiscard]] Result<std::string> sign(std::string_view message) const;

  // For the other adapters of src/crypto only (CMS, certificates): the OpenSSL key.
  [[nodiscard]] const Impl& impl() const { return *m_impl; }

 private:
  std::unique_ptr<Impl> m_impl;
};

// Loads a PEM private key (PKCS#8, encrypted or not, or traditional). The file must be a
// regular file (not a symlink) owned by this user with no group or other permission bits
// (keys.loose_permissions names the mode otherwise). An encrypted key needs the passphrase
// (keys.passphrase_missing, keys.bad_passphrase).
Result<SigningKey> load_pem_key(const std::filesystem::path& file, std::string_view passphrase);

// A private key inside a PKCS#11 token.
struct Pkcs11Ref {
  std::string uri;     // "pkcs11:token=…;object=…" (type=private is added when absent)
  std::string module;  // the PKCS#11 module; empty: the engine's default
  std::string pin;     // the user PIN; empty: none given
};

// Loads a private key (and its public key) from a token through the pkcs11 engine:
// keys.pkcs11_unavailable when the engine or module cannot be loaded, keys.token_absent when
// the token or object is not there or the PIN is refused.
Result<SigningKey> load_pkcs11_key(const Pkcs11Ref& ref);

// Does signature verify over message with key, under key's scheme? Errors only when the
// key's type has no scheme (keys.unsupported_type) or OpenSSL fails (internal.crypto).
Result<bool> verify_signature(const PublicKey& key,
                              std::string_view message,
                              std::string_view signature);

}  // namespace ecluse::crypto
