// Policy documents: the embedded default, validation naming the bad field, and loading.
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/policy/policy.hpp>

#include <algorithm>
#include <set>

namespace ecluse::policy {

namespace {

constexpr std::string_view k_schema = "ecluse.policy/v1";
constexpr std::uint64_t k_max_policy_bytes = 1U << 20U;
constexpr std::uint32_t k_max_approvals = 100;

tl::unexpected<Error> invalid(const std::string& field, const std::string& why) {
  return fail(reason::k_policy_invalid, "policy.json: " + field + ": " + why, field);
}

std::optional<Action> parse_action(const json::Json& j) {
  if (!j.is_string()) {
    return std::nullopt;
  }
  const auto& s = j.get_ref<const std::string&>();
  if (s == "allow") {
    return Action::allow;
  }
  if (s == "hold") {
    return Action::hold;
  }
  if (s == "reject") {
    return Action::reject;
  }
  return std::nullopt;
}

// A finding code or pattern: dotted [a-z0-9_] words, optionally ending in ".*", or "*".
bool valid_code_pattern(const std::string& key) {
  if (key == "*") {
    return true;
  }
  std::string_view k = key;
  if (k.size() > 2 && k.substr(k.size() - 2) == ".*") {
    k.remove_suffix(2);
  }
  if (k.empty() || k.size() > 128 || k.front() == '.' || k.back() == '.') {
    return false;
  }
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  });
}

bool valid_channel_key(const std::string& key) {
  if (key == "*") {
    return true;
  }
  if (key.empty() || key.size() > 64) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
           || c == '_' || c == '-';
  });
}

Status parse_actions(const json::Json& j, Policy& p) {
  if (!j.is_object()) {
    return invalid("actions", "must be an object of finding code → allow|hold|reject");
  }
  for (const auto& [key, value] : j.items()) {
    if (!valid_code_pattern(key)) {
      return invalid("actions." + key, "not a finding code, a 'prefix.*' pattern or '*'");
    }
    auto a = parse_action(value);
    if (!a) {
      return invalid("actions." + key, R"(must be "allow", "hold" or "reject")");
    }
    p.actions[key] = *a;
  }
  if (!p.actions.contains("*")) {
    return invalid("actions.*", "missing: the action for finding codes nothing else names");
  }
  return {};
}

Result<Threshold> parse_threshold(const json::Json& j, const std::string& field, double max) {
  if (!j.is_object()) {
    return invalid(field, R"(must be an object {"limit": number, "action": "hold"|"reject"})");
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "limit" && key != "action") {
      return invalid(field + "." += key, "unknown field");
    }
  }
  if (!j.contains("limit") || !j.at("limit").is_number()) {
    return invalid(field + ".limit", "must be a number");
  }
  const double limit = j.at("limit").get<double>();
  if (!(limit >= 0 && limit <= max)) {
    return invalid(field + ".limit", "out of range 0.." + std::to_string(static_cast<int>(max)));
  }
  auto a = j.contains("action") ? parse_action(j.at("action")) : std::optional{Action::hold};
  if (!a || *a == Action::allow) {
    return invalid(field + ".action", R"(must be "hold" or "reject")");
  }
  return Threshold{limit, *a};
}

Status parse_thresholds(const json::Json& j, Policy& p) {
  if (!j.is_object()) {
    return invalid("thresholds", "must be an object");
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "max_changed_share") {
      ECLUSE_TRY(t, parse_threshold(value, "thresholds." + key, 1.0));
      p.max_changed_share = t;
    } else if (key == "max_size_growth") {
      ECLUSE_TRY(t, parse_threshold(value, "thresholds." + key, 1e6));
      p.max_size_growth = t;
    } else {
      return invalid("thresholds." + key, "unknown threshold (max_changed_share, max_size_growth)");
    }
  }
  return {};
}

Status parse_approvals(const json::Json& j, Policy& p) {
  if (!j.is_object()) {
    return invalid("approvals", "must be an object of channel → number of approvals");
  }
  for (const auto& [key, value] : j.items()) {
    if (!valid_channel_key(key)) {
      return invalid("approvals." + key, "not a channel name or '*'");
    }
    if (!value.is_number_integer() || value.get<std::int64_t>() < 1
        || value.get<std::int64_t>() > k_max_approvals) {
      return invalid("approvals." + key,
                     "must be a whole number from 1 to " + std::to_string(k_max_approvals));
    }
    p.approvals[key] = value.get<std::uint32_t>();
  }
  return {};
}

