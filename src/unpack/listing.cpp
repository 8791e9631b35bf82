// The vendor's listing of an archive (drop.json `contents`) against what it really holds.
#include <ecluse/core/printable.hpp>
#include <ecluse/unpack/path_safety.hpp>

#include <map>
#include <set>

#include "checks.hpp"

namespace ecluse::unpack::detail {

namespace {

const std::set<std::string> k_fields{
    "path", "type", "size", "sha256", "mode", "target", "contents"};

tl::unexpected<Error> mismatch(const Reason& r,
                               const std::string& chain,
                               const std::string& path,
                               const std::string& why) {
  const auto item = printable(chain + "//" + path);
  return fail(r, "'" + item + "': " + why, item);
}

tl::unexpected<Error> malformed(const std::string& chain, const std::string& why) {
  const auto item = printable(chain);
  return fail(reason::k_unpack_listing_malformed, "'" + item + "': contents " + why, item);
}

Result<std::uint32_t> listed_mode(const json::Json& m, const std::string& chain) {
  if (m.is_number_unsigned() && m.get<std::uint64_t>() <= 07777) {
    return static_cast<std::uint32_t>(m.get<std::uint64_t>());
  }
  if (m.is_string()) {
    const auto& s = m.get_ref<const std::string&>();
    if (!s.empty() && s.size() <= 5 && s.find_first_not_of("01234567") == std::string::npos) {
      return static_cast<std::uint32_t>(std::stoul(s, nullptr, 8));
    }
  }
  return malformed(chain, "has a mode that is neither octal text nor an integer up to 07777");
}

// The listing of one level, by normalised path.
Result<std::map<std::string, const json::Json*>> index_listing(const json::Json& listing,
                                                               const std::string& chain) {
  if (!listing.is_array()) {
    return malformed(chain, "is not an array");
  }
  std::map<std::string, const json::Json*> out;
  for (const auto& e : listing) {
    if (!e.is_object() || !e.contains("path") || !e["path"].is_string() || !e.contains("type")
        || !e["type"].is_string() || !parse_entry_type(e["type"].get<std::string>())) {
      return malformed(chain, "has an entry without a string path and a known type");
    }
    for (const auto& [key, value] : e.items()) {
      if (!k_fields.contains(key)) {
        return malformed(chain, "has an unknown field '" + printable(key) + "'");
      }
    }
    auto path = check_entry_path(e["path"].get<std::string>(), NameLimits{65536, 65536});
    if (!path || !out.emplace(*path, &e).second) {
      return malformed(
          chain, "lists a bad or repeated path '" + printable(e["path"].get<std::string>()) + "'");
    }
  }
  return out;
}

Status compare_level(const json::Json& listing,
                     const std::vector<Entry>& actual,
                     const std::string& chain);

Status compare_content(const json::Json& l, const Entry& e, const std::string& chain) {
  if ((e.type == EntryType::file || e.type == EntryType::hardlink) && l.contains("size")
      && (!l["size"].is_number_unsigned() || l["size"].get<std::uint64_t>() != e.size)) {
    return mismatch(
        reason::k_unpack_listing_size,
        chain,
        e.path,
        "is " + std::to_string(e.size) + " bytes, the listing says " + l["size"].dump());
  }
  if ((e.type == EntryType::file || e.type == EntryType::hardlink) && l.contains("sha256")
      && l["sha256"] != e.sha256.hex()) {
    return mismatch(
        reason::k_unpack_listing_digest,
        chain,
        e.path,
        "has SHA-256 " + e.sha256.hex() + ", the listing says " + printable(l["sha256"].dump()));
  }
  if (l.contains("mode")) {
    ECLUSE_TRY(mode, listed_mode(l["mode"], chain));
    if (mode != e.mode) {
      return mismatch(
          reason::k_unpack_listing_mode,
          chain,
          e.path,
          "has mode " + mode_string(e.mode) + ", the listing says " + mode_string(mode));
    }
  }
  if (l.contains("target") && !l["target"].is_string()) {
    return malformed(chain, "has a target that is not a string");
  }
  const std::string listed_target = l.contains("target") ? l["target"].get<std::string>() : "";
  if ((e.type == EntryType::symlink || e.type == EntryType::hardlink)
      && listed_target != e.target) {
    return mismatch(reason::k_unpack_listing_target,
                    chain,
                    e.path,
                    "links to '" + printable(e.target) + "', the listing says '"
                        + printable(listed_target) + "'");
  }
  if (l.contains("contents")) {
    return compare_level(l["contents"], e.contents, chain + "//" + e.path);
  }
  return {};
}

Status compare_level(const json::Json& listing,
                     const std::vector<Entry>& actual,
                     const std::string& chain) {
  ECLUSE_TRY(listed, index_listing(listing, chain));
  for (const auto& e : actual) {
    const auto it = listed.find(e.path);
    if (it == listed.end()) {
      return mismatch(
          reason::k_unpack_listing_unlisted, chain, e.path, "is not in the vendor's listing");
    }
    const auto& l = *it->second;
    if (l["type"] != to_string(e.type)) {
      return mismatch(reason::k_unpack_listing_type,
                      chain,
                      e.path,
                      "is a " + std::string(to_string(e.type)) + ", the listing says "
                          + printable(l["type"].get<std::string>()));
    }
    ECLUSE_CHECK(compare_content(l, e, chain));
    listed.erase(it);
  }
  if (!listed.empty()) {
    return mismatch(reason::k_unpack_listing_missing,
                    chain,
                    listed.begin()->first,
                    "is in the vendor's listing but not in the archive");
  }
  return {};
}

}  // namespace

Status check_listing(const json::Json& listing, const Entry& artifact) {
  return compare_level(listing, artifact.contents, artifact.path);
}

}  // namespace ecluse::unpack::detail
