// A re-verification run: each channel (checks.cpp), refresh, summaries, demotion, the journal,
// then the report and its journal entry.
#include <ecluse/attest/statement.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/dsse.hpp>
#include <ecluse/keys/keyring.hpp>
#include <ecluse/pipeline/lease.hpp>
#include <ecluse/pipeline/promote.hpp>
#include <ecluse/pipeline/sign.hpp>
#include <ecluse/policy/policy.hpp>

#include "checks.hpp"
#include "report.hpp"

namespace ecluse::reverify {

namespace {

using Steady = std::chrono::steady_clock;

std::optional<TimePoint> expiry_of(const tuf::Files& meta, const std::string& name) {
  const auto it = meta.find(name);
  if (it == meta.end()) {
    return std::nullopt;
  }
  const auto doc = json::parse_strict(it->second);
  if (doc.failure != json::ParseFailure::none || !doc.value.is_object()) {
    return std::nullopt;
  }
  const auto expires = doc.value.value("signed", json::Json::object()).value("expires", "");
  return parse_utc(expires);
}

// Due when the timestamp or the snapshot expires within `within`, or the key list's roles
// differ from the root's (a key rotated or revoked: refresh writes root N+1).
bool refresh_due(const promote::ChannelState& st,
                 TimePoint now,
                 std::chrono::seconds within,
                 const std::vector<Problem>& problems,
                 const std::string& channel) {
  const bool stale_keys = std::any_of(problems.begin(), problems.end(), [&](const Problem& p) {
    return p.channel == channel && p.reason == reason::k_reverify_key_revoked.code
           && p.item == "metadata/root.json";
  });
  for (const char* name : {"timestamp.json", "snapshot.json"}) {
    const auto e = expiry_of(st.metadata, name);
    if (!e || *e <= now + within) {
      return true;
    }
  }
  return stale_keys;
}

// Problems that make re-signing wrong: the metadata or history is not what was signed.
bool refresh_blocked(const std::vector<Problem>& problems, const std::string& channel) {
  return std::any_of(problems.begin(), problems.end(), [&](const Problem& p) {
    if (p.channel != channel) {
      return false;
    }
    return p.reason == reason::k_reverify_history_rewritten.code
           || (p.reason.starts_with("tuf.") && p.reason != reason::k_tuf_expired.code)
           || p.reason.starts_with("repo.");
  });
}

// A SLSA verification summary of one release, signed by the active release key.
Status write_summary(const pipeline::Session& s,
                     const std::filesystem::path& dir,
                     const std::string& channel,
                     const promote::ChannelState& st,
                     const promote::ReleaseRecord& rel,
                     bool passed,
                     const crypto::SigningKey& key,
                     ChannelResult& out) {
  attest::Statement stmt;
  ECLUSE_TRY(targets, tuf::current_targets(st.metadata));
  const auto prefix = rel.product + "/" + rel.version + "/";
  for (const auto& t : targets) {
    if (t.path.starts_with(prefix)) {
      stmt.subjects.push_back({t.path.substr(prefix.size()), t.sha256});
    }
  }
  if (stmt.subjects.empty()) {
    return {};
  }
  stmt.predicate_type = std::string(attest::k_vsa_type);
  stmt.predicate = {
      {"verifier", {{"id", "https://ecluse.dev/reverify/v1"}}},
      {"timeVerified", format_utc(s.clock().now())},
      {"resourceUri",
       "git+file://" + (s.ws().repos_dir() / (channel + ".git")).string() + "@"
           + st.head.value_or("") + "#" + rel.product + "/" + rel.version},
      {"policy", {{"uri", "https://ecluse.dev/policy/reverify/v1"}}},
      {"verificationResult", passed ? "PASSED" : "FAILED"},
      {"verifiedLevels", json::Json::array({passed ? "SLSA_BUILD_LEVEL_0" : "FAILED"})},
      {"channel", channel}};
  const crypto::SigningKey* keys[] = {&key};
  ECLUSE_TRY(
      env,
      crypto::dsse::sign(std::string(crypto::dsse::k_in_toto_type), attest::serialise(stmt), keys));
  const auto file = dir / channel / rel.product / (rel.version + ".vsa.dsse.json");
  ECLUSE_CHECK(fs::make_dirs(file.parent_path(), reason::k_workspace_io));
  ECLUSE_CHECK(fs::write_file_atomic(file, crypto::dsse::serialise(env), reason::k_workspace_io));
  out.summaries.push_back(file.string());
  return {};
}

bool release_failed(const std::vector<Problem>& problems,
                    const std::string& channel,
                    const std::string& release) {
  return std::any_of(problems.begin(), problems.end(), [&](const Problem& p) {
    return p.channel == channel && (p.release == release || p.release.empty());
  });
}

struct Run {
  const pipeline::Session& s;
  const Options& opts;
  Report& report;
  const keys::KeyList& keylist;
  const crypto::SigningKey* release_key;  // may be null (no key: no summaries)
  std::filesystem::path dir;              // this run's directory under reports/reverify
  bool demote = false;
  std::string ca_pem;  // the operator CA (keys/ca.pem), empty when there is none
};

Status demote_failed(const Run& run,
                     const std::string& channel,
                     const promote::ChannelState& st,
                     ChannelResult& out) {
  for (const auto& rel : st.releases) {
    const auto name = rel.product + "/" + rel.version;
    const bool own =
        std::any_of(run.report.problems.begin(), run.report.problems.end(), [&](const Problem& p) {
          return p.channel == channel && p.release == name;
        });
    if (rel.withdrawn || !own) {
      continue;
    }
    ECLUSE_TRY(done,
               pipeline::withdraw(run.s,
                                  rel.product,
                                  rel.version,
                                  channel,
                                  "demoted by reverify: it failed re-verification"));
    (void)done;
    out.demoted.push_back(name);
  }
  return {};
}

// The channel state `st` was read before the checks; it is read again after a refresh or a
// demotion moved the branch.
Status finish_channel(const Run& run,
                      const detail::ChannelCheck& c,
                      const promote::ChannelState& st,
                      bool history_ok,
                      ChannelResult& out) {
  const auto within = run.opts.refresh_within.value_or(std::chrono::hours(
      24 * static_cast<std::int64_t>(run.s.ws().config().promotion.timestamp_expiry_days)));
  if (run.opts.refresh && !run.opts.at && history_ok
      && !refresh_blocked(run.report.problems, c.channel)
      && refresh_due(st, run.s.clock().now(), within, run.report.problems, c.channel)) {
    auto refreshed = pipeline::refresh_channel(run.s, c.channel);
    if (!refreshed) {
      c.add("",
            reason::k_reverify_refresh_failed.code,
            refreshed.error().reason + ": " + refreshed.error().message,
            "metadata/timestamp.json");
    } else if (*refreshed) {
      out.refreshed = **refreshed;
    }
  }
  if (run.demote) {
    ECLUSE_CHECK(demote_failed(run, c.channel, st, out));
  }
  ECLUSE_TRY(after, promote::read_state(c.repo, "main"));
  for (const auto& rel : after.releases) {
    if (rel.withdrawn) {
      continue;
    }
    const auto name = rel.product + "/" + rel.version;
    out.releases.push_back(name);
    if (run.release_key != nullptr) {
      ECLUSE_CHECK(write_summary(run.s,
                                 run.dir,
                                 c.channel,
                                 after,
                                 rel,
                                 !release_failed(run.report.problems, c.channel, name),
                                 *run.release_key,
                                 out));
    }
  }
  out.head = after.head.value_or("");
  if (history_ok && after.head) {
    ECLUSE_CHECK(
        run.s.state().remember_head({c.channel, *after.head, format_utc(run.s.clock().now())}));
  }
  return {};
}

Status check_channel(const Run& run, const std::string& channel) {
  ChannelResult out;
  out.channel = channel;
  const auto dir = run.s.ws().repos_dir() / (channel + ".git");
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    ECLUSE_TRY(remembered, run.s.state().remembered_head(channel));
    if (remembered) {
      run.report.problems.push_back(
          {channel,
           "",
           std::string(reason::k_reverify_history_rewritten.code),
           "the repository " + dir.string() + " is gone; its head was " + remembered->head,
           dir.string()});
    }
    run.report.channels.push_back(std::move(out));
    return {};
  }
  ECLUSE_TRY(repository, pipeline::open_channel(run.s, channel));
  const detail::ChannelCheck c{run.s,
                               channel,
                               repository,
                               run.keylist,
                               run.report.problems,
                               run.opts.at.value_or(run.s.clock().now())};
  ECLUSE_TRY(head, repository.branch("main"));
  ECLUSE_TRY(history_ok, detail::check_history(c, head));
  if (head) {
    ECLUSE_TRY(verified, detail::check_content(c, run.opts.threads));
    out.verified = verified.to_json();
    run.report.bytes_hashed += verified.bytes_hashed;
    ECLUSE_TRY(st, promote::read_state(repository, "main"));
    ECLUSE_CHECK(detail::check_keys(c, st));
    detail::check_vendor(c, st);
    detail::check_cms(c, st, run.ca_pem);
    ECLUSE_CHECK(finish_channel(run, c, st, history_ok, out));
  }
  run.report.channels.push_back(std::move(out));
  return {};
}

Status check_journal(const pipeline::Session& s, Report& report) {
  ECLUSE_TRY(j, pipeline::verify_journal(s));
  report.journal = {{"ok", j.ok()},
                    {"entries", j.chain.entries},
                    {"checkpoints", j.checkpoints},
                    {"last_checkpoint", j.last_checkpoint}};
  if (!j.chain.ok) {
    report.problems.push_back(
        {"",
         "",
         std::string(reason::k_journal_tampered.code),
         "journal line " + std::to_string(j.chain.first_bad_line) + ": " + j.chain.problem,
         "journal/journal.jsonl:" + std::to_string(j.chain.first_bad_line)});
  }
  for (const auto& p : j.problems) {
    report.problems.push_back({"",
                               "",
                               std::string(reason::k_journal_checkpoint_invalid.code),
                               p.problem,
                               "journal/checkpoints.jsonl:" + std::to_string(p.line)});
  }
  return {};
}

bool policy_demotes(const pipeline::Session& s) {
  auto pol = policy::load_policy(s.ws().root() / policy::k_policy_file);
  return pol && pol->policy.reverify_demote;
}

std::string read_ca(const pipeline::Session& s) {
  auto pem = fs::read_file_bounded(
      s.ws().keys_dir() / "ca.pem", 1U << 20U, reason::k_keys_no_ca, reason::k_keys_no_ca);
  return pem ? *pem : std::string();
}

// reports/reverify/20261202T181540Z (-2, -3… when a run of the same second exists).
std::filesystem::path run_dir(const pipeline::Session& s) {
  auto name = format_utc(s.clock().now());
  std::erase(name, ':');
  std::erase(name, '-');
  const auto base = s.ws().root() / "reports" / "reverify";
  auto dir = base / name;
  std::error_code ec;
  for (int n = 2; std::filesystem::exists(dir, ec); ++n) {
    dir = base / (name + "-" + std::to_string(n));
  }
  return dir;
}

}  // namespace

