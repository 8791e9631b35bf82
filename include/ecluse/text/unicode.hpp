// Unicode comparisons of names (ICU stays behind this header, in src/text/).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ecluse::text {

// The key under which two names are "the same" to a case-insensitive or normalising file
// system (macOS, Windows, git's core.ignorecase / core.precomposeunicode): NFKC_Casefold of the
// name. nullopt when name is not valid UTF-8 or ICU fails.
std::optional<std::string> fold_key(std::string_view name);

}  // namespace ecluse::text
