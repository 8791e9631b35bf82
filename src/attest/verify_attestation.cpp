// Verification of an envelope with nothing but a key list: which role may sign what is
// decided by the keys that verify, before the payload is parsed; the Statement is parsed only
// from the verified bytes. Invariant: no partial success: any failed check is an error.
#include <ecluse/attest/attest.hpp>
#include <ecluse/crypto/dsse.hpp>

namespace ecluse::attest {

namespace {

struct RoleCheck {
  keys::Role role;
  crypto::dsse::Verified verified;
};

// The envelope verified with release keys, else engineer keys (approvals); the error of the
// release attempt when neither verifies.
Result<RoleCheck> verify_roles(const crypto::dsse::Envelope& env, const keys::KeyList& keys) {
  auto release = crypto::dsse::verify(env,
                                      keys.known(keys::Role::release),
                                      keys.threshold(keys::Role::release),
                                      crypto::dsse::k_in_toto_type);
  if (release) {
    return RoleCheck{keys::Role::release, std::move(*release)};
  }
  if (release.error().reason != reason::k_attest_unknown_key.code) {
    return fail(release.error());
  }
  auto engineer = crypto::dsse::verify(env,
                                       keys.known(keys::Role::engineer),
                                       keys.threshold(keys::Role::engineer),
                                       crypto::dsse::k_in_toto_type);
  if (!engineer) {
    return fail(engineer.error().reason == reason::k_attest_unknown_key.code ? release.error()
                                                                             : engineer.error());
  }
  return RoleCheck{keys::Role::engineer, std::move(*engineer)};
}

Status check_role_fits(const RoleCheck& rc, const Statement& st, const std::string& item) {
  const bool approval = st.predicate_type == k_approval_type;
  if (approval != (rc.role == keys::Role::engineer)) {
    return fail(reason::k_attest_unknown_key,
                item + ": a " + st.predicate_type + " statement signed by "
                    + std::string(keys::to_string(rc.role))
                    + " keys: only engineers sign approvals, only release keys sign the rest",
                item);
  }
  return {};
}

}  // namespace

Result<VerifiedAttestation> verify_attestation(std::string_view envelope,
                                               const keys::KeyList& keys,
                                               const std::vector<ArtifactDigest>& artifacts,
                                               const std::string& item) {
  ECLUSE_TRY(env, crypto::dsse::parse(envelope, item));
  auto rc = verify_roles(env, keys);
  if (!rc) {
    auto e = rc.error();
    e.message = item + ": " + e.message;
    e.item = item;
    return fail(std::move(e));
  }
  auto st = parse_statement(rc->verified.payload);
  if (!st) {
    return fail(reason::k_attest_bad_statement, item + ": " + st.error().message, item);
  }
  ECLUSE_CHECK(check_role_fits(*rc, *st, item));
  VerifiedAttestation out{std::move(*st), {}, rc->verified.revoked, keys.threshold(rc->role), {}};
  for (const auto& id : rc->verified.signers) {
    const auto* e = keys.find(id);
    out.signers.push_back({id, std::string(keys::to_string(rc->role)), e ? e->name : ""});
  }
  for (const auto& a : artifacts) {
    const auto* s = match(out.statement, a.sha256);
    if (s == nullptr) {
      return fail(
          reason::k_attest_subject_mismatch,
          a.file + ": its SHA-256 " + a.sha256.substr(0, 16) + "… matches no subject of " + item,
          a.file);
    }
    out.matched.push_back(*s);
  }
  return out;
}

}  // namespace ecluse::attest
