// DSSE envelopes (secure-systems-lab/dsse, protocol v1.0.2): signing, strict parsing and
// threshold verification of {"payload", "payloadType", "signatures"} JSON envelopes.
//
// What is signed is PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body,
// lengths in bytes as ASCII decimal (protocol.md "Signature Definition"). The payload is
// serialised once by the caller; those exact bytes are signed, stored and, after
// verification, the only bytes handed back (never re-read from the file).
//
// keyid is an unauthenticated hint (protocol.md: it "MUST NOT be used for security
// decisions"): it orders which keys are tried, never decides trust. A threshold counts
// distinct trusted keys whose signature verifies (protocol.md "Multi-signature
// Verification"); a key that signs twice (or two signatures with one keyid) counts once.
//
// Reason codes: attest.bad_envelope, attest.payload_type, attest.signature_invalid,
// attest.unknown_key, attest.revoked_key, attest.threshold, keys.unsupported_type,
// internal.crypto, internal.error.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/crypto/signing.hpp>
#include <ecluse/crypto/x509.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse::crypto::dsse {

inline constexpr std::string_view k_in_toto_type = "application/vnd.in-toto+json";

// Largest envelope parse() accepts.
inline constexpr std::size_t k_max_envelope_bytes = 16U << 20U;

// Most signatures one envelope may carry: verification tries every known key for each
// signature, so the count bounds the work a hostile envelope can cause.
inline constexpr std::size_t k_max_signatures = 64;

// The Pre-Authentication Encoding of DSSE v1. Never fails; type and body are raw bytes.
std::string pae(std::string_view type, std::string_view body);

struct Signature {
  std::string keyid;  // may be empty
  std::string sig;    // raw signature bytes (decoded)
};

struct Envelope {
  std::string payload_type;
  std::string payload;  // decoded bytes
  std::vector<Signature> signatures;
};

// {"payload": base64, "payloadType": …, "signatures": [{"keyid": …, "sig": base64}]}, standard
// base64 with padding, keys sorted, ASCII only (non-ASCII escaped), one line, ending in a
// newline. payload_type must be valid UTF-8 for the result to parse back (sign() checks it).
std::string serialise(const Envelope& e);

// Parses an envelope strictly: at most k_max_envelope_bytes of a JSON object (no duplicate
// keys) with a string payloadType, a string payload in standard or URL-safe base64 (padded
// or not), and a non-empty signatures array (at most k_max_signatures) of objects, each with
// a non-empty base64 sig and an optional string keyid. Unknown fields are ignored (DSSE
// envelope.md "Parsing rules"). Any other base64 character, whitespace included, is refused.
// attest.bad_envelope names what is wrong, with `item` as the file name.
Result<Envelope> parse(std::string_view text, const std::string& item);

// Signs PAE(payload_type, payload) with each key (in order): keyid = the key's id.
// internal.error when keys is empty or payload_type is not UTF-8 (a caller's bug);
// internal.crypto when a key fails to sign.
Result<Envelope> sign(std::string payload_type,
                      std::string payload,
                      std::span<const SigningKey* const> keys);

// A key the verifier knows, with its standing.
struct KnownKey {
  PublicKey key;
  bool revoked = false;  // a key id listed twice is revoked if either entry is
};

struct Verified {
  std::string payload_type;
  std::string payload;               // the verified bytes
  std::vector<std::string> signers;  // distinct key ids that verified and count
  std::vector<std::string> revoked;  // distinct revoked key ids whose signature verified
  std::size_t signatures = 0;        // signatures in the envelope
};

// Verifies e against keys: the payload type must equal expected_type (attest.payload_type),
// checked first; an envelope with no or more than k_max_signatures signatures is
// attest.bad_envelope. Then each signature is checked over PAE with the known keys: the
// keys whose id equals its keyid first, then every other key. Fewer than threshold (at least
// 1) distinct unrevoked signers fails with the most telling reason:
//   attest.signature_invalid  no signature verifies with a known key and some keyid names one;
//   attest.unknown_key        no keyid names and no signature verifies with a known key;
//   attest.revoked_key        only revoked keys verified;
//   attest.threshold          otherwise (some, but too few, distinct trusted signers).
// The message says how many distinct valid signers were found and needed and names key id
// prefixes. A known key ecluse has no scheme for (keys.unsupported_type) or an OpenSSL
// failure (internal.crypto) fails the whole verification: the key list's fault, not the
// envelope's.
Result<Verified> verify(const Envelope& e,
                        std::span<const KnownKey> keys,
                        std::size_t threshold,
                        std::string_view expected_type);

}  // namespace ecluse::crypto::dsse
