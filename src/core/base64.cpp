// Base64 per RFC 4648 section 4, decoded strictly.
#include <ecluse/core/base64.hpp>

#include <array>
#include <cstdint>

namespace ecluse {

namespace {

constexpr std::string_view k_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
  const auto pos = k_alphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v =
        (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16U)
        | (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8U)
        | static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(k_alphabet[(v >> 18U) & 63U]);
    out.push_back(k_alphabet[(v >> 12U) & 63U]);
    out.push_back(k_alphabet[(v >> 6U) & 63U]);
    out.push_back(k_alphabet[v & 63U]);
  }
  const auto rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16U;
    if (rest == 2) {
      v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8U;
    }
    out.push_back(k_alphabet[(v >> 18U) & 63U]);
    out.push_back(k_alphabet[(v >> 12U) & 63U]);
    out.push_back(rest == 2 ? k_alphabet[(v >> 6U) & 63U] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string chars;
  chars.reserve(text.size());
  for (const char c : text) {
    if (!is_space(c)) {
      chars.push_back(c);
    }
  }
  if (chars.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(chars.size() / 4 * 3);
  for (std::size_t i = 0; i < chars.size(); i += 4) {
    const bool last = i + 4 == chars.size();
    const int pad = (chars[i + 3] == '=' ? 1 : 0) + (chars[i + 2] == '=' ? 1 : 0);
    if ((pad > 0 && !last) || (chars[i + 2] == '=' && chars[i + 3] != '=')) {
      return std::nullopt;
    }
    std::array<int, 4> s{sextet(chars[i]),
                         sextet(chars[i + 1]),
                         pad == 2 ? 0 : sextet(chars[i + 2]),
                         pad >= 1 ? 0 : sextet(chars[i + 3])};
    for (const int v : s) {
      if (v < 0) {
        return std::nullopt;
      }
    }
    const auto v = (static_cast<std::uint32_t>(s[0]) << 18U)
                   | (static_cast<std::uint32_t>(s[1]) << 12U)
                   | (static_cast<std::uint32_t>(s[2]) << 6U) | static_cast<std::uint32_t>(s[3]);
    const std::uint32_t trailing = pad == 2 ? (v & 0xffffU) : pad == 1 ? (v & 0xffU) : 0U;
    if (trailing != 0) {
      return std::nullopt;  // non-canonical: bits set beyond the last byte
    }
    out.push_back(static_cast<char>((v >> 16U) & 0xffU));
    if (pad < 2) {
      out.push_back(static_cast<char>((v >> 8U) & 0xffU));
    }
    if (pad < 1) {
      out.push_back(static_cast<char>(v & 0xffU));
    }
  }
  return out;
}

}  // namespace ecluse
