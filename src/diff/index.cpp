// The endpoint index: written once per diffed drop, read back as the next release's baseline.
#include "index.hpp"

#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>

namespace ecluse::diff::detail {

namespace {

constexpr std::string_view k_schema = "ecluse.endpoints/v1";
constexpr std::uint64_t k_max_index_bytes = 1ULL << 30U;

std::optional<EndpointKind> parse_kind(const std::string& s) {
  for (auto k : {EndpointKind::url, EndpointKind::host, EndpointKind::ipv4, EndpointKind::ipv6}) {
    if (to_string(k) == s) {
      return k;
    }
  }
  return std::nullopt;
}

tl::unexpected<Error> corrupt(const std::filesystem::path& file, const std::string& why) {
  return fail(reason::k_store_object_corrupt, file.string() + ": " + why, file.string());
}

std::optional<Endpoint> parse_endpoint(const json::Json& j) {
  if (!j.is_array() || j.size() != 4 || !j[0].is_string() || !j[1].is_string() || !j[2].is_string()
      || !j[3].is_number_unsigned()) {
    return std::nullopt;
  }
  auto kind = parse_kind(j[0].get<std::string>());
  if (!kind) {
    return std::nullopt;
  }
  return Endpoint{
      *kind, j[1].get<std::string>(), j[2].get<std::string>(), j[3].get<std::uint64_t>()};
}

}  // namespace

json::Json index_json(const EndpointIndex& index) {
  auto files = json::Json::object();
  for (const auto& [digest, list] : index) {
    auto arr = json::Json::array();
    for (const auto& e : list) {
      arr.push_back(json::Json::array({to_string(e.kind), e.value, e.host, e.offset}));
    }
    files[digest] = std::move(arr);
  }
  return {{"schema", k_schema}, {"files", std::move(files)}};
}

Result<EndpointIndex> load_index(const std::filesystem::path& file,
                                 const std::string& want_sha256) {
  ECLUSE_TRY(bytes,
             fs::read_file_bounded(
                 file, k_max_index_bytes, reason::k_store_io, reason::k_store_object_corrupt));
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  if (digest.hex() != want_sha256) {
    return corrupt(file, "does not match the digest its diff stage recorded");
  }
  auto parsed = json::parse_strict(bytes);
  const auto& doc = parsed.value;
  if (parsed.failure != json::ParseFailure::none || !doc.is_object()
      || doc.value("schema", std::string()) != k_schema || !doc.contains("files")
      || !doc["files"].is_object()) {
    return corrupt(file, "not an endpoint index");
  }
  EndpointIndex out;
  for (const auto& [key, list] : doc["files"].items()) {
    if (!list.is_array()) {
      return corrupt(file, "entry " + key + " is not a list");
    }
    auto& v = out[key];
    for (const auto& e : list) {
      auto ep = parse_endpoint(e);
      if (!ep) {
        return corrupt(file, "entry " + key + " holds a malformed endpoint");
      }
      v.push_back(std::move(*ep));
    }
  }
  return out;
}

}  // namespace ecluse::diff::detail
