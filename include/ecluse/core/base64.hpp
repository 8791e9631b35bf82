// Base64 (RFC 4648, standard alphabet, with padding), strict: the decoder refuses any
// character outside the alphabet, bad padding and non-zero trailing bits.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ecluse {

std::string base64_encode(std::string_view bytes);

// Decodes text; ASCII whitespace (space, tab, CR, LF) is skipped. nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ecluse
