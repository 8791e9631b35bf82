// Field checks shared by profiles and suites: small alphabets, ranges, normalised paths.
#include "profile_fields.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace ecluse::sandbox::detail {

namespace {

tl::unexpected<Error> invalid(const std::string& field, const std::string& why) {
  return fail(reason::k_sandbox_bad_profile, "profile: " + field + ": " + why, field);
}

struct LimitField {
  std::string_view name;
  std::uint64_t min;
  std::uint64_t max;
};

// Ranges: generous enough for a real suite, small enough that a typo cannot disable a limit.
constexpr std::array<LimitField, 8> k_limit_fields{{
    {"cpu_seconds", 1, 86400},
    {"memory_mib", 16, 1U << 20U},
    {"processes", 2, 65536},
    {"file_size_mib", 1, 1U << 20U},
    {"wall_seconds", 1, 86400},
    {"work_mib", 1, 1U << 16U},
    {"output_kib", 1, 1U << 16U},
    {"open_files", 16, 65536},
}};

void assign(Limits& l, std::string_view name, std::uint64_t v) {
  if (name == "cpu_seconds") {
    l.cpu_seconds = static_cast<std::uint32_t>(v);
  } else if (name == "memory_mib") {
    l.memory_mib = v;
  } else if (name == "processes") {
    l.processes = static_cast<std::uint32_t>(v);
  } else if (name == "file_size_mib") {
    l.file_size_mib = v;
  } else if (name == "wall_seconds") {
    l.wall_seconds = static_cast<std::uint32_t>(v);
  } else if (name == "work_mib") {
    l.work_mib = v;
  } else if (name == "output_kib") {
    l.output_kib = v;
  } else {
    l.open_files = static_cast<std::uint32_t>(v);
  }
}

}  // namespace

bool valid_sandbox_path(const std::string& p) {
  if (p.size() < 2 || p.size() > 1024 || p.front() != '/' || p.back() == '/') {
    return false;
  }
  if (!std::all_of(p.begin(), p.end(), [](char c) { return c > ' ' && c < 0x7f; })) {
    return false;
  }
  std::size_t start = 1;
  while (start <= p.size()) {
    auto end = p.find('/', start);
    if (end == std::string::npos) {
      end = p.size();
    }
    const auto part = std::string_view(p).substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return false;
    }
    start = end + 1;
  }
  return true;
}

bool generated_etc_file(const std::string& p) {
  return p == "/etc/hosts" || p == "/etc/resolv.conf" || p == "/etc/nsswitch.conf"
         || p == "/etc/passwd" || p == "/etc/group";
}

bool valid_env_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool valid_env_value(const std::string& value) {
  return value.size() <= 4096 && std::all_of(value.begin(), value.end(), [](char c) {
           return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
         });
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.' || name[0] == '-' || name[0] == '_') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.'
           || c == '_' || c == '-';
  });
}

Status parse_limits(const json::Json& j, Limits& limits) {
  if (!j.is_object()) {
    return invalid("limits", "must be an object");
  }
  for (const auto& [key, value] : j.items()) {
    const std::string& name = key;  // a structured binding cannot be captured (C++20)
    const auto* f = std::find_if(k_limit_fields.begin(), k_limit_fields.end(), [&](const auto& l) {
      return l.name == name;
    });
    if (f == k_limit_fields.end()) {
      return invalid("limits." + key, "unknown limit");
    }
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0
        || value.get<std::uint64_t>() < f->min || value.get<std::uint64_t>() > f->max) {
      return invalid("limits." + key,
                     "must be a whole number from " + std::to_string(f->min) + " to "
                         + std::to_string(f->max));
    }
    assign(limits, f->name, value.get<std::uint64_t>());
  }
  return {};
}

}  // namespace ecluse::sandbox::detail