Result<Report> reverify(const pipeline::Session& s, const Options& opts) {
  const auto started = Steady::now();
  ECLUSE_TRY(lease, pipeline::LeaseHolder::claim(s, "reverify"));
  ECLUSE_TRY(keyring, keys::Keyring::open(s.ws().keys_dir()));
  auto release_key = keyring.active_signer(keys::Role::release);
  Report report;
  report.run_at = format_utc(s.clock().now());
  Run run{s,
          opts,
          report,
          keyring.list(),
          release_key ? &*release_key : nullptr,
          run_dir(s),
          policy_demotes(s),
          read_ca(s)};
  const auto& channels = opts.channels.empty() ? s.ws().config().channels : opts.channels;
  const auto hashing = Steady::now();
  for (const auto& channel : channels) {
    ECLUSE_CHECK(check_channel(run, channel));
  }
  report.hash_seconds = std::chrono::duration<double>(Steady::now() - hashing).count();
  ECLUSE_CHECK(check_journal(s, report));
  report.seconds = std::chrono::duration<double>(Steady::now() - started).count();
  ECLUSE_CHECK(detail::write_report(s, run.dir, report));
  ECLUSE_CHECK(s.record("",
                        "reverify.run",
                        {{"ok", report.ok()},
                         {"problems", report.problems.size()},
                         {"channels", channels},
                         {"report", report.json_file.string()}}));
  ECLUSE_TRY(checkpointed, pipeline::checkpoint(s, true));
  (void)checkpointed;
  return report;
}

}  // namespace ecluse::reverify
