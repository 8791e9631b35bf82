// ecluse.json: the workspace configuration, every key with a documented default.
#include <ecluse/workspace/workspace.hpp>

#include <algorithm>
#include <set>

namespace ecluse::workspace {

namespace {

constexpr std::string_view k_schema = "ecluse.config/v1";

tl::unexpected<Error> bad(const std::string& key, const std::string& why) {
  return fail(reason::k_workspace_bad_config, "ecluse.json: '" + key + "' " + why, key);
}

Status check_keys(const json::Json& obj,
                  const std::string& where,
                  const std::set<std::string>& known) {
  if (!obj.is_object()) {
    return bad(where, "must be an object");
  }
  for (const auto& [key, value] : obj.items()) {
    if (!known.contains(key)) {
      std::string name = where;
      name += name.empty() ? "" : ".";
      name += key;
      return bad(name, "is not a known setting");
    }
  }
  return {};
}

Status read_u64(const json::Json& obj,
                const std::string& where,
                const char* key,
                std::uint64_t& out) {
  if (!obj.contains(key)) {
    return {};
  }
  const auto& v = obj.at(key);
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0) {
    return bad(where + "." + key, "must be a positive integer");
  }
  out = v.get<std::uint64_t>();
  return {};
}

Status read_limits(const json::Json& j, Limits& limits) {
  ECLUSE_CHECK(check_keys(j,
                          "limits",
                          {"max_drop_json_bytes",
                           "max_signature_bytes",
                           "max_artifacts",
                           "max_artifact_bytes",
                           "max_drop_bytes"}));
  ECLUSE_CHECK(read_u64(j, "limits", "max_drop_json_bytes", limits.max_drop_json_bytes));
  ECLUSE_CHECK(read_u64(j, "limits", "max_signature_bytes", limits.max_signature_bytes));
  ECLUSE_CHECK(read_u64(j, "limits", "max_artifacts", limits.max_artifacts));
  ECLUSE_CHECK(read_u64(j, "limits", "max_artifact_bytes", limits.max_artifact_bytes));
  ECLUSE_CHECK(read_u64(j, "limits", "max_drop_bytes", limits.max_drop_bytes));
  return {};
}

Status read_unpack(const json::Json& j, UnpackLimits& u) {
  ECLUSE_CHECK(check_keys(j,
                          "unpack",
                          {"max_depth",
                           "max_total_bytes",
                           "max_entry_bytes",
                           "max_entries",
                           "max_entry_ratio",
                           "max_archive_ratio",
                           "ratio_floor_bytes",
                           "max_path_bytes",
                           "max_name_bytes"}));
  ECLUSE_CHECK(read_u64(j, "unpack", "max_depth", u.max_depth));
  ECLUSE_CHECK(read_u64(j, "unpack", "max_total_bytes", u.max_total_bytes));
  ECLUSE_CHECK(read_u64(j, "unpack", "max_entry_bytes", u.max_entry_bytes));
  ECLUSE_CHECK(read_u64(j, "unpack", "max_entries", u.max_entries));
  ECLUSE_CHECK(read_u64(j, "unpack", "max_entry_ratio", u.max_entry_ratio));
  ECLUSE_CHECK(read_u64(j, "unpack", "max_archive_ratio", u.max_archive_ratio));
  ECLUSE_CHECK(read_u64(j, "unpack", "ratio_floor_bytes", u.ratio_floor_bytes));
  ECLUSE_CHECK(read_u64(j, "unpack", "max_path_bytes", u.max_path_bytes));
  ECLUSE_CHECK(read_u64(j, "unpack", "max_name_bytes", u.max_name_bytes));
  if (u.max_depth > 32) {
    return bad("unpack.max_depth", "must be at most 32");
  }
  return {};
}

Status read_channels(const json::Json& j, std::vector<std::string>& channels) {
  if (!j.is_array() || j.empty()) {
    return bad("channels", "must be a non-empty array of names");
  }
  channels.clear();
  for (const auto& c : j) {
    // A channel names a directory (repos/CHANNEL.git) and a git-safe word: letters, digits,
    // '-', '_' and '.', not starting with '.', at most 64 bytes.
    const auto ok = [](const std::string& n) {
      return !n.empty() && n.size() <= 64 && n.front() != '.'
             && std::all_of(n.begin(), n.end(), [](char ch) {
                  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
                         || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
                });
    };
    if (!c.is_string() || !ok(c.get_ref<const std::string&>())) {
      return bad(
          "channels",
          "must hold only names of letters, digits, '-', '_' and '.' (not starting with '.')");
    }
    channels.push_back(c.get<std::string>());
  }
  return {};
}

}  // namespace

json::Json UnpackLimits::to_json() const {
  return json::Json{{"max_depth", max_depth},
                    {"max_total_bytes", max_total_bytes},
                    {"max_entry_bytes", max_entry_bytes},
                    {"max_entries", max_entries},
                    {"max_entry_ratio", max_entry_ratio},
                    {"max_archive_ratio", max_archive_ratio},
                    {"ratio_floor_bytes", ratio_floor_bytes},
                    {"max_path_bytes", max_path_bytes},
                    {"max_name_bytes", max_name_bytes}};
}

