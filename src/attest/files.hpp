// Private to src/attest: the files the sign stage writes into quarantine/drops/ID/.
#pragma once

#include <ecluse/core/error.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace ecluse::attest::detail {

// Writes drop_dir/rel durably (creating its directories); the SHA-256 of bytes, hex.
Result<std::string> write_evidence_file(const std::filesystem::path& drop_dir,
                                        const std::string& rel,
                                        std::string_view bytes);

// Does drop_dir/rel still hash to sha256? store.object_missing / store.object_corrupt.
Status check_evidence_file(const std::filesystem::path& drop_dir,
                           const std::string& rel,
                           const std::string& sha256);

}  // namespace ecluse::attest::detail
