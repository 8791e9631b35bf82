// Operator signing keys held in files. Invariant: a private key is read only from a regular
// file owned by this user with no group or other permissions, OpenSSL never prompts for a
// passphrase (a callback always answers), and each key type signs with exactly one scheme.
#include <ecluse/core/fs.hpp>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "signing_impl.hpp"

namespace ecluse::crypto {

namespace {

constexpr std::size_t k_max_key_file = 64 * 1024;
constexpr int k_pss_salt = 32;

struct PassState {
  std::string_view passphrase;
  bool asked = false;
};

int pass_cb(char* buf, int size, int /*rwflag*/, void* u) {
  auto* st = static_cast<PassState*>(u);
  st->asked = true;
  if (st->passphrase.empty() || st->passphrase.size() > static_cast<std::size_t>(size)) {
    return 0;
  }
  std::copy(st->passphrase.begin(), st->passphrase.end(), buf);
  return static_cast<int>(st->passphrase.size());
}

ossl::PkeyPtr keygen(KeyType type) {
  switch (type) {
    case KeyType::ed25519:
      return ossl::PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    case KeyType::ecdsa_p256:
      return ossl::PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    case KeyType::rsa_3072:
      return ossl::PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(3072)));
  }
  return {};
}

Result<PublicKey> public_of(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(pkey, &der);
  if (n <= 0) {
    return ossl::failure("cannot encode a public key");
  }
  std::string bytes(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return parse_public_key(bytes, reason::k_internal_crypto, "public key");
}

Result<std::string> pkcs8_pem(EVP_PKEY* pkey, std::string_view passphrase) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  std::string pass(passphrase);
  const EVP_CIPHER* cipher = pass.empty() ? nullptr : EVP_aes_256_cbc();
  const int ok = bio ? PEM_write_bio_PKCS8PrivateKey(bio.get(),
                                                     pkey,
                                                     cipher,
                                                     pass.empty() ? nullptr : pass.data(),
                                                     static_cast<int>(pass.size()),
                                                     nullptr,
                                                     nullptr)
                     : 0;
  OPENSSL_cleanse(pass.data(), pass.size());
  if (ok != 1) {
    return ossl::failure("cannot write the private key as PEM");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  std::string out(data, static_cast<std::size_t>(len));
  OPENSSL_cleanse(data, static_cast<std::size_t>(len));
  return out;
}

// Moves from's bytes into to without leaving a copy behind: a short string "moves" by copying
// its inline buffer and keeps the bytes there, so bytes that fit to's capacity are copied (no
// allocation) and wiped at the source; longer ones move with their heap buffer.
void take_bytes(std::string& to, std::string& from) noexcept {
  if (from.size() <= to.capacity()) {
    to.assign(from);
    OPENSSL_cleanse(from.data(), from.size());
  } else {
    to = std::move(from);
  }
  from.clear();
}

// The key file's bytes, once its type, owner and mode are checked on the open descriptor.
Result<Secret> read_key_file(const std::filesystem::path& file) {
  const std::string name = file.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP) {
      return fail(reason::k_keys_loose_permissions, name + ": is a symlink, not a key file", name);
    }
    return fail(reason::k_keys_unreadable, fs::errno_message("cannot open", file, err), name);
  }
  fs::UniqueFd guard(fd);

  struct stat st {};

  if (::fstat(fd, &st) != 0) {
    return fail(reason::k_keys_unreadable, fs::errno_message("cannot stat", file, errno), name);
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077U) != 0) {
    std::array<char, 8> mode{};
    (void)std::snprintf(mode.data(), mode.size(), "%04o", st.st_mode & 07777U);
    return fail(reason::k_keys_loose_permissions,
                name + ": private key file has mode " + mode.data()
                    + (st.st_uid != ::geteuid() ? " and another owner" : "")
                    + "; it must be a regular file of mode 0600 owned by this user (chmod 600)",
                name);
  }
  if (static_cast<std::uint64_t>(st.st_size) > k_max_key_file) {
    return fail(reason::k_keys_bad_key_file, name + ": too large for a key file", name);
  }
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  if (::pread(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    return fail(reason::k_keys_unreadable, fs::errno_message("cannot read", file, errno), name);
  }
  return Secret(std::move(bytes));
}

}  // namespace

std::string_view to_string(KeyType t) {
  switch (t) {
    case KeyType::ed25519:
      return "ed25519";
    case KeyType::ecdsa_p256:
      return "ecdsa-p256";
    case KeyType::rsa_3072:
      return "rsa-3072";
  }
  return "?";
}

std::optional<KeyType> parse_key_type(std::string_view text) {
  for (const auto t : {KeyType::ed25519, KeyType::ecdsa_p256, KeyType::rsa_3072}) {
    if (text == to_string(t)) {
      return t;
    }
  }
  return std::nullopt;
}

std::string_view scheme_of(KeyType t) {
  switch (t) {
    case KeyType::ed25519:
      return "ed25519";
    case KeyType::ecdsa_p256:
      return "ecdsa-sha2-nistp256";
    case KeyType::rsa_3072:
      return "rsassa-pss-sha256";
  }
  return "?";
}