json::Json Config::to_json() const {
  return json::Json{
      {"schema", k_schema},
      {"channels", channels},
      {"paths", {{"incoming", incoming}}},
      {"limits",
       {{"max_drop_json_bytes", limits.max_drop_json_bytes},
        {"max_signature_bytes", limits.max_signature_bytes},
        {"max_artifacts", limits.max_artifacts},
        {"max_artifact_bytes", limits.max_artifact_bytes},
        {"max_drop_bytes", limits.max_drop_bytes}}},
      {"unpack", unpack.to_json()},
      {"state",
       {{"busy_timeout_ms", busy_timeout_ms},
        {"connection", state_connection},
        {"lease_seconds", lease_seconds}}},
      {"signature_policy", signature_policy.to_json()},
      {"promotion",
       {{"compression", promotion.compression},
        {"committer", {{"name", promotion.committer_name}, {"email", promotion.committer_email}}},
        {"expiry_days",
         {{"root", promotion.root_expiry_days},
          {"targets", promotion.targets_expiry_days},
          {"snapshot", promotion.snapshot_expiry_days},
          {"timestamp", promotion.timestamp_expiry_days}}}}},
      {"watch",
       {{"ready", watch.ready},
        {"quiet_seconds", watch.quiet_seconds},
        {"jobs", watch.jobs},
        {"promote_to", watch.promote_to},
        {"retry_seconds", watch.retry_seconds},
        {"reverify_every_seconds", watch.reverify_every_seconds}}},
  };
}

