// The files of keys/: private key references and PEM files (0600 in a 0700 directory), read
// back through the loaders of src/crypto, which check modes and never prompt.
#include "keyring_files.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <system_error>

namespace ecluse::keys::detail {

namespace {

namespace stdfs = std::filesystem;

constexpr std::uint64_t k_max_file = 1U << 20U;

Status private_dir(const stdfs::path& dir) {
  ECLUSE_CHECK(fs::make_dirs(dir / "private", reason::k_workspace_io));
  if (::chmod((dir / "private").c_str(), 0700) != 0) {
    return fail(reason::k_workspace_io,
                fs::errno_message("cannot chmod", dir / "private", errno),
                (dir / "private").string());
  }
  return {};
}

std::string env_value(const std::string& var) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the environment is not changed while ecluse runs
  const char* v = var.empty() ? nullptr : std::getenv(var.c_str());
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

Result<std::string> read_small(const stdfs::path& file) {
  return fs::read_file_bounded(
      file, k_max_file, reason::k_keys_unreadable, reason::k_keys_unreadable);
}

bool file_exists(const stdfs::path& p) {
  std::error_code ec;
  return stdfs::exists(p, ec);
}

Result<fs::UniqueFd> lock_keys(const stdfs::path& dir) {
  ECLUSE_CHECK(fs::make_dirs(dir, reason::k_workspace_io));
  return fs::lock_exclusive(dir / ".lock", reason::k_workspace_io);
}

Result<crypto::Secret> passphrase(const std::string& var) {
  if (var.empty()) {
    return crypto::Secret();
  }
  auto value = env_value(var);
  if (value.empty()) {
    return fail(reason::k_keys_passphrase_missing,
                "the passphrase variable " + var + " is unset or empty",
                var);
  }
  return crypto::Secret(std::move(value));
}

Status write_pem(const stdfs::path& dir,
                 const std::string& keyid,
                 std::string_view pem,
                 const std::string& passphrase_env) {
  ECLUSE_CHECK(private_dir(dir));
  ECLUSE_CHECK(
      fs::write_file_atomic(dir / "private" / (keyid + ".pem"), pem, reason::k_workspace_io, 0600));
  json::Json ref{{"file", keyid + ".pem"}};
  if (!passphrase_env.empty()) {
    ref["passphrase_env"] = passphrase_env;
  }
  return write_reference(dir, keyid, ref);
}

Status write_reference(const stdfs::path& dir, const std::string& keyid, const json::Json& ref) {
  ECLUSE_CHECK(private_dir(dir));
  return fs::write_file_atomic(dir / "private" / (keyid + ".json"),
                               json::dump_pretty(ref) + "\n",
                               reason::k_workspace_io,
                               0600);
}

Result<json::Json> read_reference(const stdfs::path& dir, const std::string& keyid) {
  const auto file = dir / "private" / (keyid + ".json");
  if (!file_exists(file)) {
    return fail(reason::k_keys_private_missing,
                "key " + keyid.substr(0, 16)
                    + " is in the key list but its private part is not held here (keys/private/"
                    + keyid.substr(0, 16) + "….json): an offline key",
                keyid);
  }
  ECLUSE_TRY(text, read_small(file));
  const auto parsed = json::parse_strict(text);
  if (parsed.failure != json::ParseFailure::none || !parsed.value.is_object()) {
    return fail(
        reason::k_keys_bad_key_file, file.string() + ": not a key reference", file.string());
  }
  return parsed.value;
}

Result<crypto::SigningKey> load_reference(const json::Json& ref, const stdfs::path& private_dir) {
  const auto str = [&](const char* k) {
    const auto it = ref.find(k);
    return it != ref.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (ref.contains("pkcs11")) {
    crypto::Pkcs11Ref p{str("pkcs11"), str("module"), {}};
    const auto pin_env = str("pin_env");
    if (!pin_env.empty()) {
      p.pin = env_value(pin_env);
      if (p.pin.empty()) {
        return fail(reason::k_keys_passphrase_missing,
                    "the PIN variable " + pin_env + " is unset or empty",
                    pin_env);
      }
    }
    return crypto::load_pkcs11_key(p);
  }
  const auto file = str("file");
  if (file.empty() || file.find('/') != std::string::npos) {
    return fail(reason::k_keys_bad_key_file, "a key reference names no key file", file);
  }
  ECLUSE_TRY(pass, passphrase(str("passphrase_env")));
  return crypto::load_pem_key(private_dir / file, pass.view());
}

Result<crypto::SigningKey> load_private(const stdfs::path& dir, const std::string& keyid) {
  ECLUSE_TRY(ref, read_reference(dir, keyid));
  return load_reference(ref, dir / "private");
}

}  // namespace ecluse::keys::detail
