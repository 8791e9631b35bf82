// Private to endpoints.cpp and endpoint_match.cpp: the character classes and the matchers for
// URLs, host names and IP literals. The heuristics they implement are listed in the file
// comment of endpoints.cpp (keep it in sync).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ecluse::diff::detail {

inline constexpr std::size_t k_max_host = 253;

inline constexpr unsigned k_printable = 1U;
inline constexpr unsigned k_alpha = 2U;
inline constexpr unsigned k_digit = 4U;
inline constexpr unsigned k_hex = 8U;
inline constexpr unsigned k_token = 16U;     // host-name token: [A-Za-z0-9._-]
inline constexpr unsigned k_word = 32U;      // [A-Za-z0-9_]
inline constexpr unsigned k_url_stop = 64U;  // ends a URL

constexpr unsigned char_flags(unsigned c) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  const bool digit = c >= '0' && c <= '9';
  const bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  const bool stop = c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '`' || c == '<'
                    || c == '>' || c == '\\';
  unsigned f = 0;
  f |= ((c >= 0x20 && c <= 0x7e) || c == '\t') ? k_printable : 0U;
  f |= alpha ? k_alpha : 0U;
  f |= digit ? k_digit : 0U;
  f |= hex ? k_hex : 0U;
  f |= (alpha || digit || c == '.' || c == '-' || c == '_') ? k_token : 0U;
  f |= (alpha || digit || c == '_') ? k_word : 0U;
  f |= stop ? k_url_stop : 0U;
  return f;
}

constexpr std::array<std::uint8_t, 256> make_char_table() {
  std::array<std::uint8_t, 256> t{};
  for (unsigned c = 0; c < t.size(); ++c) {
    t.at(c) = static_cast<std::uint8_t>(char_flags(c));
  }
  return t;
}

inline constexpr auto k_chars = make_char_table();

inline bool has(char c, unsigned flag) {
  return (k_chars.at(static_cast<unsigned char>(c)) & flag) != 0U;
}

inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower_copy(std::string_view s);

// A run of text with the byte offset of each character (stride 2 for UTF-16LE).
struct Run {
  std::string_view text;
  std::uint64_t base = 0;
  std::uint64_t stride = 1;
  std::string_view prev_word;  // last word of the previous run when it ends just before this one

  [[nodiscard]] std::uint64_t offset(std::size_t k) const { return base + k * stride; }
};

// ---- host names and IP literals -------------------------------------------------------

// A host name by the rules in the file comment (labels, TLD list, namespace roots).
bool is_host_name(std::string_view h);

// Four decimal octets 0-255 without leading zeros.
bool is_ipv4(std::string_view s);

// "::" or exactly 7 colons, at least 2 non-empty groups, a decimal digit ("be::ef" is a C++
// scope), and inet_pton agrees.
bool is_ipv6(std::string_view s);

// Address bytes tagged with the family, or empty when s is no IP literal.
std::string ip_bytes(std::string_view s);

// Is the token at k the value of a "version" key (same run, or the run just before) or a
// section number ("section 8.1.5.1", "clause 5.2.1.9")?
bool after_number_word(const Run& run, std::size_t k);

// Dotted quads that are numbers of another kind: "[5.2.1.9]" clauses, OIDs under 1.2, 1.3
// (ISO member bodies, identified organisations) and 2.5 (X.500 attributes, X.509 extensions).
bool other_number(std::string_view quad, std::string_view before, std::string_view after);

// ---- URLs ----------------------------------------------------------------------------

struct UrlMatch {
  std::size_t begin = 0;  // the scheme's first character
  std::size_t end = 0;    // one past the last character found
  std::string value;
  std::string host;
};

// The URL whose "://" is at colon, its scheme starting at or after floor.
std::optional<UrlMatch> parse_url(std::string_view s, std::size_t colon, std::size_t floor);

// ---- allow-list matching -------------------------------------------------------------

// Lowercased, without trailing dots and without the brackets of "[v6]".
std::string normalise_host(std::string_view h);

// A last label of digits: an address or a malformed one, never a domain to match below.
bool numeric_tld(std::string_view h);

}  // namespace ecluse::diff::detail
