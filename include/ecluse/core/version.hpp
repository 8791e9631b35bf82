// Vendor version strings: N[.N[.N[.N]]][-PRERELEASE], totally ordered for rollback checks.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse {

// The version of ecluse itself (--version, the verifier of verification summaries).
inline constexpr std::string_view k_ecluse_version = "0.1.0";

class Version {
 public:
  // Parses 1 to 4 dot-separated numbers (no leading zeros, at most 9 digits each), then an
  // optional '-' and dot-separated [0-9A-Za-z-] identifiers (semver 2.0 pre-release rules).
  static std::optional<Version> parse(std::string_view text);

  [[nodiscard]] const std::string& text() const { return m_text; }

  // Semver precedence: numbers compared numerically (missing ones are 0); a pre-release sorts
  // before the release; pre-release identifiers numerically when numeric, else by ASCII.
  friend std::strong_ordering operator<=>(const Version& a, const Version& b);

  friend bool operator==(const Version& a, const Version& b) { return std::is_eq(a <=> b); }

 private:
  std::string m_text;
  std::vector<std::uint32_t> m_numbers;
  std::vector<std::string> m_prerelease;
};

}  // namespace ecluse
