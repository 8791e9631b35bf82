// in-toto Statement v1 serialisation and parsing (in-toto/attestation, spec/v1/statement.md).
#include <ecluse/attest/statement.hpp>

#include <algorithm>

namespace ecluse::attest {

namespace {

tl::unexpected<Error> bad(const std::string& what) {
  return fail(reason::k_attest_bad_statement,
              "the payload is not an in-toto Statement v1: " + what);
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Result<Subject> subject_of(const json::Json& j) {
  if (!j.is_object() || !j.contains("digest") || !j.at("digest").is_object()) {
    return bad("a subject has no digest object");
  }
  const auto& d = j.at("digest");
  if (!d.contains("sha256") || !d.at("sha256").is_string()
      || !is_hex64(d.at("sha256").get<std::string>())) {
    return bad("a subject has no sha256 digest of 64 lowercase hex digits");
  }
  const auto name = j.contains("name") && j.at("name").is_string() ? j.at("name").get<std::string>()
                                                                   : std::string();
  return Subject{name, d.at("sha256").get<std::string>()};
}

}  // namespace

std::string stage_predicate_type(std::string_view stage) {
  return "https://ecluse.dev/attestation/" + std::string(stage) + "/v1";
}

std::string serialise(const Statement& s) {
  auto subjects = json::Json::array();
  for (const auto& sub : s.subjects) {
    subjects.push_back({{"name", sub.name}, {"digest", {{"sha256", sub.sha256}}}});
  }
  return json::dump_pretty(json::Json{{"_type", k_statement_type},
                                      {"subject", subjects},
                                      {"predicateType", s.predicate_type},
                                      {"predicate", s.predicate}})
         + "\n";
}

Result<Statement> parse_statement(std::string_view payload) {
  const auto parsed = json::parse_strict(payload);
  if (parsed.failure != json::ParseFailure::none || !parsed.value.is_object()) {
    return bad("not a JSON object");
  }
  const auto& j = parsed.value;
  if (!j.contains("_type") || j.at("_type") != k_statement_type) {
    return bad("_type is not " + std::string(k_statement_type));
  }
  if (!j.contains("subject") || !j.at("subject").is_array() || j.at("subject").empty()) {
    return bad("subject is not a non-empty array");
  }
  if (!j.contains("predicateType") || !j.at("predicateType").is_string() || !j.contains("predicate")
      || !j.at("predicate").is_object()) {
    return bad("predicateType or predicate is missing");
  }
  Statement s;
  for (const auto& sub : j.at("subject")) {
    ECLUSE_TRY(one, subject_of(sub));
    s.subjects.push_back(std::move(one));
  }
  s.predicate_type = j.at("predicateType").get<std::string>();
  s.predicate = j.at("predicate");
  return s;
}

const Subject* match(const Statement& s, std::string_view sha256) {
  const auto it = std::find_if(
      s.subjects.begin(), s.subjects.end(), [&](const Subject& x) { return x.sha256 == sha256; });
  return it == s.subjects.end() ? nullptr : &*it;
}

}  // namespace ecluse::attest
