// Signed approvals: an engineer's decision as an in-toto Statement in a DSSE envelope, bound to
// the drop (drop.json digest, artifacts) and to the verdict it approves. Invariant: an
// approval counts only when it verifies with an unrevoked engineer key of the key list and
// its verified payload names this drop and this verdict.
#include <ecluse/attest/attest.hpp>
#include <ecluse/crypto/dsse.hpp>

#include <array>

namespace ecluse::attest {

namespace {

tl::unexpected<Error> invalid(const std::string& why) {
  return fail(reason::k_attest_approval_invalid, "the approval does not count: " + why);
}

std::string field(const json::Json& o, const char* k) {
  const auto it = o.find(k);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<std::string> sign_approval(const ApprovalRequest& req, const crypto::SigningKey& key) {
  const Statement st{subjects_of(*req.manifest),
                     std::string(k_approval_type),
                     {{"drop",
                       {{"id", req.drop_id},
                        {"vendor", req.manifest->vendor},
                        {"product", req.manifest->product},
                        {"version", req.manifest->version.text()},
                        {"channel", req.manifest->channel},
                        {"drop_json", {{"sha256", req.drop_id}}}}},
                      {"decision", "approve"},
                      {"engineer", req.engineer},
                      {"reason", req.reason},
                      {"time", req.time},
                      {"verdict", {{"sha256", req.verdict_sha256}}}}};
  const std::array<const crypto::SigningKey*, 1> keys{&key};
  ECLUSE_TRY(env,
             crypto::dsse::sign(std::string(crypto::dsse::k_in_toto_type), serialise(st), keys));
  return crypto::dsse::serialise(env);
}

Result<CountedApproval> check_approval(std::string_view envelope,
                                       const keys::KeyList& keys,
                                       const std::string& drop_id,
                                       const std::string& verdict_sha256) {
  ECLUSE_TRY(env, crypto::dsse::parse(envelope, "approval"));
  const auto known = keys.known(keys::Role::engineer);
  ECLUSE_TRY(v, crypto::dsse::verify(env, known, 1, crypto::dsse::k_in_toto_type));
  ECLUSE_TRY(st, parse_statement(v.payload));
  const auto& p = st.predicate;
  if (st.predicate_type != k_approval_type || field(p, "decision") != "approve") {
    return invalid("it is not an approval decision");
  }
  const auto drop = p.value("drop", json::Json::object());
  if (!drop.is_object() || field(drop, "id") != drop_id) {
    return invalid("it approves drop " + field(drop, "id").substr(0, 12) + ", not "
                   + drop_id.substr(0, 12));
  }
  const auto verdict = p.value("verdict", json::Json::object());
  if (!verdict.is_object() || field(verdict, "sha256") != verdict_sha256) {
    return invalid("it approves another verdict than the drop's current one");
  }
  const auto* entry = keys.find(v.signers.front());
  if (entry == nullptr) {
    return invalid("its signer is not in the key list");
  }
  return CountedApproval{entry->keyid, entry->name, field(p, "time"), field(p, "reason")};
}

}  // namespace ecluse::attest
