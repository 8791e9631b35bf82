// Making untrusted text safe to show on a terminal.
#pragma once

#include <string>
#include <string_view>

namespace ecluse {

// Shows every byte that is not valid UTF-8, and every control (C0, DEL, C1) or bidirectional
// formatting character, as \xNN escapes, so a vendor-chosen name cannot move the cursor,
// recolour, rewrite or visually reorder the screen.
std::string printable(std::string_view text);

}  // namespace ecluse
