// The test stage: the product's suite run against the drop in the sandbox, twice (the real
// clock, then shifted forward), with every egress attempt recorded. Writes test.json
// (docs/test-report.md) and each command's captured output into the drop's evidence folder;
// produces TestedDrop, the input of the policy verdict.
//
// Findings: test.no_suite, test.failed, test.timeout, test.fails_in_future,
// test.egress_attempt, test.output_truncated, test.not_run. Reason codes of failures to
// evaluate (the drop stays diffed): sandbox.* (run.hpp: what to install or enable),
// sandbox.bad_profile, sandbox.bad_suite, store.io_error.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/diff/diff.hpp>
#include <ecluse/store/content_store.hpp>
#include <ecluse/store/state_store.hpp>
#include <ecluse/workspace/workspace.hpp>

#include <string>
#include <vector>

namespace ecluse::sandbox {

class TestedDrop {
 public:
  [[nodiscard]] const diff::DiffedDrop& diffed() const { return m_diffed; }

  [[nodiscard]] const std::string& id() const { return m_diffed.id(); }

  // What the stage recorded: profile, suite, environment, summary, test.json's digest.
  [[nodiscard]] const json::Json& evidence() const { return m_evidence; }

 private:
  friend struct TestedDropFactory;

  TestedDrop(diff::DiffedDrop diffed, json::Json evidence)
      : m_diffed(std::move(diffed)), m_evidence(std::move(evidence)) {}

  diff::DiffedDrop m_diffed;
  json::Json m_evidence;
};

struct Context {
  const workspace::Workspace& ws;
  const store::ContentStore& objects;
  // The policy says test.not_run: allow. Then a machine that cannot run the sandbox gives the
  // finding test.not_run instead of stopping the stage.
  bool untested_allowed = false;
};

struct TestRun {
  Result<TestedDrop> out;
  json::Json evidence;
  std::vector<store::Finding> findings;
};

// Runs the drop's suite (profile_for(product), the profile's suite). A drop without a suite is
// tested with finding test.no_suite. An environment that cannot run the sandbox is an error
// (sandbox.*, exit 3) unless ctx.untested_allowed.
TestRun run_suite(const Context& ctx, const diff::DiffedDrop& drop);

// The TestedDrop of a drop whose test stage is committed (test.json checked against its digest).
Result<TestedDrop> reload(const Context& ctx, diff::DiffedDrop diffed, json::Json evidence);

// The test document of a tested drop, checked against the digest in its evidence.
Result<json::Json> load_document(const workspace::Workspace& ws,
                                 const std::string& id,
                                 const json::Json& evidence);

inline constexpr std::string_view k_test_file = "test.json";
inline constexpr std::string_view k_output_dir = "test-output";

}  // namespace ecluse::sandbox
