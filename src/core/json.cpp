// Strict, non-throwing JSON parsing (duplicate keys detected) and safe serialisation.
#include <ecluse/core/json.hpp>

#include <set>
#include <vector>

namespace ecluse::json {

ParseOutcome parse_strict(std::string_view text) {
  ParseOutcome out;
  std::vector<std::set<std::string>> open_objects;
  auto callback = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end && !open_objects.empty()) {
      open_objects.pop_back();
    } else if (event == Json::parse_event_t::key && !open_objects.empty()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second && out.failure == ParseFailure::none) {
        out.failure = ParseFailure::duplicate_key;
        out.detail = key;
      }
    }
    return true;
  };
  try {
    out.value = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  } catch (const std::exception& e) {  // only bad_alloc can reach here
    out.failure = ParseFailure::malformed;
    out.detail = e.what();
    return out;
  }
  if (out.value.is_discarded()) {
    out.failure = ParseFailure::malformed;
    out.detail = "not valid JSON";
  }
  return out;
}

std::string dump_line(const Json& value) {
  try {
    return value.dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace);
  } catch (const std::exception&) {
    return "null";
  }
}

std::string dump_pretty(const Json& value) {
  try {
    return value.dump(2, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace);
  } catch (const std::exception&) {
    return "null";
  }
}

}  // namespace ecluse::json
