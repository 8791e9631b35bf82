// Making untrusted text safe to show on a terminal.
#pragma once

#include <string>
#include <string_view>

namespace ecluse {

// Shows every byte that is not valid UTF-8, and every control (C0, DEL, C1) or bidirectional
// formatting character, as \xNN escapes, so a vendor-chosen name cannot move the cursor,
// recolour, rewrite or visually reorder the screen.
std::string printable(std::string_view text);

// Is text entirely well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)?
bool is_valid_utf8(std::string_view text);

// Does text hold a control (C0, DEL, C1) or bidirectional-format character? Bytes that are
// not valid UTF-8 are not characters and do not count.
bool has_unsafe_char(std::string_view text);

}  // namespace ecluse
