// The verify stage: the vendor's signature over drop.json's exact bytes (CMS chained to the
// vendor's pinned roots, or the vendor's pinned raw key), then the version against what was
// accepted before for the same vendor, product and channel. Produces VerifiedDrop, the only
// input unpacking accepts.
//
// Reason codes: signature.* (crypto/signature.hpp), verify.unknown_vendor, verify.rollback,
// verify.version_reuse; trust.store_broken and trust.crl_stale are environment errors (the
// drop stays received and is verified again once the trust store is fixed).
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/intake/intake.hpp>
#include <ecluse/store/state_store.hpp>
#include <ecluse/workspace/workspace.hpp>

namespace ecluse::verify {

class VerifiedDrop {
 public:
  [[nodiscard]] const intake::StagedDrop& staged() const { return m_staged; }

  [[nodiscard]] const std::string& id() const { return m_staged.id(); }

  // What verify checked: signer, chain, algorithms, validation time, CRLs, version baseline.
  [[nodiscard]] const json::Json& evidence() const { return m_evidence; }

 private:
  friend struct VerifiedDropFactory;

  VerifiedDrop(intake::StagedDrop staged, json::Json evidence)
      : m_staged(std::move(staged)), m_evidence(std::move(evidence)) {}

  intake::StagedDrop m_staged;
  json::Json m_evidence;
};

struct Context {
  const workspace::Workspace& ws;
  store::StateStore& state;
  const Clock& clock;
};

struct VerifyRun {
  Result<VerifiedDrop> out;
  json::Json evidence;
};

// Verifies a staged drop. A rejection (signature.*, verify.*) is in out with its evidence;
// trust.* and store errors are failures to evaluate, never the vendor's fault.
VerifyRun verify(const Context& ctx, const intake::StagedDrop& staged);

// The VerifiedDrop of a drop whose verify stage is committed, from its stored evidence.
VerifiedDrop reload(intake::StagedDrop staged, json::Json evidence);

// What the policy judges in an accepted verification: certificates no pinned CRL covers
// (verify.crl_gap) and the use of a downgrade allowance (verify.downgrade_used).
std::vector<store::Finding> findings_of(const json::Json& evidence);

// The vendor's signature of an accepted drop checked again, against the trust store as it is
// now (scheduled re-verification: a certificate revoked or expired since, a root removed).
// The verify.* or signature.* error of the first failure.
Status recheck_signature(const Context& ctx, const intake::StagedDrop& staged);

}  // namespace ecluse::verify
