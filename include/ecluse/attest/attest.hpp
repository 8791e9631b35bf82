// Stage 6, sign: the operator's keys admit an approved drop. For each committed stage
// (verify, unpack, diff, test, approval) an in-toto Statement carrying its evidence, and a
// SLSA Verification Summary binding the vendor's original (drop.json digest and signer) to
// every check and approval, each in a DSSE envelope signed by the active release key; and a
// detached CMS signature per artifact by the release certificate. Everything is written to
// quarantine/drops/ID/attestations/ and signatures/ (docs/attestations.md).
//
// Reason codes: keys.no_key, keys.private_missing, keys.no_ca, keys.*, store.*,
// internal.crypto.
#pragma once

#include <ecluse/attest/statement.hpp>
#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/signing.hpp>
#include <ecluse/intake/drop_manifest.hpp>
#include <ecluse/keys/keyring.hpp>
#include <ecluse/store/content_store.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ecluse::attest {

// One committed stage as the Statement records it.
struct StageFacts {
  std::string name;          // "verify", "unpack", "diff", "test", "approval"
  std::string committed_at;  // RFC 3339 UTC
  json::Json evidence;
};

// What the pipeline knows of an approved drop, gathered from committed stages.
struct ApprovedFacts {
  std::string drop_id;  // the SHA-256 of drop.json
  intake::DropManifest manifest;
  std::vector<StageFacts> stages;  // in pipeline order
  json::Json vendor_signer;        // the verify stage's signature report
  std::string policy_sha256;
  json::Json verdict;  // the policy evidence (decision, reasons, approvals_required)
};

struct Context {
  std::filesystem::path drop_dir;  // quarantine/drops/ID
  const store::ContentStore& objects;
  TimePoint now;
};

struct Signer {
  const crypto::SigningKey& release;
  const keys::ReleaseCertificate& certificate;
};

// The signed release: what was written and its digests (the stage's evidence).
class SignedRelease {
 public:
  [[nodiscard]] const std::string& id() const { return m_id; }

  [[nodiscard]] const json::Json& evidence() const { return m_evidence; }

 private:
  friend struct SignedFactory;

  SignedRelease(std::string id, json::Json evidence)
      : m_id(std::move(id)), m_evidence(std::move(evidence)) {}

  std::string m_id;
  json::Json m_evidence;
};

// Signs the drop's statements and artifacts. The evidence lists every file written with its
// SHA-256 (attestations/NAME.dsse.json, signatures/PATH.p7s) and the keys used.
Result<SignedRelease> attest(const Context& ctx, const ApprovedFacts& facts, const Signer& signer);

// A committed sign stage, reloaded: every file it lists must still hash as recorded
// (store.object_corrupt otherwise).
Result<SignedRelease> reload(const Context& ctx, const std::string& id, json::Json evidence);

// The Statement's subjects: the drop's artifacts by path and SHA-256.
std::vector<Subject> subjects_of(const intake::DropManifest& m);

// --- Signed approvals -------------------------------------------------------------------

struct ApprovalRequest {
  std::string drop_id;
  const intake::DropManifest* manifest = nullptr;
  std::string verdict_sha256;  // SHA-256 of the policy evidence (one line) being approved
  std::string engineer;
  std::string reason;
  std::string time;
};

// An engineer's approval as a DSSE envelope (predicate k_approval_type) signed by key.
Result<std::string> sign_approval(const ApprovalRequest& req, const crypto::SigningKey& key);

struct CountedApproval {
  std::string keyid;
  std::string engineer;
  std::string time;
  std::string reason;
};

// Verifies an approval envelope against the key list (an engineer key, not revoked) and that
// it approves this drop and this verdict: attest.approval_invalid (or attest.* from the
// envelope) otherwise.
Result<CountedApproval> check_approval(std::string_view envelope,
                                       const keys::KeyList& keys,
                                       const std::string& drop_id,
                                       const std::string& verdict_sha256);

// --- Verification without the state store -----------------------------------------------

struct Attester {
  std::string keyid;
  std::string role;
  std::string name;
};

struct VerifiedAttestation {
  Statement statement;
  std::vector<Attester> signers;     // distinct keys whose signature counted
  std::vector<std::string> revoked;  // revoked keys whose signature verified (not counted)
  std::size_t threshold = 1;
  std::vector<Subject> matched;  // the artifacts given, matched to subjects
};

struct ArtifactDigest {
  std::string file;    // as named on the command line
  std::string sha256;  // of its bytes
};

// Checks an envelope with nothing but the key list: release keys for ecluse's statements and
// the verification summary, engineer keys for approvals; the role's threshold of distinct
// unrevoked keys; then the Statement; then each artifact's digest against the subjects
// (attest.subject_mismatch naming the file).
Result<VerifiedAttestation> verify_attestation(std::string_view envelope,
                                               const keys::KeyList& keys,
                                               const std::vector<ArtifactDigest>& artifacts,
                                               const std::string& item);

}  // namespace ecluse::attest
