// Terminal-safe rendering of untrusted text.
#include <ecluse/core/printable.hpp>

#include <array>
#include <cstdio>

namespace ecluse {

namespace {

void escape_byte(std::string& out, unsigned char c) {
  std::array<char, 8> buf{};
  std::snprintf(buf.data(), buf.size(), "\\x%02x", c);
  out += buf.data();
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool c1 = c == 0xc2 && i + 1 < text.size()
                    && static_cast<unsigned char>(text[i + 1]) >= 0x80
                    && static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if (c < 0x20 || c == 0x7f) {
      escape_byte(out, c);
    } else if (c1) {
      escape_byte(out, c);
      escape_byte(out, static_cast<unsigned char>(text[++i]));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace ecluse
