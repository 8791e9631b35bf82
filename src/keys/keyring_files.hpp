// Private to src/keys: the files of keys/ (private key references, PEM files, the lock).
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/signing.hpp>

#include <filesystem>
#include <string>

namespace ecluse::keys::detail {

// A key file or document of keys/ (at most 1 MiB): keys.unreadable.
Result<std::string> read_small(const std::filesystem::path& file);

bool file_exists(const std::filesystem::path& p);

// keys/.lock, held exclusively while a change is made.
Result<fs::UniqueFd> lock_keys(const std::filesystem::path& dir);

// The value of the environment variable `var` (empty var: no passphrase);
// keys.passphrase_missing when var is named but unset or empty.
Result<crypto::Secret> passphrase(const std::string& var);

// Writes keys/private/KEYID.pem (0600) and its reference KEYID.json.
Status write_pem(const std::filesystem::path& dir,
                 const std::string& keyid,
                 std::string_view pem,
                 const std::string& passphrase_env);
Status write_reference(const std::filesystem::path& dir,
                       const std::string& keyid,
                       const json::Json& ref);
Result<json::Json> read_reference(const std::filesystem::path& dir, const std::string& keyid);

// The private key a reference names (a PEM file under dir/private, or a PKCS#11 object).
Result<crypto::SigningKey> load_reference(const json::Json& ref,
                                          const std::filesystem::path& private_dir);
// keys/private/KEYID.json's key (keys.private_missing when there is no reference).
Result<crypto::SigningKey> load_private(const std::filesystem::path& dir, const std::string& keyid);

}  // namespace ecluse::keys::detail
