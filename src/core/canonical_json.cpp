// OLPC canonical JSON (wiki.laptop.org/go/Canonical_JSON) exactly as securesystemslib's
// encode_canonical writes it: the bytes TUF metadata signatures are made over.
#include <ecluse/core/json.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace ecluse::json {

namespace {

// Only the quote and the backslash are escaped; every other byte (control characters and
// UTF-8 sequences included) is copied as is.
void put_string(std::string& out, const std::string& s) {
  out.push_back('"');
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('"');
}

bool put_value(std::string& out, const Json& value);

// Keys in the order of their UTF-8 bytes compared as unsigned values (std::string's own
// order, stated here rather than inherited from the container).
bool put_object(std::string& out, const Json& value) {
  using Member = std::pair<const std::string*, const Json*>;
  std::vector<Member> members;
  members.reserve(value.size());
  for (auto it = value.cbegin(); it != value.cend(); ++it) {
    members.emplace_back(&it.key(), &it.value());
  }
  std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
    return a.first->compare(*b.first) < 0;
  });
  out.push_back('{');
  bool first = true;
  for (const auto& [key, member] : members) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    put_string(out, *key);
    out.push_back(':');
    if (!put_value(out, *member)) {
      return false;
    }
  }
  out.push_back('}');
  return true;
}

bool put_array(std::string& out, const Json& value) {
  out.push_back('[');
  bool first = true;
  for (const auto& element : value) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    if (!put_value(out, element)) {
      return false;
    }
  }
  out.push_back(']');
  return true;
}

bool put_value(std::string& out, const Json& value) {
  if (const auto* s = value.get_ptr<const Json::string_t*>()) {
    put_string(out, *s);
    return true;
  }
  if (const auto* u = value.get_ptr<const Json::number_unsigned_t*>()) {
    out += std::to_string(*u);
    return true;
  }
  if (const auto* i = value.get_ptr<const Json::number_integer_t*>()) {
    out += std::to_string(*i);
    return true;
  }
  if (const auto* b = value.get_ptr<const Json::boolean_t*>()) {
    out += *b ? "true" : "false";
    return true;
  }
  if (value.is_null()) {
    out += "null";
    return true;
  }
  if (value.is_object()) {
    return put_object(out, value);
  }
  if (value.is_array()) {
    return put_array(out, value);
  }
  return false;  // floating-point numbers, binary values, discarded values
}

}  // namespace

std::optional<std::string> canonical(const Json& value) {
  try {
    std::string out;
    if (!put_value(out, value)) {
      return std::nullopt;
    }
    return out;
  } catch (const std::exception&) {  // only bad_alloc can reach here
    return std::nullopt;
  }
}

}  // namespace ecluse::json