std::optional<KeyType> key_type_of(const PublicKey& key) {
  const auto& i = key.info();
  if (i.type == "ED25519" || i.type == "Ed25519") {
    return KeyType::ed25519;
  }
  if (i.type == "EC" && i.curve == "P-256") {
    return KeyType::ecdsa_p256;
  }
  if (i.type == "RSA" && i.bits >= 3072) {
    return KeyType::rsa_3072;
  }
  return std::nullopt;
}

Secret::Secret(Secret&& other) noexcept {
  take_bytes(m_bytes, other.m_bytes);
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    OPENSSL_cleanse(m_bytes.data(), m_bytes.size());
    m_bytes.clear();
    take_bytes(m_bytes, other.m_bytes);
  }
  return *this;
}

Secret::~Secret() {
  OPENSSL_cleanse(m_bytes.data(), m_bytes.size());
}

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

const PublicKey& SigningKey::public_key() const {
  return m_impl->public_key;
}

KeyType SigningKey::type() const {
  return m_impl->type;
}

std::string_view SigningKey::backend() const {
  return m_impl->backend;
}

const EVP_MD* scheme_digest(KeyType type) {
  return type == KeyType::ed25519 ? nullptr : EVP_sha256();
}

bool set_scheme_params(EVP_PKEY_CTX* ctx, KeyType type) {
  if (type != KeyType::rsa_3072) {
    return true;
  }
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1
         && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1
         && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, k_pss_salt) == 1;
}

Result<SigningKey> make_signing_key(ossl::PkeyPtr pkey,
                                    std::string_view backend,
                                    std::shared_ptr<void> keepalive) {
  ECLUSE_TRY(pub, public_of(pkey.get()));
  const auto type = key_type_of(pub);
  if (!type) {
    return fail(
        reason::k_keys_unsupported_type,
        "a " + pub.info().type + " " + std::to_string(pub.info().bits)
            + "-bit key: ecluse signs with Ed25519, ECDSA P-256 or RSA of 3072 bits or more",
        pub.key_id());
  }
  auto impl = std::make_unique<SigningKey::Impl>(
      SigningKey::Impl{std::move(keepalive), std::move(pkey), std::move(pub), *type, backend});
  return SigningKey(std::move(impl));
}

Result<std::string> SigningKey::sign(std::string_view message) const {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx
      || EVP_DigestSignInit(
             ctx.get(), &pctx, scheme_digest(m_impl->type), nullptr, m_impl->pkey.get())
             != 1
      || !set_scheme_params(pctx, m_impl->type)) {
    return ossl::failure("cannot initialise signing with key " + key_id().substr(0, 16));
  }
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, msg, message.size()) != 1) {
    return ossl::failure("cannot size a signature");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(
          ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, msg, message.size())
      != 1) {
    return ossl::failure("cannot sign with key " + key_id().substr(0, 16));
  }
  sig.resize(len);
  return sig;
}

Result<GeneratedKey> generate_key(KeyType type, std::string_view passphrase) {
  auto pkey = keygen(type);
  if (!pkey) {
    return ossl::failure("cannot generate a " + std::string(to_string(type)) + " key");
  }
  ECLUSE_TRY(pem, pkcs8_pem(pkey.get(), passphrase));
  ECLUSE_TRY(pub, public_of(pkey.get()));
  return GeneratedKey{Secret(std::move(pem)), std::move(pub)};
}

Result<SigningKey> load_pem_key(const std::filesystem::path& file, std::string_view passphrase) {
  ECLUSE_TRY(bytes, read_key_file(file));
  const std::string name = file.string();
  auto bio = ossl::mem_bio(bytes.view());
  PassState st{passphrase};
  ossl::PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, pass_cb, &st));
  ERR_clear_error();
  if (!pkey) {
    if (st.asked && passphrase.empty()) {
      return fail(reason::k_keys_passphrase_missing,
                  name + ": the key is encrypted and no passphrase was given",
                  name);
    }
    if (st.asked) {
      return fail(reason::k_keys_bad_passphrase, name + ": the passphrase is wrong", name);
    }
    return fail(reason::k_keys_bad_key_file, name + ": holds no PEM private key", name);
  }
  return make_signing_key(std::move(pkey), "file");
}

Result<bool> verify_signature(const PublicKey& key,
                              std::string_view message,
                              std::string_view signature) {
  const auto type = key_type_of(key);
  if (!type) {
    return fail(reason::k_keys_unsupported_type,
                "key " + key.key_id().substr(0, 16) + " (" + key.info().type
                    + ") has no signature scheme in ecluse",
                key.key_id());
  }
  auto pkey = ossl::decode_der<ossl::PkeyPtr>(key.der(), d2i_PUBKEY);
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!pkey || !ctx
      || EVP_DigestVerifyInit(ctx.get(), &pctx, scheme_digest(*type), nullptr, pkey.get()) != 1
      || !set_scheme_params(pctx, *type)) {
    return ossl::failure("cannot initialise verification with key " + key.key_id().substr(0, 16));
  }
  const int ok = EVP_DigestVerify(ctx.get(),
                                  reinterpret_cast<const unsigned char*>(signature.data()),
                                  signature.size(),
                                  reinterpret_cast<const unsigned char*>(message.data()),
                                  message.size());
  ERR_clear_error();
  return ok == 1;
}

}  // namespace ecluse::crypto
