// Private helpers of the HTML report: tolerant JSON lookups, escaping and number formatting.
#pragma once

#include <ecluse/core/json.hpp>
#include <ecluse/core/printable.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse::report::detail {

using json::Json;

// The member key of j, or nullptr when j is not an object or lacks it (never throws, unlike
// Json::value and operator[] on a const document).
inline const Json* member(const Json& j, std::string_view key) {
  if (!j.is_object()) {
    return nullptr;
  }
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

// The member key of j, or a null value when missing (so lookups in it yield nothing).
inline const Json& child(const Json& j, std::string_view key) {
  static const Json k_null;
  const auto* v = member(j, key);
  return v != nullptr ? *v : k_null;
}

// A string member, or empty when missing or of another type.
inline std::string_view str(const Json& j, std::string_view key) {
  const auto* v = member(j, key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_ref<const std::string&>())
                                        : std::string_view{};
}

// A number member as a (clamped) integer, or nothing when missing, mistyped or not finite.
inline std::optional<std::int64_t> num(const Json& j, std::string_view key) {
  const auto* v = member(j, key);
  if (v == nullptr) {
    return std::nullopt;
  }
  constexpr auto k_max = std::numeric_limits<std::int64_t>::max();
  if (v->is_number_unsigned()) {
    const auto u = v->get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(k_max) ? k_max : static_cast<std::int64_t>(u);
  }
  if (v->is_number_integer()) {
    return v->get<std::int64_t>();
  }
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::isfinite(d) && std::fabs(d) < 9.0e18) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::nullopt;
}

// A number member as a double, or nothing.
inline std::optional<double> real(const Json& j, std::string_view key) {
  const auto* v = member(j, key);
  if (v == nullptr || !v->is_number()) {
    return std::nullopt;
  }
  const double d = v->get<double>();
  return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
}

// j itself when it is an array, else an empty array.
inline const Json& as_list(const Json& j) {
  static const Json k_empty = Json::array();
  return j.is_array() ? j : k_empty;
}

// An array member, or an empty array when missing or of another type.
inline const Json& list(const Json& j, std::string_view key) {
  static const Json k_none;
  const auto* v = member(j, key);
  return as_list(v != nullptr ? *v : k_none);
}

// Appends already printable text with the five HTML metacharacters as entities, which keeps
// it text both in element content and inside a double- or single-quoted attribute.
inline void escape_into(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
}

// Appends untrusted text: controls, bidi overrides and invalid UTF-8 shown as \xNN (so a name
// cannot visually reorder the page), then HTML-escaped.
inline void put(std::string& out, std::string_view untrusted) {
  escape_into(out, printable(untrusted));
}

// Untrusted text, or an em dash when it is empty.
inline void put_or_dash(std::string& out, std::string_view untrusted) {
  if (untrusted.empty()) {
    out += "\xe2\x80\x94";
  } else {
    put(out, untrusted);
  }
}

// A coloured badge; only a value from the known list picks a CSS class.
inline void badge(std::string& out,
                  std::string_view prefix,
                  std::string_view value,
                  std::initializer_list<std::string_view> known) {
  out += "<span class=\"badge";
  if (std::find(known.begin(), known.end(), value) != known.end()) {
    out += ' ';
    out += prefix;
    out += value;
  }
  out += "\">";
  put_or_dash(out, value);
  out += "</span>";
}

// Keeps the first and last characters of long (valid UTF-8) text around an ellipsis.
inline std::string shorten(const std::string& text, std::size_t max_chars) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0U) != 0x80U) {
      starts.push_back(i);
    }
  }
  if (starts.size() <= max_chars || max_chars < 3) {
    return text;
  }
  const std::size_t head = (max_chars - 1) / 2;
  const std::size_t tail = max_chars - 1 - head;
  return text.substr(0, starts[head]) + "\xe2\x80\xa6" + text.substr(starts[starts.size() - tail]);
}

inline std::uint64_t magnitude(std::int64_t v) {
  return v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
}

// a - b, saturated at the int64 limits: the numbers come from an untrusted document.
inline std::int64_t difference(std::int64_t a, std::int64_t b) {
  std::int64_t d = 0;
  if (__builtin_sub_overflow(a, b, &d)) {
    return b < 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return d;
}

// 1234567 -> "1,234,567"; negative numbers keep their sign.
inline std::string grouped(std::int64_t v) {
  const std::string digits = std::to_string(magnitude(v));
  std::string out = v < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return out;
}

// Bytes for people: "812 B", "4.2 KiB", "1.5 GiB"; signed adds "+" or a minus sign.
inline std::string human_bytes(std::int64_t v, bool is_signed) {
  std::string sign = v < 0 ? "\xe2\x88\x92" : (is_signed && v > 0 ? "+" : "");
  const std::uint64_t m = magnitude(v);
  if (m < 1024) {
    return sign + std::to_string(m) + " B";
  }
  constexpr auto k_units =
      std::to_array<std::string_view>({"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"});
  double scaled = static_cast<double>(m) / 1024.0;
  std::size_t unit = 0;
  while (scaled >= 1024.0 && unit + 1 < k_units.size()) {
    scaled /= 1024.0;
    ++unit;
  }
  std::array<char, 32> buf{};
  (void)std::snprintf(buf.data(), buf.size(), "%.1f ", scaled);
  return sign + buf.data() + std::string(k_units.at(unit));
}

// A coordinate for SVG, one decimal.
inline std::string coord(double v) {
  std::array<char, 32> buf{};
  (void)std::snprintf(buf.data(), buf.size(), "%.1f", v);
  return buf.data();
}

// Opens a section with its title and item count.
inline void section_heading(std::string& out,
                            std::string_view id,
                            std::string_view title,
                            std::size_t n) {
  out += "<section id=\"";
  out += id;
  out += "\"><h2>";
  out += title;
  out += " <span class=\"count\">" + grouped(static_cast<std::int64_t>(n)) + "</span></h2>\n";
}

// Says how many rows a capped table leaves out.
inline void cap_note(std::string& out,
                     std::size_t total,
                     std::size_t shown,
                     std::string_view what) {
  if (total <= shown) {
    return;
  }
  out += "<p class=\"note cap\">Showing the first " + grouped(static_cast<std::int64_t>(shown))
         + " of " + grouped(static_cast<std::int64_t>(total)) + " ";
  out += what;
  out += "; " + grouped(static_cast<std::int64_t>(total - shown))
         + " left out of this page (diff.json lists them all).</p>\n";
}

// Bytes for people, or empty when the value is missing.
inline std::string bytes_of(std::optional<std::int64_t> v, bool is_signed) {
  return v ? human_bytes(*v, is_signed) : std::string();
}

}  // namespace ecluse::report::detail
