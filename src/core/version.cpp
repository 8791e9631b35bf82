// Parsing and ordering of vendor version strings.
#include <ecluse/core/version.hpp>

#include <algorithm>

namespace ecluse {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::uint32_t> parse_number(std::string_view s) {
  if (!all_digits(s) || s.size() > 9 || (s.size() > 1 && s[0] == '0')) {
    return std::nullopt;
  }
  std::uint32_t v = 0;
  for (const char c : s) {
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return v;
}

bool valid_identifier(std::string_view s) {
  const auto ok = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
  };
  if (s.empty() || !std::all_of(s.begin(), s.end(), ok)) {
    return false;
  }
  return !(all_digits(s) && s.size() > 1 && s[0] == '0');
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const auto pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) {
      return parts;
    }
    start = pos + 1;
  }
}

std::strong_ordering compare_identifier(const std::string& a, const std::string& b) {
  const bool na = all_digits(a);
  const bool nb = all_digits(b);
  if (na && nb) {
    return a.size() != b.size() ? a.size() <=> b.size() : a.compare(b) <=> 0;
  }
  if (na != nb) {
    return na ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  return a.compare(b) <=> 0;
}

}  // namespace

std::optional<Version> Version::parse(std::string_view text) {
  if (text.empty() || text.size() > 128) {
    return std::nullopt;
  }
  Version v;
  v.m_text = std::string(text);
  const auto dash = text.find('-');
  const auto numbers = split(text.substr(0, dash), '.');
  if (numbers.size() > 4) {
    return std::nullopt;
  }
  for (const auto part : numbers) {
    const auto n = parse_number(part);
    if (!n) {
      return std::nullopt;
    }
    v.m_numbers.push_back(*n);
  }
  if (dash != std::string_view::npos) {
    for (const auto id : split(text.substr(dash + 1), '.')) {
      if (!valid_identifier(id)) {
        return std::nullopt;
      }
      v.m_prerelease.emplace_back(id);
    }
  }
  return v;
}

std::strong_ordering operator<=>(const Version& a, const Version& b) {
  for (std::size_t i = 0; i < 4; ++i) {
    const std::uint32_t x = i < a.m_numbers.size() ? a.m_numbers[i] : 0;
    const std::uint32_t y = i < b.m_numbers.size() ? b.m_numbers[i] : 0;
    if (x != y) {
      return x <=> y;
    }
  }
  if (a.m_prerelease.empty() != b.m_prerelease.empty()) {
    return a.m_prerelease.empty() ? std::strong_ordering::greater : std::strong_ordering::less;
  }
  const std::size_t n = std::min(a.m_prerelease.size(), b.m_prerelease.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = compare_identifier(a.m_prerelease[i], b.m_prerelease[i]);
    if (std::is_neq(c)) {
      return c;
    }
  }
  return a.m_prerelease.size() <=> b.m_prerelease.size();
}

}  // namespace ecluse
