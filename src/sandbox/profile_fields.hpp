// Field checks shared by profiles and suites (private to src/sandbox).
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/sandbox/profile.hpp>

#include <string>

namespace ecluse::sandbox::detail {

// Absolute, normalised ('/'-separated, no '.', '..', empty components or trailing '/'), at most
// 1024 bytes of printable ASCII without spaces; never starting with '-'.
bool valid_sandbox_path(const std::string& p);

// The /etc files the sandbox writes itself (hosts, resolv.conf, nsswitch.conf, passwd, group).
bool generated_etc_file(const std::string& p);

// [A-Za-z_][A-Za-z0-9_]{0,63}
bool valid_env_name(const std::string& name);

// At most 4096 bytes, no control characters.
bool valid_env_value(const std::string& value);

// [A-Za-z0-9][A-Za-z0-9._-]{0,63}: profile, suite and command names.
bool valid_name(const std::string& name);

// The profile's "limits" object, each field in its documented range.
Status parse_limits(const json::Json& j, Limits& limits);

}  // namespace ecluse::sandbox::detail
