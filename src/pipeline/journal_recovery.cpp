// The journal outbox drained after a crash: stage commits the state store holds whose journal
// entries were never written.
#include <ecluse/pipeline/stage_runner.hpp>

namespace ecluse::pipeline {

namespace {

// Is (event, at or after committed_at) already in the journal for drop id?
bool journaled(const std::vector<json::Json>& entries,
               const std::string& id,
               const std::string& event,
               const std::string& committed_at) {
  return std::any_of(entries.begin(), entries.end(), [&](const json::Json& e) {
    return e.value("drop", "") == id && e.value("event", "") == event
           && e.value("time", "") >= committed_at;
  });
}

}  // namespace

Status recover_journal(const Session& s, const std::string& id) {
  ECLUSE_TRY(pending, s.state().unjournaled(id));
  if (pending.empty()) {
    return {};
  }
  ECLUSE_TRY(record, s.state().get_drop(id));
  ECLUSE_TRY(entries, s.journal().entries());
  if (!record) {
    return {};
  }
  std::vector<std::pair<std::string, json::Json>> events;
  for (const auto& result : pending) {
    for (auto [event, details] : commit_events(*record, result)) {
      if (journaled(entries, id, event, result.committed_at)) {
        continue;  // written before the crash, only not marked
      }
      details["recovered"] = true;
      details["committed_at"] = result.committed_at;
      events.emplace_back(std::move(event), std::move(details));
    }
  }
  return journal_commit(s, id, events);
}

}  // namespace ecluse::pipeline
