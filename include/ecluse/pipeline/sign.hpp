// The sign stage in the pipeline (approved → signed), and the signed journal checkpoints.
//
// Reason codes: keys.* (no release key, no CA, a private key that cannot be loaded),
// state.unknown_drop, state.illegal_transition, store.*, journal.*.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/keys/keylist.hpp>
#include <ecluse/pipeline/driver.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ecluse::pipeline {

// Signs an approved drop (the sign stage: attestations, summary, CMS per artifact), then
// checkpoints the journal. A drop signed already is reloaded (its files re-hashed). Returns
// the drop as committed.
Result<store::DropRecord> sign(const Session& s, const std::string& id);

// Signs the journal head with the active journal key when force is set or at least
// k_checkpoint_every entries follow the last checkpoint; false when nothing was signed (no
// journal key in the key list, or not due).
inline constexpr std::uint64_t k_checkpoint_every = 64;
Result<bool> checkpoint(const Session& s, bool force);

struct CheckpointProblem {
  std::uint64_t line = 0;  // 1-based line of journal/checkpoints.jsonl (0: not about one line)
  std::string problem;
};

struct JournalReport {
  store::JournalCheck chain;
  std::uint64_t checkpoints = 0;      // checkpoints that verified
  std::uint64_t last_checkpoint = 0;  // the seq the last valid checkpoint signs
  std::vector<std::string> signers;   // distinct journal key ids that signed checkpoints
  std::vector<CheckpointProblem> problems;

  [[nodiscard]] bool ok() const { return chain.ok && problems.empty(); }
};

// The chain (store::Journal::verify) and every checkpoint: signed by an unrevoked journal key
// of the key list, naming the head the chain has at its seq; each journal.checkpoint entry
// has its checkpoint; and once a journal key exists, no more than k_checkpoint_every + 8
// entries follow the last checkpoint.
Result<JournalReport> verify_journal(const Session& s);

}  // namespace ecluse::pipeline
