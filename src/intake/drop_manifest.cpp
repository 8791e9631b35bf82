// The drop.json v1 parser. Invariant: every field is type-checked before it is read, so no
// nlohmann accessor can throw, and every defect maps to exactly one reason code.
#include <ecluse/intake/drop_manifest.hpp>

#include <algorithm>
#include <array>
#include <set>

namespace ecluse::intake {

namespace {

using json::Json;

constexpr std::array<std::string_view, 8> k_top_fields{
    "schema", "vendor", "product", "version", "channel", "released", "expires", "artifacts"};
constexpr std::array<std::string_view, 4> k_artifact_fields{"path", "sha256", "size", "contents"};

enum class Kind { string, unsigned_integer, array };

bool has_kind(const Json& v, Kind kind) {
  switch (kind) {
    case Kind::string:
      return v.is_string();
    case Kind::unsigned_integer:
      return v.is_number_unsigned();
    case Kind::array:
      return v.is_array();
  }
  return false;
}

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::string:
      return "a string";
    case Kind::unsigned_integer:
      return "a non-negative integer";
    case Kind::array:
      return "an array";
  }
  return "?";
}

// The field named where (for messages), checked for presence and type.
Result<const Json*> field(const Json& obj,
                          std::string_view key,
                          Kind kind,
                          const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end()) {
    return fail(reason::k_drop_missing_field, "drop.json: missing field '" + where + "'", where);
  }
  if (!has_kind(*it, kind)) {
    return fail(reason::k_drop_wrong_type,
                "drop.json: field '" + where + "' must be " + std::string(kind_name(kind)),
                where);
  }
  return &*it;
}

template <std::size_t N>
Status no_unknown_fields(const Json& obj,
                         const std::array<std::string_view, N>& known,
                         const std::string& prefix) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return fail(reason::k_drop_unknown_field,
                  "drop.json: unknown field " + json::dump_line(prefix + key),
                  prefix + key);
    }
  }
  return {};
}

Result<std::string> name_field(const Json& obj, std::string_view key) {
  ECLUSE_TRY(v, field(obj, key, Kind::string, std::string(key)));
  const auto& s = v->get_ref<const std::string&>();
  if (!is_plain_name(s)) {
    return fail(
        reason::k_drop_bad_name,
        "drop.json: " + std::string(key) + " '" + json::dump_line(s) + "' is not a plain name",
        std::string(key));
  }
  return s;
}

Result<TimePoint> time_value(const Json& v, const std::string& where) {
  const auto t = parse_utc(v.get_ref<const std::string&>());
  if (!t) {
    return fail(reason::k_drop_bad_timestamp,
                "drop.json: " + where + " " + json::dump_line(v) + " is not YYYY-MM-DDTHH:MM:SSZ",
                where);
  }
  return *t;
}

Result<Artifact> parse_artifact(const Json& a, std::size_t index) {
  const std::string at = "artifacts[" + std::to_string(index) + "]";
  if (!a.is_object()) {
    return fail(reason::k_drop_not_object, "drop.json: " + at + " is not an object", at);
  }
  ECLUSE_CHECK(no_unknown_fields(a, k_artifact_fields, at + "."));
  ECLUSE_TRY(path, field(a, "path", Kind::string, at + ".path"));
  ECLUSE_TRY(digest, field(a, "sha256", Kind::string, at + ".sha256"));
  ECLUSE_TRY(size, field(a, "size", Kind::unsigned_integer, at + ".size"));
  Artifact out;
  out.path = path->get<std::string>();
  ECLUSE_CHECK(check_artifact_path(out.path));
  const auto d = crypto::Digest::from_hex(digest->get_ref<const std::string&>());
  if (!d) {
    return fail(reason::k_drop_bad_digest,
                "drop.json: " + at + ".sha256 of '" + out.path + "' is not 64 lowercase hex digits",
                out.path);
  }
  out.sha256 = *d;
  out.size = size->get<std::uint64_t>();
  if (a.contains("contents")) {
    ECLUSE_TRY(contents, field(a, "contents", Kind::array, at + ".contents"));
    out.contents = *contents;
  }
  return out;
}

