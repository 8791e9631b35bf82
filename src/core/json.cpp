// Strict, non-throwing JSON parsing (duplicate keys detected) and safe serialisation.
#include <ecluse/core/json.hpp>

#include <string>
#include <vector>

namespace ecluse::json {

namespace {

// Deeper documents are refused: copying or destroying a JSON value recurses per level.
constexpr std::size_t k_max_depth = 64;

// Builds the document from nlohmann's SAX events, refusing a repeated key (looked up in the
// object being built, O(log n)) and nesting deeper than k_max_depth. Linear in the input: the
// callback parser rescans enclosing arrays after each object, quadratic on big manifests.
class StrictBuilder {
 public:
  explicit StrictBuilder(ParseOutcome& out) : m_out(out) {}

  bool null() { return put(Json(nullptr)); }

  bool boolean(bool v) { return put(Json(v)); }

  bool number_integer(Json::number_integer_t v) { return put(Json(v)); }

  bool number_unsigned(Json::number_unsigned_t v) { return put(Json(v)); }

  bool number_float(Json::number_float_t v, const Json::string_t& /*text*/) { return put(Json(v)); }

  bool string(Json::string_t& v) { return put(Json(std::move(v))); }

  bool binary(Json::binary_t& v) { return put(Json(Json::binary_t(std::move(v)))); }

  bool start_object(std::size_t /*elements*/) { return open(Json::object()); }

  bool start_array(std::size_t /*elements*/) { return open(Json::array()); }

  bool end_object() { return close(); }

  bool end_array() { return close(); }

  bool key(Json::string_t& k) {
    if (m_stack.back()->contains(k)) {
      m_out.failure = ParseFailure::duplicate_key;
      m_out.detail = k;
      return false;
    }
    m_key = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position,
                   const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*ex*/) {
    m_out.failure = ParseFailure::malformed;
    m_out.detail = "not valid JSON (byte " + std::to_string(position) + ")";
    return false;
  }

 private:
  // Where the next value goes: the root, the end of the open array, or the open object's key.
  Json* place(Json v) {
    if (m_stack.empty()) {
      m_out.value = std::move(v);
      return &m_out.value;
    }
    Json& parent = *m_stack.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    auto& slot = parent[m_key];
    slot = std::move(v);
    return &slot;
  }

  bool put(Json v) {
    (void)place(std::move(v));
    return true;
  }

  bool open(Json container) {
    if (m_stack.size() >= k_max_depth) {
      m_out.failure = ParseFailure::malformed;
      m_out.detail = "nested deeper than " + std::to_string(k_max_depth) + " levels";
      return false;
    }
    m_stack.push_back(place(std::move(container)));
    return true;
  }

  bool close() {
    m_stack.pop_back();
    return true;
  }

  ParseOutcome& m_out;
  std::vector<Json*> m_stack;
  std::string m_key;
};

}  // namespace

ParseOutcome parse_strict(std::string_view text) {
  ParseOutcome out;
  try {
    StrictBuilder builder(out);
    const bool ok = Json::sax_parse(text.begin(), text.end(), &builder);
    if (!ok && out.failure == ParseFailure::none) {
      out.failure = ParseFailure::malformed;
      out.detail = "not valid JSON";
    }
  } catch (const std::exception& e) {  // only bad_alloc can reach here
    out.failure = ParseFailure::malformed;
    out.detail = e.what();
  }
  if (out.failure != ParseFailure::none) {
    out.value = Json();
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
