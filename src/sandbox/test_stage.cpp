// The test stage: materialise the drop, run every suite command now and with the clock shifted,
// keep the outputs and test.json beside the drop's other evidence, and return the findings.
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/sandbox/run.hpp>
#include <ecluse/sandbox/sandbox.hpp>
#include <ecluse/unpack/materialise.hpp>

#include <unistd.h>

#include "findings.hpp"

namespace ecluse::sandbox {

struct TestedDropFactory {
  static TestedDrop make(diff::DiffedDrop d, json::Json e) { return {std::move(d), std::move(e)}; }
};

namespace {

constexpr std::uint64_t k_max_document_bytes = 256ULL << 20U;

// An archive artifact's first level under at (nothing for a plain file).
Status materialise_contents(const unpack::Entry& artifact,
                            const store::ContentStore& objects,
                            const std::filesystem::path& at) {
  if (artifact.contents.empty()) {
    return {};
  }
  ECLUSE_CHECK(fs::make_dirs(at, reason::k_store_io));
  return unpack::materialise(artifact.contents, objects, at);
}

// /drop/payload/ARTIFACT is each artifact as the vendor shipped it (mode 0555: drop.json carries
// no modes, and a test must be able to run a shipped program); /drop/tree/ARTIFACT/ holds what
// an archive artifact unpacked to, with the archive's modes (its first level; nested archives
// stay files).
Status materialise_drop(const unpack::Tree& tree,
                        const store::ContentStore& objects,
                        const std::filesystem::path& dest) {
  std::vector<unpack::Entry> shipped;
  for (const auto& a : tree.artifacts) {
    auto e = a;
    e.contents.clear();
    e.mode = 0555;
    shipped.push_back(std::move(e));
  }
  ECLUSE_CHECK(fs::make_dirs(dest / "payload", reason::k_store_io));
  ECLUSE_CHECK(unpack::materialise(shipped, objects, dest / "payload"));
  for (const auto& a : tree.artifacts) {
    ECLUSE_CHECK(materialise_contents(a, objects, dest / "tree" / a.path));
  }
  return {};
}

// A private, empty directory for one stage run (make_run_dir), removed when it ends.
class RunDir {
 public:
  static Result<RunDir> create() {
    ECLUSE_TRY(dir, make_run_dir());
    return RunDir(std::move(dir));
  }

  RunDir(RunDir&& o) noexcept : m_dir(std::move(o.m_dir)) { o.m_dir.clear(); }

  RunDir& operator=(RunDir&&) = delete;
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;

  ~RunDir() {
    std::error_code ec;
    if (!m_dir.empty()) {
      std::filesystem::remove_all(m_dir, ec);
    }
  }

  [[nodiscard]] const std::filesystem::path& path() const { return m_dir; }

 private:
  explicit RunDir(std::filesystem::path dir) : m_dir(std::move(dir)) {}

