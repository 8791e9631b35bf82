// Strict, non-throwing JSON parsing (duplicate keys detected) and safe serialisation.
#include <ecluse/core/json.hpp>

#include <set>
#include <vector>

namespace ecluse::json {

namespace {

// Deeper documents are refused: copying or destroying a JSON value recurses per level.
constexpr int k_max_depth = 64;

}  // namespace

ParseOutcome parse_strict(std::string_view text) {
  ParseOutcome out;
  std::vector<std::set<std::string>> open_objects;
  bool too_deep = false;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    const bool opens =
        event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start;
    if (opens && depth >= k_max_depth) {
      too_deep = true;  // discarding the value keeps the document (and its copies) shallow
      return false;
    }
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
  if (too_deep) {
    out.failure = ParseFailure::malformed;
    out.detail = "nested deeper than " + std::to_string(k_max_depth) + " levels";
    out.value = Json();
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
