// A pipeline session: the workspace with its opened stores.
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/pipeline/sign.hpp>

namespace ecluse::pipeline {

Session::Session(workspace::Workspace ws,
                 std::unique_ptr<store::StateStore> state,
                 const Clock& clock,
                 std::string actor)
    : m_ws(std::move(ws)),
      m_state(std::move(state)),
      m_journal(m_ws.journal_dir()),
      m_objects(m_ws.objects_dir(), m_ws.tmp_dir()),
      m_clock(&clock),
      m_actor(std::move(actor)) {}

store::StateStoreConfig state_config(const workspace::Workspace& ws) {
  return {ws.config().state_connection, ws.state_db(), ws.config().busy_timeout_ms};
}

Result<std::unique_ptr<store::StateStore>> open_state(const workspace::Workspace& ws) {
  return store::open_state_store(state_config(ws));
}

Result<Session> Session::open(workspace::Workspace ws, const Clock& clock, std::string actor) {
  ECLUSE_TRY(state, open_state(ws));
  return Session(std::move(ws), std::move(state), clock, std::move(actor));
}

Status Session::spend_stage(const std::string& stage, const std::string& id) const {
  if (m_stages_left == 0) {
    return fail(reason::k_pipeline_yielded,
                "drop " + id.substr(0, 12) + ": " + stage + " is left for the next job",
                id);
  }
  if (m_stages_left > 0) {
    --m_stages_left;
  }
  return {};
}

Status Session::record(const std::string& drop,
                       const std::string& event,
                       json::Json details) const {
  ECLUSE_CHECK(m_journal.append(
      store::JournalEntry{format_utc(m_clock->now()), m_actor, drop, event, std::move(details)}));
  // Every k_checkpoint_every entries the journal key signs the head (when there is one).
  ECLUSE_TRY(signed_now, checkpoint(*this, false));
  (void)signed_now;
  return {};
}

}  // namespace ecluse::pipeline
