// in-toto Statement v1 (in-toto/attestation spec v1): subjects, a predicateType URI and a
// predicate. Statements are serialised once, and those bytes are what a DSSE envelope signs.
// The predicate types ecluse emits are documented in docs/attestations.md.
//
// Reason codes: attest.bad_statement.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ecluse::attest {

inline constexpr std::string_view k_statement_type = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view k_vsa_type = "https://slsa.dev/verification_summary/v1";
inline constexpr std::string_view k_approval_type =
    "https://ecluse.dev/attestation/approval-decision/v1";

// "https://ecluse.dev/attestation/STAGE/v1" (verify, unpack, diff, test, approval).
std::string stage_predicate_type(std::string_view stage);

struct Subject {
  std::string name;    // the artifact's path in the drop's payload
  std::string sha256;  // lowercase hex
};

struct Statement {  // NOLINT(bugprone-exception-escape): members may allocate
  std::vector<Subject> subjects;
  std::string predicate_type;
  json::Json predicate;
};

// The Statement's bytes: pretty JSON with sorted keys, ending in a newline.
std::string serialise(const Statement& s);

// Parses a payload as a Statement v1: _type, a non-empty subject list whose entries carry a
// sha256 digest of 64 lowercase hex digits, a predicateType string and an object predicate.
// Unknown fields are ignored, as the spec says.
Result<Statement> parse_statement(std::string_view payload);

// Does some subject carry this SHA-256 (subjects match by digest only)?
const Subject* match(const Statement& s, std::string_view sha256);

}  // namespace ecluse::attest