Result<std::vector<Artifact>> parse_artifacts(const Json& list) {
  if (list.empty()) {
    return fail(reason::k_drop_no_artifacts, "drop.json: the artifacts list is empty", "artifacts");
  }
  std::vector<Artifact> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    ECLUSE_TRY(a, parse_artifact(list[i], i));
    if (!seen.insert(a.path).second) {
      return fail(reason::k_drop_duplicate_artifact,
                  "drop.json: artifact '" + a.path + "' is listed twice",
                  a.path);
    }
    out.push_back(std::move(a));
  }
  return out;
}

Result<Json> parse_top(std::string_view bytes) {
  auto parsed = json::parse_strict(bytes);
  if (parsed.failure == json::ParseFailure::malformed) {
    return fail(reason::k_drop_malformed, "drop.json is not valid JSON", "drop.json");
  }
  if (parsed.failure == json::ParseFailure::duplicate_key) {
    return fail(reason::k_drop_duplicate_key,
                "drop.json repeats the key " + json::dump_line(parsed.detail),
                parsed.detail);
  }
  if (!parsed.value.is_object()) {
    return fail(reason::k_drop_not_object, "drop.json is not a JSON object", "drop.json");
  }
  return std::move(parsed.value);
}

}  // namespace

bool is_plain_name(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  const auto alnum = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  return alnum(name[0]) && std::all_of(name.begin(), name.end(), [&](char c) {
           return alnum(c) || c == '.' || c == '_' || c == '-';
         });
}

namespace {

Result<Version> version_field(const Json& top) {
  ECLUSE_TRY(version, field(top, "version", Kind::string, "version"));
  auto v = Version::parse(version->get_ref<const std::string&>());
  if (!v) {
    return fail(
        reason::k_drop_bad_version,
        "drop.json: version " + json::dump_line(*version) + " is not N[.N[.N[.N]]][-PRERELEASE]",
        "version");
  }
  return std::move(*v);
}

// vendor, product, channel, version, released, expires.
Status parse_identity(const Json& top, DropManifest& m) {
  ECLUSE_TRY(vendor, name_field(top, "vendor"));
  ECLUSE_TRY(product, name_field(top, "product"));
  ECLUSE_TRY(channel, name_field(top, "channel"));
  ECLUSE_TRY(version, version_field(top));
  m.vendor = std::move(vendor);
  m.product = std::move(product);
  m.channel = std::move(channel);
  m.version = std::move(version);
  ECLUSE_TRY(released, field(top, "released", Kind::string, "released"));
  ECLUSE_TRY(released_at, time_value(*released, "released"));
  m.released = released_at;
  if (top.contains("expires")) {
    ECLUSE_TRY(expires, field(top, "expires", Kind::string, "expires"));
    ECLUSE_TRY(expires_at, time_value(*expires, "expires"));
    m.expires = expires_at;
  }
  return {};
}

}  // namespace

Result<DropManifest> parse_drop_manifest(std::string_view bytes) {
  ECLUSE_TRY(top, parse_top(bytes));
  ECLUSE_TRY(schema, field(top, "schema", Kind::string, "schema"));
  if (*schema != k_drop_schema_v1) {
    return fail(reason::k_drop_unknown_schema,
                "drop.json: schema " + json::dump_line(*schema) + " is not \""
                    + std::string(k_drop_schema_v1) + "\"",
                "schema");
  }
  ECLUSE_CHECK(no_unknown_fields(top, k_top_fields, ""));
  DropManifest m;
  ECLUSE_CHECK(parse_identity(top, m));
  ECLUSE_TRY(artifacts, field(top, "artifacts", Kind::array, "artifacts"));
  ECLUSE_TRY(list, parse_artifacts(*artifacts));
  m.artifacts = std::move(list);
  return m;
}

}  // namespace ecluse::intake