// "promotion": {"prod": {"from": "preprod", "approvals": 1, "soak_hours": 24}}.
Status parse_gate(const std::string& channel, const json::Json& j, Policy& p) {
  const auto where = "promotion." + channel;
  if (!j.is_object()) {
    return invalid(where, "must be an object with from, approvals, soak_hours");
  }
  Gate g;
  for (const auto& [key, value] : j.items()) {
    if (key == "from" && value.is_string() && value.get<std::string>() != "*"
        && valid_channel_key(value.get<std::string>())) {
      g.from = value.get<std::string>();
    } else if (key == "approvals" && value.is_number_integer() && value.get<std::int64_t>() >= 0
               && value.get<std::int64_t>() <= k_max_approvals) {
      g.approvals = value.get<std::uint32_t>();
    } else if (key == "soak_hours" && value.is_number_integer() && value.get<std::int64_t>() >= 0
               && value.get<std::int64_t>() <= std::int64_t{24} * 366) {
      g.soak_seconds = value.get<std::uint64_t>() * 3600U;
    } else {
      std::string why = "unknown or out of range (from: a channel, approvals: 0 to ";
      why += std::to_string(k_max_approvals);
      why += ", soak_hours: 0 to 8784)";
      return invalid(where + "." + key, why);
    }
  }
  p.gates[channel] = g;
  return {};
}

Status parse_gates(const json::Json& j, Policy& p) {
  if (!j.is_object()) {
    return invalid("promotion", "must be an object of channel → gate");
  }
  for (const auto& [key, value] : j.items()) {
    if (!valid_channel_key(key) || key == "*") {
      return invalid("promotion." + key, "not a channel name");
    }
    ECLUSE_CHECK(parse_gate(key, value, p));
  }
  return {};
}

Result<std::vector<std::string>> parse_names(const json::Json& j,
                                             const std::string& field,
                                             bool (*valid)(const std::string&)) {
  if (!j.is_array()) {
    return invalid(field, "must be an array of strings");
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string() || !valid(j[i].get<std::string>())) {
      return invalid(field + "[" + std::to_string(i) + "]", "not a valid name");
    }
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

// A domain or an IP literal: letters, digits, '-', '.', ':' (IPv6), at most 253 bytes.
bool valid_endpoint_entry(const std::string& s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.find("..") != std::string::npos) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
           || c == '.' || c == ':';
  });
}

Status parse_field(const std::string& key, const json::Json& value, Policy& p) {
  if (key == "schema") {
    if (!value.is_string() || value.get<std::string>() != k_schema) {
      return invalid("schema", "must be \"" + std::string(k_schema) + "\"");
    }
    return {};
  }
  if (key == "actions") {
    return parse_actions(value, p);
  }
  if (key == "thresholds") {
    return parse_thresholds(value, p);
  }
  if (key == "approvals") {
    return parse_approvals(value, p);
  }
  if (key == "promotion") {
    return parse_gates(value, p);
  }
  if (key == "reverify") {
    // "reverify": {"demote": true}: withdraw a release that fails re-verification.
    if (!value.is_object()) {
      return invalid("reverify", "must be {\"demote\": true|false}");
    }
    for (const auto& [k, v] : value.items()) {
      if (k != "demote" || !v.is_boolean()) {
        return invalid("reverify." + k, "the only field is demote, true or false");
      }
      p.reverify_demote = v.get<bool>();
    }
    return {};
  }
  if (key == "always_review") {
    ECLUSE_TRY(names, parse_names(value, key, valid_channel_key));
    p.always_review = std::move(names);
    return {};
  }
  if (key == "endpoint_allow") {
    ECLUSE_TRY(names, parse_names(value, key, valid_endpoint_entry));
    p.endpoint_allow = std::move(names);
    return {};
  }
  return invalid(key, "unknown field");
}

}  // namespace

