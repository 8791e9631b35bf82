// Checks on a whole level of an archive once its entries are known: names and modes (findings
// for the policy stage), duplicates, and the vendor's listing. Private to src/unpack/.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/unpack/tree.hpp>

#include <string>
#include <vector>

namespace ecluse::unpack::detail {

struct NameFinding {
  const Reason* reason;
  std::string item;  // printable chain//path
  std::string detail;
};

// Invalid UTF-8, control characters, NFKC-casefold collisions, '.git' / '.gitmodules'
// components, setuid/setgid and world-writable modes, of one level's entries. `chain` names the
// archive ("app.tar.gz" or "app.tar.gz//inner.zip").
void name_findings(const std::vector<Entry>& level,
                   const std::string& chain,
                   std::vector<NameFinding>& out);

// Collapses entries repeated with identical content, type, mode and target (keeping the first),
// and reports repeats that differ (unpack.duplicate_entry). level must be sorted by path.
void merge_duplicates(std::vector<Entry>& level,
                      const std::string& chain,
                      std::vector<NameFinding>& out);

// Compares an artifact's unpacked entries with the vendor's listing (drop.json `contents`),
// recursively: unpack.listing_malformed, .listing_missing, .listing_unlisted, .listing_digest,
// .listing_size, .listing_type, .listing_mode, .listing_target.
Status check_listing(const json::Json& listing, const Entry& artifact);

}  // namespace ecluse::unpack::detail
