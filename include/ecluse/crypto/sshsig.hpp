// SSH signatures (OpenSSH PROTOCOL.sshsig) made and checked with OpenSSL: what git writes
// for `gpg.format=ssh` commit and tag signatures, so that stock `git verify-commit` and
// `git verify-tag` (through `ssh-keygen -Y verify` and an allowed-signers file) accept them.
//
// Reason codes: sshsig.malformed, sshsig.invalid, keys.unsupported_type, internal.crypto.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/crypto/signing.hpp>
#include <ecluse/crypto/x509.hpp>

#include <string>
#include <string_view>

namespace ecluse::crypto::ssh {

// The key in SSH wire format (RFC 4253 §6.6, RFC 5656 §3.1): "ssh-ed25519",
// "ecdsa-sha2-nistp256" or "ssh-rsa". keys.unsupported_type for other keys.
Result<std::string> public_key_blob(const PublicKey& key);

// One line as in authorized_keys: "TYPE BASE64" (no comment).
Result<std::string> public_key_line(const PublicKey& key);

// The public key an SSH wire-format blob holds (sshsig.malformed when it is not one of the
// three types, or trailing bytes follow).
Result<PublicKey> parse_public_key_blob(std::string_view blob);

// An armored signature ("-----BEGIN SSH SIGNATURE-----" …, 70-column base64, trailing
// newline) over message, in namespace ns, with hash sha512: for RSA keys rsa-sha2-512
// (PKCS#1 v1.5), for ECDSA P-256 SHA-256 with r and s as mpints, for Ed25519 plain Ed25519.
Result<std::string> sign(const SigningKey& key, std::string_view message, std::string_view ns);

// Checks an armored signature over message in namespace ns and returns the key that made it:
// sshsig.malformed for anything that is not a well-formed SSHSIG (version 1, hash sha512 or
// sha256, the signature's algorithm matching the key's), sshsig.invalid when it does not
// verify (other message, other namespace, bad signature). The caller decides whether it
// trusts the returned key. Never throws, never reads past the input.
Result<PublicKey> verify(std::string_view armored, std::string_view message, std::string_view ns);

}  // namespace ecluse::crypto::ssh
