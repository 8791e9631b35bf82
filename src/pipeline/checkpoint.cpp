// Signed journal checkpoints: the journal key signs (seq, head hash) so that rewriting the
// journal and its HEAD is caught by anyone holding the key list. Invariant: a checkpoint
// counts only when its envelope verifies with an unrevoked journal key and its signed head is
// the hash the chain has at that seq.
#include <ecluse/crypto/dsse.hpp>
#include <ecluse/keys/keyring.hpp>
#include <ecluse/pipeline/sign.hpp>

#include <algorithm>
#include <array>

namespace ecluse::pipeline {

namespace {

constexpr std::string_view k_checkpoint_type = "application/vnd.ecluse.journal-checkpoint+json";
constexpr std::string_view k_checkpoint_schema = "ecluse.journal-checkpoint/v1";
constexpr std::uint64_t k_slack = 8;

// o["seq"], 0 when absent or not an unsigned number. The lines read here are not
// authenticated (checkpoints.jsonl, a journal rewritten consistently): json::value() would
// throw on a field of another type.
std::uint64_t seq_of(const json::Json& o) {
  if (!o.is_object()) {
    return 0;
  }
  const auto it = o.find("seq");
  return it != o.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

// Checks one checkpoint line: the seq it signs, or why it does not count (empty: revoked).
Result<std::uint64_t> check_one(const json::Json& cp,
                                const keys::KeyList& keys,
                                const store::JournalCheck& chain,
                                std::vector<std::string>& signers) {
  const auto env_text = json::dump_line(cp.value("envelope", json::Json::object()));
  ECLUSE_TRY(env, crypto::dsse::parse(env_text, "checkpoint"));
  ECLUSE_TRY(v, crypto::dsse::verify(env, keys.known(keys::Role::journal), 1, k_checkpoint_type));
  const auto p = json::parse_strict(v.payload);
  if (p.failure != json::ParseFailure::none || !p.value.is_object()
      || p.value.value("schema", "") != k_checkpoint_schema || !p.value.contains("seq")
      || !p.value.at("seq").is_number_unsigned()) {
    return fail(reason::k_journal_checkpoint_invalid, "the signed payload is not a checkpoint");
  }
  const auto seq = p.value.at("seq").get<std::uint64_t>();
  const auto head = p.value.value("head", std::string());
  if (seq == 0 || seq > chain.line_hashes.size() || chain.line_hashes[seq - 1] != head) {
    return fail(reason::k_journal_checkpoint_invalid,
                "it signs head " + head.substr(0, 16) + " at seq " + std::to_string(seq)
                    + ", which the journal does not have there (rewritten or truncated)");
  }
  if (seq_of(cp) != seq) {
    return fail(reason::k_journal_checkpoint_invalid, "its seq differs from the signed one");
  }
  for (const auto& id : v.signers) {
    if (std::find(signers.begin(), signers.end(), id) == signers.end()) {
      signers.push_back(id);
    }
  }
  return seq;
}

// Every journal.checkpoint entry must have its checkpoint line (none was deleted).
void check_recorded(const std::vector<json::Json>& entries,
                    const std::vector<json::Json>& cps,
                    JournalReport& r) {
  for (const auto& e : entries) {
    const auto event = e.find("event");
    if (event == e.end() || *event != "journal.checkpoint") {
      continue;
    }
    const auto details = e.find("details");
    const auto seq = details == e.end() ? 0 : seq_of(*details);
    const bool present =
        std::any_of(cps.begin(), cps.end(), [&](const json::Json& c) { return seq_of(c) == seq; });
    if (!present) {
      r.problems.push_back({0,
                            "the journal records a checkpoint at seq " + std::to_string(seq)
                                + " that journal/checkpoints.jsonl no longer holds (deleted)"});
    }
  }
}

}  // namespace

Result<bool> checkpoint(const Session& s, bool force) {
  ECLUSE_TRY(head, s.journal().head());
  ECLUSE_TRY(last, s.journal().last_checkpoint_seq());
  if (head.seq == 0 || (!force && head.seq < last + k_checkpoint_every) || head.seq == last) {
    return false;
  }
  ECLUSE_TRY(keyring, keys::Keyring::open(s.ws().keys_dir()));
  if (keyring.list().active(keys::Role::journal).empty()) {
    return false;
  }
  ECLUSE_TRY(key, keyring.active_signer(keys::Role::journal));
  const auto now = format_utc(s.clock().now());
  const json::Json payload{
      {"schema", k_checkpoint_schema}, {"seq", head.seq}, {"head", head.hash}, {"time", now}};
  const std::array<const crypto::SigningKey*, 1> signers{&key};
  ECLUSE_TRY(env,
             crypto::dsse::sign(
                 std::string(k_checkpoint_type), json::dump_pretty(payload) + "\n", signers));
  const auto parsed = json::parse_strict(crypto::dsse::serialise(env));
  ECLUSE_CHECK(s.journal().add_checkpoint(
      {{"seq", head.seq}, {"head", head.hash}, {"time", now}, {"envelope", parsed.value}}));
  ECLUSE_CHECK(s.record(
      "", "journal.checkpoint", {{"seq", head.seq}, {"head", head.hash}, {"key", key.key_id()}}));
  return true;
}

Result<JournalReport> verify_journal(const Session& s) {
  JournalReport r;
  ECLUSE_TRY(chain, s.journal().verify());
  r.chain = std::move(chain);
  ECLUSE_TRY(keyring, keys::Keyring::open(s.ws().keys_dir()));
  ECLUSE_TRY(cps, s.journal().checkpoints());
  std::uint64_t line = 0;
  for (const auto& cp : cps) {
    ++line;
    auto seq = check_one(cp, keyring.list(), r.chain, r.signers);
    if (seq) {
      ++r.checkpoints;
      r.last_checkpoint = std::max(r.last_checkpoint, *seq);
    } else if (seq.error().reason != reason::k_attest_revoked_key.code) {
      r.problems.push_back({line, seq.error().message});
    }
  }
  if (r.chain.ok) {
    ECLUSE_TRY(entries, s.journal().entries());
    check_recorded(entries, cps, r);
  }
  const bool keyed = !keyring.list().known(keys::Role::journal).empty();
  const auto entries = r.chain.line_hashes.size();
  if (keyed && entries > r.last_checkpoint + k_checkpoint_every + k_slack) {
    r.problems.push_back({0,
                          "entries " + std::to_string(r.last_checkpoint + 1) + " to "
                              + std::to_string(entries)
                              + " are covered by no valid signed checkpoint"});
  }
  return r;
}

}  // namespace ecluse::pipeline
