// Test suites: a manifest of named commands, each run inside the sandbox against /drop.
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/sandbox/profile.hpp>

#include <algorithm>
#include <set>

#include "profile_fields.hpp"

namespace ecluse::sandbox {

namespace {

constexpr std::string_view k_schema = "ecluse.suite/v1";
constexpr std::size_t k_max_commands = 64;
constexpr std::size_t k_max_args = 256;
constexpr std::size_t k_max_arg_bytes = 8192;

tl::unexpected<Error> invalid(const std::string& suite,
                              const std::string& field,
                              const std::string& why) {
  return fail(reason::k_sandbox_bad_suite, "suite " + suite + ": " + field + ": " + why, field);
}

// An argument: no NUL and no control character but tab and newline (scripts for sh -c).
bool valid_arg(const std::string& a) {
  return a.size() <= k_max_arg_bytes && std::all_of(a.begin(), a.end(), [](char c) {
           const auto u = static_cast<unsigned char>(c);
           return u >= 0x20 || c == '\n' || c == '\t';
         });
}

Result<std::vector<std::string>> parse_argv(const json::Json& j,
                                            const std::string& suite,
                                            const std::string& field) {
  if (!j.is_array() || j.empty() || j.size() > k_max_args) {
    return invalid(suite, field, "must be a non-empty array of at most 256 strings");
  }
  std::vector<std::string> argv;
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string() || !valid_arg(j[i].get<std::string>())) {
      return invalid(suite, field + "[" + std::to_string(i) + "]", "not a valid argument");
    }
    argv.push_back(j[i].get<std::string>());
  }
  if (!detail::valid_sandbox_path(argv[0])) {
    return invalid(suite, field + "[0]", "must be an absolute path inside the sandbox");
  }
  return argv;
}

Status parse_command_field(const std::string& key,
                           const json::Json& value,
                           const std::string& suite,
                           const std::string& at,
                           TestCommand& c) {
  if (key == "name") {
    if (!value.is_string() || !detail::valid_name(value.get<std::string>())) {
      return invalid(suite, at + ".name", "must be 1 to 64 of [A-Za-z0-9._-]");
    }
    c.name = value.get<std::string>();
  } else if (key == "argv") {
    ECLUSE_TRY(argv, parse_argv(value, suite, at + ".argv"));
    c.argv = std::move(argv);
  } else if (key == "expect_exit") {
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0
        || value.get<std::int64_t>() > 255) {
      return invalid(suite, at + ".expect_exit", "must be an exit status from 0 to 255");
    }
    c.expect_exit = value.get<int>();
  } else if (key == "wall_seconds") {
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0
        || value.get<std::uint64_t>() < 1 || value.get<std::uint64_t>() > 86400) {
      return invalid(suite, at + ".wall_seconds", "must be a whole number from 1 to 86400");
    }
    c.wall_seconds = value.get<std::uint32_t>();
  } else if (key != "description") {
    return invalid(suite, at + "." + key, "unknown field");
  }
  return {};
}

Result<TestCommand> parse_command(const json::Json& j, const std::string& suite, std::size_t i) {
  const auto at = "commands[" + std::to_string(i) + "]";
  if (!j.is_object()) {
    return invalid(suite, at, "must be an object");
  }
  TestCommand c;
  for (const auto& [key, value] : j.items()) {
    ECLUSE_CHECK(parse_command_field(key, value, suite, at, c));
  }
  if (c.name.empty() || c.argv.empty()) {
    return invalid(suite, at, "needs a name and an argv");
  }
  return c;
}

}  // namespace

Result<Suite> parse_suite(const json::Json& doc, const std::string& name) {
  if (!doc.is_object() || !doc.contains("schema") || doc.at("schema") != k_schema) {
    return invalid(name, "schema", "must be \"" + std::string(k_schema) + "\"");
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != "schema" && key != "commands" && key != "description") {
      return invalid(name, key, "unknown field");
    }
  }
  const auto& cmds = doc.value("commands", json::Json());
  if (!cmds.is_array() || cmds.empty() || cmds.size() > k_max_commands) {
    return invalid(name, "commands", "must be an array of 1 to 64 commands");
  }
  Suite s{name, {}, {}};
  std::set<std::string> names;
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    ECLUSE_TRY(c, parse_command(cmds[i], name, i));
    if (!names.insert(c.name).second) {
      return invalid(name, "commands[" + std::to_string(i) + "].name", "'" + c.name + "' twice");
    }
    s.commands.push_back(std::move(c));
  }
  return s;
}

Result<std::optional<Suite>> load_suite(const std::filesystem::path& sandbox_dir,
                                        const std::string& name) {
  if (!detail::valid_name(name)) {
    return std::optional<Suite>{};
  }
  const auto file = sandbox_dir / "suites" / name / "suite.json";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return std::optional<Suite>{};
  }
  ECLUSE_TRY(
      bytes,
      fs::read_file_bounded(file, 1U << 20U, reason::k_workspace_io, reason::k_sandbox_bad_suite));
  const auto parsed = json::parse_strict(bytes);
  if (parsed.failure != json::ParseFailure::none) {
    return fail(reason::k_sandbox_bad_suite,
                "suite " + file.string() + " is not valid JSON (" + parsed.detail + ")",
                file.string());
  }
  ECLUSE_TRY(suite, parse_suite(parsed.value, name));
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  suite.sha256 = digest.hex();
  return std::optional<Suite>{std::move(suite)};
}

}  // namespace ecluse::sandbox
