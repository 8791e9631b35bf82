// Terminal-safe rendering of untrusted text: valid UTF-8 passes, except control and
// bidirectional-format characters; every other byte is shown as \xNN.
#include <ecluse/core/printable.hpp>

#include <array>
#include <cstdint>
#include <cstdio>

namespace ecluse {

namespace {

void escape_bytes(std::string& out, std::string_view bytes) {
  for (const char c : bytes) {
    std::array<char, 8> buf{};
    (void)std::snprintf(buf.data(), buf.size(), "\\x%02x", static_cast<unsigned char>(c));
    out += buf.data();
  }
}

// Length of the valid UTF-8 sequence starting at text[i] and its code point; 0 when invalid.
std::size_t decode(std::string_view text, std::size_t i, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  std::size_t len = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
    cp = b0 & 0x1fU;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    cp = b0 & 0x0fU;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    cp = b0 & 0x07U;
  } else {
    return 0;
  }
  if (i + len > text.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xc0U) != 0x80U) {
      return 0;
    }
    cp = (cp << 6U) | (b & 0x3fU);
  }
  const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  const bool invalid = cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff);
  return overlong || invalid ? 0 : len;
}

// C0, DEL, C1, and the characters that reorder or hide text (bidi controls, marks).
bool is_unsafe(std::uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f
         || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = decode(text, i, cp);
    if (len == 0) {
      escape_bytes(out, text.substr(i, 1));
      ++i;
      continue;
    }
    if (is_unsafe(cp)) {
      escape_bytes(out, text.substr(i, len));
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = decode(text, i, cp);
    if (len == 0) {
      return false;
    }
    i += len;
  }
  return true;
}

bool has_unsafe_char(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = decode(text, i, cp);
    if (len != 0 && is_unsafe(cp)) {
      return true;
    }
    i += len == 0 ? 1 : len;
  }
  return false;
}

}  // namespace ecluse
