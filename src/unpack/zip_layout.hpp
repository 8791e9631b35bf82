// The byte layout of a zip file, checked before libarchive reads it: libarchive (like most
// readers) trusts the central directory without looking at how entries sit in the file.
// Private to src/unpack/.
#pragma once

#include <ecluse/core/error.hpp>

#include <cstdint>
#include <string>

namespace ecluse::unpack::detail {

// Refuses entries whose local header and data overlap another entry or the central directory
// (unpack.zip_overlap: a non-recursive zip bomb), local headers that disagree with the central
// directory on name, method or sizes (unpack.zip_name_mismatch), names with a backslash
// (unpack.path_backslash), bytes after the end record and its comment (unpack.trailing_data),
// more than max_entries entries (unpack.too_many_entries), and structures that do not fit in
// the file (unpack.corrupt, unpack.truncated).
Status check_zip_layout(int fd,
                        std::uint64_t size,
                        const std::string& item,
                        std::uint64_t max_entries);

}  // namespace ecluse::unpack::detail