std::string_view to_string(Action a) {
  switch (a) {
    case Action::allow:
      return "allow";
    case Action::hold:
      return "hold";
    case Action::reject:
      return "reject";
  }
  return "hold";
}

Action Policy::action_for(const std::string& code) const {
  if (auto it = actions.find(code); it != actions.end()) {
    return it->second;
  }
  // The longest "prefix.*" pattern that covers the code.
  for (auto end = code.size(); end > 1;) {
    const auto dot = code.rfind('.', end - 1);
    if (dot == std::string::npos || dot == 0) {
      break;
    }
    if (auto it = actions.find(code.substr(0, dot) + ".*"); it != actions.end()) {
      return it->second;
    }
    end = dot;
  }
  auto it = actions.find("*");
  return it != actions.end() ? it->second : Action::hold;
}

std::uint32_t Policy::approvals_for(const std::string& channel) const {
  if (auto it = approvals.find(channel); it != approvals.end()) {
    return it->second;
  }
  auto it = approvals.find("*");
  return it != approvals.end() ? std::max<std::uint32_t>(it->second, 1) : 1;
}

json::Json default_policy_json() {
  return {
      {"schema", std::string(k_schema)},
      {"actions",
       {{"*", "hold"},
        {"unpack.*", "reject"},
        {"verify.crl_gap", "allow"},
        {"verify.downgrade_used", "hold"},
        {"diff.first_release", "allow"},
        {"diff.new_executable", "hold"},
        {"diff.became_executable", "hold"},
        {"diff.executable_modified", "allow"},
        {"diff.new_endpoint", "hold"},
        {"diff.type_changed", "allow"},
        {"diff.link_retargeted", "allow"},
        {"diff.pe_unsigned", "allow"},
        {"test.no_suite", "hold"},
        {"test.failed", "reject"},
        {"test.timeout", "reject"},
        {"test.fails_in_future", "hold"},
        {"test.egress_attempt", "hold"},
        {"test.output_truncated", "allow"}}},
      {"thresholds",
       {{"max_changed_share", {{"limit", 0.5}, {"action", "hold"}}},
        {"max_size_growth", {{"limit", 1.0}, {"action", "hold"}}}}},
      {"approvals", {{"*", 1}}},
      {"promotion", {{"prod", {{"from", "preprod"}, {"approvals", 0}, {"soak_hours", 0}}}}},
      {"always_review", json::Json::array()},
      {"endpoint_allow", json::Json::array()},
  };
}

Result<Policy> parse_policy(const json::Json& doc) {
  if (!doc.is_object()) {
    return invalid("(document)", "must be a JSON object");
  }
  if (!doc.contains("schema")) {
    return invalid("schema", "missing");
  }
  if (!doc.contains("actions")) {
    return invalid("actions", "missing");
  }
  Policy p;
  for (const auto& [key, value] : doc.items()) {
    ECLUSE_CHECK(parse_field(key, value, p));
  }
  return p;
}

Result<LoadedPolicy> load_policy(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(file, ec))) {
    return fail(reason::k_policy_missing,
                "no policy file " + file.string() + " (ecluse policy init writes the default)",
                file.string());
  }
  ECLUSE_TRY(bytes,
             fs::read_file_bounded(
                 file, k_max_policy_bytes, reason::k_workspace_io, reason::k_policy_invalid));
  auto parsed = json::parse_strict(bytes);
  if (parsed.failure != json::ParseFailure::none) {
    return invalid("(document)",
                   parsed.failure == json::ParseFailure::duplicate_key
                       ? "duplicate key " + parsed.detail
                       : "not valid JSON (" + parsed.detail + ")");
  }
  ECLUSE_TRY(policy, parse_policy(parsed.value));
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  return LoadedPolicy{std::move(policy), digest.hex()};
}

Result<bool> write_default(const std::filesystem::path& dir) {
  std::error_code ec;
  const auto file = dir / k_policy_file;
  if (std::filesystem::exists(std::filesystem::symlink_status(file, ec))) {
    return false;
  }
  ECLUSE_CHECK(fs::write_file_atomic(
      file, json::dump_pretty(default_policy_json()) + "\n", reason::k_workspace_io));
  return true;
}

}  // namespace ecluse::policy