  std::filesystem::path m_dir;
};

// Keeps a run's captured output in the drop's evidence folder: test-output/NAME.WHEN.stdout.
Status keep_output(const std::filesystem::path& dir,
                   const std::string& name,
                   const char* when,
                   const CommandResult& r) {
  const auto base = name + "." + when;
  ECLUSE_CHECK(fs::write_file_atomic(dir / (base + ".stdout"), r.stdout_head, reason::k_store_io));
  return fs::write_file_atomic(dir / (base + ".stderr"), r.stderr_head, reason::k_store_io);
}

struct SuiteRun {
  std::vector<detail::CommandOutcome> outcomes;
  json::Json commands = json::Json::array();
};

// One suite command, with the real clock and (shift > 0) shifted; its outputs kept in out_dir.
Status run_command(const Sandbox& sb,
                   const TestCommand& c,
                   const std::filesystem::path& out_dir,
                   std::int32_t shift,
                   SuiteRun& run) {
  detail::CommandOutcome o{c, {}, std::nullopt};
  ECLUSE_TRY(now, sb.run(c.argv, 0, c.wall_seconds.value_or(0)));
  o.now = std::move(now);
  ECLUSE_CHECK(keep_output(out_dir, c.name, "now", o.now));
  json::Json entry{
      {"name", c.name}, {"argv", c.argv}, {"expect_exit", c.expect_exit}, {"now", to_json(o.now)}};
  if (shift > 0) {
    ECLUSE_TRY(later, sb.run(c.argv, shift, c.wall_seconds.value_or(0)));
    ECLUSE_CHECK(keep_output(out_dir, c.name, "shifted", later));
    entry["shifted"] = to_json(later);
    o.shifted = std::move(later);
  }
  entry["passed"] = detail::passed(c, o.now);
  run.commands.push_back(std::move(entry));
  run.outcomes.push_back(std::move(o));
  return {};
}

Result<SuiteRun> run_commands(const Context& ctx,
                              const Sandbox& sb,
                              const Suite& suite,
                              const std::string& id) {
  const auto out_dir = ctx.ws.drops_dir() / id / k_output_dir;
  std::error_code ec;
  std::filesystem::remove_all(out_dir, ec);  // an earlier, interrupted run's outputs
  ECLUSE_CHECK(fs::make_dirs(out_dir, reason::k_store_io));
  const auto shift = sb.profile().time_shift_days;
  SuiteRun run;
  for (const auto& c : suite.commands) {
    ECLUSE_CHECK(run_command(sb, c, out_dir, shift, run));
  }
  return run;
}

Result<json::Json> write_document(const Context& ctx,
                                  const std::string& id,
                                  const json::Json& doc) {
  const auto bytes = json::dump_line(doc);
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  ECLUSE_CHECK(
      fs::write_file_atomic(ctx.ws.drops_dir() / id / k_test_file, bytes, reason::k_store_io));
  return json::Json{{"file", k_test_file}, {"sha256", digest.hex()}};
}

json::Json summary_of(const std::vector<detail::CommandOutcome>& outcomes,
                      const std::vector<store::Finding>& findings) {
  std::size_t passed = 0;
  for (const auto& o : outcomes) {
    passed += detail::passed(o.command, o.now) ? 1U : 0U;
  }
  auto count = [&](const Reason& r) {
    return std::count_if(
        findings.begin(), findings.end(), [&](const auto& f) { return f.code == r.code; });
  };
  return {{"commands", outcomes.size()},
          {"passed", passed},
          {"failed", outcomes.size() - passed},
          {"fails_in_future", count(reason::k_test_fails_in_future)},
          {"egress_attempts", count(reason::k_test_egress_attempt)}};
}

// The stage's result when it ran nothing: no suite, or (when the policy allows it) no sandbox.
TestRun not_tested(const Context& ctx,
                   const diff::DiffedDrop& drop,
                   json::Json doc,
                   store::Finding why) {
  TestRun r{fail(reason::k_internal, "test did not run"), json::Json::object(), {std::move(why)}};
  doc["schema"] = "ecluse.test/v1";
  doc["commands"] = json::Json::array();
  auto ref = write_document(ctx, drop.id(), doc);
  if (!ref) {
    r.out = fail(ref.error());
    return r;
  }
  r.evidence = {{"profile", doc.value("profile", json::Json())},
                {"suite", nullptr},
                {"document", *ref},
                {"ran", false},
                {"findings", 1}};
  r.out = TestedDropFactory::make(drop, r.evidence);
  return r;
}

Result<TestRun> run_tested(const Context& ctx,
                           const diff::DiffedDrop& drop,
                           const LoadedProfile& profile,
                           const Suite& suite,
                           const Environment& env) {
  ECLUSE_TRY(dir, RunDir::create());
  ECLUSE_CHECK(materialise_drop(drop.unpacked().tree(), ctx.objects, dir.path() / "drop"));
  ECLUSE_TRY(sb, Sandbox::prepare(env, profile.profile, dir.path() / "drop", ctx.ws.root()));
  ECLUSE_TRY(run, run_commands(ctx, sb, suite, drop.id()));
  TestRun r{fail(reason::k_internal, "test did not run"), json::Json::object(), {}};
  r.findings = detail::findings_of(run.outcomes, profile.profile.time_shift_days);
  const json::Json prof{{"name", profile.profile.name}, {"sha256", profile.sha256}};
  const json::Json sut{{"name", suite.name}, {"sha256", suite.sha256}};
  const json::Json environment{{"bwrap", env.bwrap_version}, {"process_cap", env.process_cap}};
  json::Json doc{{"schema", "ecluse.test/v1"},
                 {"profile", prof},
                 {"suite", sut},
                 {"environment", environment},
                 {"time_shift_days", profile.profile.time_shift_days},
                 {"commands", run.commands},
                 {"findings", store::to_json(r.findings)}};
  ECLUSE_TRY(ref, write_document(ctx, drop.id(), doc));
  r.evidence = {{"profile", prof},
                {"suite", sut},
                {"environment", environment},
                {"time_shift_days", profile.profile.time_shift_days},
                {"document", ref},
                {"ran", true},
                {"summary", summary_of(run.outcomes, r.findings)},
                {"findings", r.findings.size()}};
  r.out = TestedDropFactory::make(drop, r.evidence);
  return r;
}

}  // namespace

TestRun run_suite(const Context& ctx, const diff::DiffedDrop& drop) {
  const auto sandbox_dir = ctx.ws.root() / k_sandbox_dir;
  const auto& product = drop.unpacked().verified().staged().identity().product;
  auto profile = profile_for(sandbox_dir, product);
  if (!profile) {
    return TestRun{fail(profile.error()), json::Json::object(), {}};
  }
  const json::Json prof{{"name", profile->profile.name}, {"sha256", profile->sha256}};
  const auto suite_name = profile->profile.suite == "@product" ? product : profile->profile.suite;
  auto suite = load_suite(sandbox_dir, suite_name);
  if (!suite) {
    return TestRun{fail(suite.error()), json::Json::object(), {}};
  }
  if (!*suite) {
    return not_tested(
        ctx,
        drop,
        {{"profile", prof}},
        {"test",
         std::string(reason::k_test_no_suite.code),
         "medium",
         product,
         "no suite " + (sandbox_dir / "suites" / suite_name / "suite.json").string()});
  }
  auto env = probe_environment();
  if (!env) {
    if (!ctx.untested_allowed) {
      return TestRun{fail(env.error()), json::Json::object(), {}};
    }
    return not_tested(ctx,
                      drop,
                      {{"profile", prof}, {"not_run", env.error().reason}},
                      {"test",
                       std::string(reason::k_test_not_run.code),
                       "high",
                       env.error().reason,
                       env.error().message});
  }
  auto r = run_tested(ctx, drop, *profile, **suite, *env);
  if (!r) {
    return TestRun{fail(r.error()), json::Json::object(), {}};
  }
  return std::move(*r);
}

Result<json::Json> load_document(const workspace::Workspace& ws,
                                 const std::string& id,
                                 const json::Json& evidence) {
  const auto want = evidence.value("document", json::Json::object()).value("sha256", std::string());
  const auto file = ws.drops_dir() / id / k_test_file;
  ECLUSE_TRY(bytes,
             fs::read_file_bounded(
                 file, k_max_document_bytes, reason::k_store_io, reason::k_store_object_corrupt));
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  auto parsed = json::parse_strict(bytes);
  if (digest.hex() != want || parsed.failure != json::ParseFailure::none) {
    return fail(reason::k_store_object_corrupt,
                file.string() + " does not match the digest its test stage recorded",
                file.string());
  }
  return std::move(parsed.value);
}

Result<TestedDrop> reload(const Context& ctx, diff::DiffedDrop diffed, json::Json evidence) {
  ECLUSE_TRY(doc, load_document(ctx.ws, diffed.id(), evidence));
  (void)doc;
  return TestedDropFactory::make(std::move(diffed), std::move(evidence));
}

}  // namespace ecluse::sandbox
