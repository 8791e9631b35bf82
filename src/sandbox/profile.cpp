// Sandbox profiles: strict validation of every field before a single option reaches bwrap.
// Invariant: nothing that could be read as a bwrap option or escape a bound path gets through
// (absolute, normalised paths without control characters; names from small alphabets).
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/sandbox/profile.hpp>

#include <algorithm>
#include <array>

#include "embedded.hpp"
#include "profile_fields.hpp"

namespace ecluse::sandbox {

namespace {

constexpr std::string_view k_schema = "ecluse.sandbox-profile/v1";
constexpr std::uint64_t k_max_doc_bytes = 1U << 20U;

tl::unexpected<Error> invalid(const std::string& field, const std::string& why) {
  return fail(reason::k_sandbox_bad_profile, "profile: " + field + ": " + why, field);
}

// Places the sandbox builds itself: a runtime bind may not cover or replace them.
bool reserved(const std::string& p) {
  static constexpr std::array<std::string_view, 9> k_reserved{
      "/proc", "/dev", "/sys", "/etc", "/drop", "/work", "/out", "/tmp", "/run"};
  return p == "/" || std::any_of(k_reserved.begin(), k_reserved.end(), [&](std::string_view r) {
           return p == r
                  || (p.size() > r.size() && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/');
         });
}

Result<std::vector<std::string>> parse_paths(const json::Json& j, const std::string& field) {
  if (!j.is_array() || j.size() > 64) {
    return invalid(field, "must be an array of at most 64 absolute paths");
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto at = field + "[" + std::to_string(i) + "]";
    if (!j[i].is_string() || !detail::valid_sandbox_path(j[i].get<std::string>())) {
      return invalid(at, "not an absolute, normalised path of printable characters");
    }
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

Status parse_runtime(const json::Json& j, Profile& p) {
  ECLUSE_TRY(paths, parse_paths(j, "runtime"));
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (reserved(paths[i])) {
      return invalid("runtime[" + std::to_string(i) + "]",
                     "'" + paths[i] + "' is a place the sandbox builds itself");
    }
  }
  p.runtime = std::move(paths);
  return {};
}

Status parse_etc(const json::Json& j, Profile& p) {
  ECLUSE_TRY(paths, parse_paths(j, "etc"));
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const auto& f = paths[i];
    if (f.rfind("/etc/", 0) != 0 || detail::generated_etc_file(f)) {
      return invalid("etc[" + std::to_string(i) + "]",
                     "must be a file under /etc/ other than the ones the sandbox writes (hosts, "
                     "resolv.conf, nsswitch.conf, passwd, group)");
    }
  }
  p.etc = std::move(paths);
  return {};
}

Status parse_env(const json::Json& j, Profile& p) {
  if (!j.is_object() || j.size() > 64) {
    return invalid("env", "must be an object of at most 64 NAME → value strings");
  }
  for (const auto& [key, value] : j.items()) {
    if (!detail::valid_env_name(key) || key.rfind("LD_", 0) == 0 || key.rfind("FAKETIME", 0) == 0) {
      return invalid("env." + key,
                     "not an allowed variable name (LD_* and FAKETIME* are ecluse's)");
    }
    if (!value.is_string() || !detail::valid_env_value(value.get<std::string>())) {
      return invalid("env." + key, "must be a string of at most 4096 printable characters");
    }
    p.env[key] = value.get<std::string>();
  }
  return {};
}

Status parse_field(const std::string& key, const json::Json& value, Profile& p) {
  if (key == "schema") {
    if (!value.is_string() || value.get<std::string>() != k_schema) {
      return invalid("schema", "must be \"" + std::string(k_schema) + "\"");
    }
    return {};
  }
  if (key == "runtime") {
    return parse_runtime(value, p);
  }
  if (key == "etc") {
    return parse_etc(value, p);
  }
  if (key == "env") {
    return parse_env(value, p);
  }
  if (key == "limits") {
    return detail::parse_limits(value, p.limits);
  }
  if (key == "suite") {
    if (!value.is_string()
        || (value.get<std::string>() != "@product"
            && !detail::valid_name(value.get<std::string>()))) {
      return invalid("suite", R"(must be "@product" or a suite folder name)");
    }
    p.suite = value.get<std::string>();
    return {};
  }
  if (key == "time_shift_days") {
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0
        || value.get<std::int64_t>() > 36500) {
      return invalid("time_shift_days", "must be a whole number of days from 0 to 36500");
    }
    p.time_shift_days = value.get<std::int32_t>();
    return {};
  }
  if (key == "description") {
    return value.is_string() ? Status{} : invalid("description", "must be a string");
  }
  return invalid(key, "unknown field");
}

// The workspace's file; the shipped one when a workspace made before profiles existed lacks it.
Result<std::string> profile_bytes(const std::filesystem::path& file, const std::string& shipped) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    for (const auto& f : detail::embedded_files()) {
      if (f.path == shipped) {
        return std::string(f.content);
      }
    }
    return fail(
        reason::k_sandbox_bad_profile, "no sandbox profile " + file.string(), file.string());
  }
  return fs::read_file_bounded(
      file, k_max_doc_bytes, reason::k_workspace_io, reason::k_sandbox_bad_profile);
}

}  // namespace

Result<Profile> parse_profile(const json::Json& doc) {
  if (!doc.is_object()) {
    return invalid("(document)", "must be a JSON object");
  }
  if (!doc.contains("schema")) {
    return invalid("schema", "missing");
  }
  Profile p;
  p.suite = "@product";
  for (const auto& [key, value] : doc.items()) {
    ECLUSE_CHECK(parse_field(key, value, p));
  }
  if (p.runtime.empty()) {
    return invalid("runtime", "missing: the sandbox needs a runtime (at least /usr)");
  }
  return p;
}

Result<LoadedProfile> load_profile(const std::filesystem::path& sandbox_dir,
                                   const std::string& name) {
  if (!detail::valid_name(name)) {
    return invalid("(name)", "'" + name + "' is not a profile name");
  }
  const auto file = sandbox_dir / "profiles" / (name + ".json");
  ECLUSE_TRY(bytes, profile_bytes(file, "profiles/" + name + ".json"));
  const auto parsed = json::parse_strict(bytes);
  if (parsed.failure != json::ParseFailure::none) {
    return fail(reason::k_sandbox_bad_profile,
                "profile " + file.string() + " is not valid JSON (" + parsed.detail + ")",
                file.string());
  }
  auto p = parse_profile(parsed.value);
  if (!p) {
    auto e = p.error();
    e.message = file.string() + ": " + e.message;
    return fail(std::move(e));
  }
  p->name = name;
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  return LoadedProfile{std::move(*p), digest.hex()};
}

Result<LoadedProfile> profile_for(const std::filesystem::path& sandbox_dir,
                                  const std::string& product) {
  std::error_code ec;
  if (detail::valid_name(product)
      && std::filesystem::is_regular_file(sandbox_dir / "profiles" / (product + ".json"), ec)) {
    return load_profile(sandbox_dir, product);
  }
  return load_profile(sandbox_dir, "default");
}

}  // namespace ecluse::sandbox