namespace {

Status read_paths(const json::Json& p, Config& c) {
  ECLUSE_CHECK(check_keys(p, "paths", {"incoming"}));
  if (p.contains("incoming")) {
    if (!p.at("incoming").is_string() || p.at("incoming").get_ref<const std::string&>().empty()) {
      return bad("paths.incoming", "must be a non-empty path");
    }
    c.incoming = p.at("incoming").get<std::string>();
  }
  return {};
}

Status read_state(const json::Json& s, Config& c) {
  ECLUSE_CHECK(check_keys(s, "state", {"busy_timeout_ms", "connection", "lease_seconds"}));
  std::uint64_t timeout = c.busy_timeout_ms;
  ECLUSE_CHECK(read_u64(s, "state", "busy_timeout_ms", timeout));
  if (timeout > 3600000) {
    return bad("state.busy_timeout_ms", "must be at most 3600000");
  }
  c.busy_timeout_ms = static_cast<std::uint32_t>(timeout);
  if (s.contains("connection")) {
    if (!s.at("connection").is_string()) {
      return bad("state.connection",
                 "must be a libpq connection string (\"\" for SQLite's state.db)");
    }
    c.state_connection = s.at("connection").get<std::string>();
  }
  ECLUSE_CHECK(read_u64(s, "state", "lease_seconds", c.lease_seconds));
  if (c.lease_seconds < 3 || c.lease_seconds > 3600) {
    return bad("state.lease_seconds", "must be between 3 and 3600");
  }
  return {};
}

// A non-empty array of strings, each from `allowed`.
Status read_choices(const json::Json& p,
                    const char* key,
                    const std::set<std::string>& allowed,
                    std::vector<std::string>& out) {
  if (!p.contains(key)) {
    return {};
  }
  const auto where = std::string("signature_policy.") + key;
  const auto& v = p.at(key);
  if (!v.is_array() || v.empty()) {
    return bad(where, "must be a non-empty array");
  }
  out.clear();
  for (const auto& e : v) {
    if (!e.is_string() || !allowed.contains(e.get<std::string>())) {
      std::string known;
      for (const auto& a : allowed) {
        known += (known.empty() ? "" : ", ") + a;
      }
      return bad(where, "may only hold " + known);
    }
    out.push_back(e.get<std::string>());
  }
  return {};
}

Status read_signature_policy(const json::Json& p, crypto::AlgorithmPolicy& policy) {
  ECLUSE_CHECK(check_keys(
      p, "signature_policy", {"digests", "rsa_min_bits", "rsa_padding", "ec_curves", "ed25519"}));
  ECLUSE_CHECK(read_choices(
      p, "digests", {"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}, policy.digests));
  ECLUSE_CHECK(read_choices(p, "rsa_padding", {"pkcs1", "pss"}, policy.rsa_padding));
  ECLUSE_CHECK(read_choices(p, "ec_curves", {"P-256", "P-384", "P-521"}, policy.ec_curves));
  std::uint64_t bits = policy.rsa_min_bits;
  ECLUSE_CHECK(read_u64(p, "signature_policy", "rsa_min_bits", bits));
  if (bits < 1024 || bits > 16384) {
    return bad("signature_policy.rsa_min_bits", "must be between 1024 and 16384");
  }
  policy.rsa_min_bits = static_cast<unsigned>(bits);
  if (p.contains("ed25519")) {
    if (!p.at("ed25519").is_boolean()) {
      return bad("signature_policy.ed25519", "must be true or false");
    }
    policy.ed25519 = p.at("ed25519").get<bool>();
  }
  return {};
}

Status read_committer(const json::Json& j, Promotion& p) {
  ECLUSE_CHECK(check_keys(j, "promotion.committer", {"name", "email"}));
  for (const char* key : {"name", "email"}) {
    if (!j.contains(key)) {
      continue;
    }
    const auto& v = j.at(key);
    if (!v.is_string() || v.get_ref<const std::string&>().empty()
        || v.get_ref<const std::string&>().find_first_of("<>\n") != std::string::npos) {
      return bad(std::string("promotion.committer.") + key,
                 "must be a non-empty string without <, > or newline");
    }
    (std::string_view(key) == "name" ? p.committer_name : p.committer_email) = v.get<std::string>();
  }
  return {};
}

Status read_promotion(const json::Json& j, Promotion& p) {
  ECLUSE_CHECK(check_keys(j, "promotion", {"compression", "committer", "expiry_days"}));
  if (j.contains("compression")) {
    const auto& v = j.at("compression");
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 9) {
      return bad("promotion.compression", "must be a zlib level from 0 to 9");
    }
    p.compression = v.get<int>();
  }
  if (j.contains("committer")) {
    ECLUSE_CHECK(read_committer(j.at("committer"), p));
  }
  if (j.contains("expiry_days")) {
    const auto& e = j.at("expiry_days");
    ECLUSE_CHECK(
        check_keys(e, "promotion.expiry_days", {"root", "targets", "snapshot", "timestamp"}));
    ECLUSE_CHECK(read_u64(e, "promotion.expiry_days", "root", p.root_expiry_days));
    ECLUSE_CHECK(read_u64(e, "promotion.expiry_days", "targets", p.targets_expiry_days));
    ECLUSE_CHECK(read_u64(e, "promotion.expiry_days", "snapshot", p.snapshot_expiry_days));
    ECLUSE_CHECK(read_u64(e, "promotion.expiry_days", "timestamp", p.timestamp_expiry_days));
  }
  return {};
}

Status read_watch(const json::Json& j, Watch& w) {
  ECLUSE_CHECK(check_keys(
      j,
      "watch",
      {"ready", "quiet_seconds", "jobs", "promote_to", "retry_seconds", "reverify_every_seconds"}));
  if (j.contains("ready")) {
    if (j.at("ready") != "marker" && j.at("ready") != "quiet") {
      return bad("watch.ready", "must be \"marker\" or \"quiet\"");
    }
    w.ready = j.at("ready").get<std::string>();
  }
  if (j.contains("promote_to")) {
    if (!j.at("promote_to").is_string()) {
      return bad("watch.promote_to", "must be a channel name, or \"\" for none");
    }
    w.promote_to = j.at("promote_to").get<std::string>();
  }
  ECLUSE_CHECK(read_u64(j, "watch", "quiet_seconds", w.quiet_seconds));
  ECLUSE_CHECK(read_u64(j, "watch", "retry_seconds", w.retry_seconds));
  for (auto [key, out] : {std::pair{"jobs", &w.jobs},
                          std::pair{"reverify_every_seconds", &w.reverify_every_seconds}}) {
    if (j.contains(key)) {
      if (!j.at(key).is_number_unsigned()) {
        return bad(std::string("watch.") + key, "must be a whole number (0: the default)");
      }
      *out = j.at(key).get<std::uint64_t>();
    }
  }
  return {};
}

}  // namespace

Result<Config> Config::from_json(const json::Json& j) {
  Config c;
  ECLUSE_CHECK(check_keys(j,
                          "",
                          {"schema",
                           "channels",
                           "paths",
                           "limits",
                           "unpack",
                           "state",
                           "signature_policy",
                           "promotion",
                           "watch"}));
  if (!j.contains("schema") || j.at("schema") != k_schema) {
    return bad("schema", "must be \"" + std::string(k_schema) + "\"");
  }
  if (j.contains("channels")) {
    ECLUSE_CHECK(read_channels(j.at("channels"), c.channels));
  }
  if (j.contains("paths")) {
    ECLUSE_CHECK(read_paths(j.at("paths"), c));
  }
  if (j.contains("limits")) {
    ECLUSE_CHECK(read_limits(j.at("limits"), c.limits));
  }
  if (j.contains("unpack")) {
    ECLUSE_CHECK(read_unpack(j.at("unpack"), c.unpack));
  }
  if (j.contains("state")) {
    ECLUSE_CHECK(read_state(j.at("state"), c));
  }
  if (j.contains("signature_policy")) {
    ECLUSE_CHECK(read_signature_policy(j.at("signature_policy"), c.signature_policy));
  }
  if (j.contains("promotion")) {
    ECLUSE_CHECK(read_promotion(j.at("promotion"), c.promotion));
  }
  if (j.contains("watch")) {
    ECLUSE_CHECK(read_watch(j.at("watch"), c.watch));
  }
  return c;
}

}  // namespace ecluse::workspace
