// Making untrusted text safe to show on a terminal.
#pragma once

#include <string>
#include <string_view>

namespace ecluse {

// Replaces control characters (C0, DEL, and the C1 range as UTF-8 U+0080..U+009F) with \xNN
// escapes, so a vendor-chosen name cannot move the cursor, recolour or rewrite the screen.
std::string printable(std::string_view text);

}  // namespace ecluse
