// JSON helpers around nlohmann/json that never throw: strict parsing and stable serialisation.
#pragma once

#include <ecluse/core/error.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace ecluse::json {

using Json = nlohmann::json;

enum class ParseFailure { none, malformed, duplicate_key };

struct ParseOutcome {  // NOLINT(bugprone-exception-escape): members may allocate
  Json value;
  ParseFailure failure = ParseFailure::none;
  std::string detail;  // the duplicated key, or the parser's byte position
};

// Parses text strictly: invalid JSON or UTF-8, nesting deeper than 64 levels and any object
// that repeats a key are failures.
// Never throws.
ParseOutcome parse_strict(std::string_view text);

// Serialises compactly with sorted keys, ASCII only (non-ASCII escaped as \uXXXX) and invalid
// UTF-8 replaced, so the output is one line that no embedded string can break. Never throws.
std::string dump_line(const Json& value);

// Serialises for people: two-space indent, sorted keys, ASCII only (safe on a terminal).
// Never throws.
std::string dump_pretty(const Json& value);

// OLPC canonical JSON (wiki.laptop.org/go/Canonical_JSON), the form TUF signs: object keys
// sorted by their UTF-8 bytes, no whitespace, strings with only `\\` and `"` escaped and every
// other byte as is, integers only. nullopt for a value that has no canonical form (a
// floating-point number). Never throws.
std::optional<std::string> canonical(const Json& value);

}  // namespace ecluse::json
