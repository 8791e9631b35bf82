// ecluse status [DROP] and ecluse show DROP: read the state store.
#include <ecluse/core/printable.hpp>
#include <ecluse/pipeline/review.hpp>

#include <cstdio>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct ReadOptions {
  std::string drop;
  bool json = false;
};

std::string padded(std::string s, std::size_t width) {
  if (s.size() < width) {
    s.append(width - s.size(), ' ');
  }
  return s;
}

std::string table_row(const store::DropRecord& d) {
  return padded(d.id.substr(0, 12), 14) + padded(std::string(to_string(d.state)), 10)
         + padded(drop_name(d), 40) + padded(printable(d.channel), 10) + d.updated_at
         + (d.rejection ? "  " + d.rejection->reason : "") + "\n";
}

// Every untrusted field (names from drop.json, paths, messages) goes through printable().
std::string drop_summary(const store::DropRecord& d) {
  std::string s = "drop     " + d.id + "\n" + "name     " + drop_name(d) + "\n" + "channel  "
                  + printable(d.channel) + "\n" + "state    " + std::string(to_string(d.state))
                  + "\n" + "source   " + printable(d.source) + "\n" + "created  " + d.created_at
                  + "\n" + "updated  " + d.updated_at + "\n";
  if (d.rejection) {
    s += "rejected at " + d.rejection->stage + ": " + d.rejection->reason + "\n  "
         + printable(d.rejection->message) + "\n";
  }
  return s;
}

std::string str(const json::Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j.at(key).is_string()
             ? printable(j.at(key).get<std::string>())
             : std::string("?");
}

std::string key_text(const json::Json& k) {
  if (!k.is_object()) {
    return "?";
  }
  return str(k, "type") + (k.contains("curve") ? " " + str(k, "curve") : "") + " "
         + (k.contains("bits") ? k.at("bits").dump() : "?") + " bits";
}

// The verify stage's evidence as a person reads it.
std::string verify_text(const json::Json& e) {
  std::string t;
  const auto& sig = e.contains("signature") ? e.at("signature") : json::Json(nullptr);
  if (sig.is_object() && sig.contains("kind") && sig.at("kind") == "raw-key") {
    t += "  signed by  raw " + str(sig, "algorithm") + " key " + str(sig, "key_id") + "\n";
  } else if (sig.is_object() && sig.contains("signer")) {
    const auto& signer = sig.at("signer");
    t += "  signer     " + str(signer, "subject") + " ("
         + key_text(signer.value("key", json::Json())) + ")\n";
    std::string label = "  chain      ";
    for (const auto& c : sig.value("chain", json::Json::array())) {
      t += label + str(c, "subject") + " [" + str(c, "sha256").substr(0, 16) + "]\n";
      label = "             ";
    }
    t += label + "(the last is the root pinned for this vendor)\n  algorithm  "
         + str(sig, "signature_algorithm") + ", digest " + str(sig, "digest") + "\n  validated  at "
         + str(sig, "validated_at")
         + " (the signer's claimed signing time is never used)\n  crls       "
         + std::to_string(sig.value("crls", json::Json::array()).size()) + " consulted\n";
  }
  if (e.contains("version") && e.at("version").is_object()) {
    const auto& v = e.at("version");
    const auto& base = v.value("baseline", json::Json());
    t += "  version    " + str(v, "version")
         + (base.is_object() ? " above " + str(base, "version") + " (drop "
                                   + str(base, "drop").substr(0, 12) + ")"
                             : std::string(" (first accepted of its vendor, product and channel)"))
         + "\n";
  }
  return t;
}

// The unpack stage's evidence as a person reads it.
std::string unpack_text(const json::Json& e) {
  if (!e.contains("totals") || !e.at("totals").is_object()) {
    return {};
  }
  const auto& t = e.at("totals");
  const auto num = [](const json::Json& j, const char* key) {
    return std::to_string(j.is_object() && j.contains(key) && j.at(key).is_number_unsigned()
                              ? j.at(key).get<std::uint64_t>()
                              : 0);
  };
  std::string text = "  unpacked   " + num(t, "entries") + " entries, " + num(t, "bytes")
                     + " bytes, from " + num(t, "archives") + " archives\n";
  for (const auto& a : e.value("artifacts", json::Json::array())) {
    std::string kind = a.value("format", json::Json()).is_string() ? str(a, "format") : "file";
    for (const auto& f : a.value("filters", json::Json::array())) {
      kind += "+" + (f.is_string() ? printable(f.get<std::string>()) : std::string("?"));
    }
    text +=
        "  artifact   " + str(a, "path") + " (" + kind + ", " + num(a, "entries") + " entries)\n";
  }
  if (e.contains("tree")) {
    text += "  tree       " + str(e.at("tree"), "file") + " sha256 " + str(e.at("tree"), "sha256")
            + "\n  stored     " + num(e, "new_objects")
            + " new objects (the rest were in the store already)\n";
  }
  if (e.contains("failed")) {
    text += "  refused    " + str(e.at("failed"), "reason") + " at " + str(e.at("failed"), "item")
            + "\n";
  }
  return text;
}

// The test stage's evidence as a person reads it.
std::string test_text(const json::Json& e) {
  if (!e.contains("document") || !e.at("document").is_object()) {
    return {};
  }
  const auto& prof = e.value("profile", json::Json::object());
  std::string text =
      "  profile    " + str(prof, "name") + " (" + str(prof, "sha256").substr(0, 12) + ")\n";
  if (!e.value("ran", false)) {
    return text + "  not run    "
           + (e.value("suite", json::Json()).is_null() ? "no suite for the product"
                                                       : "the sandbox could not run here")
           + "\n  results    " + str(e.at("document"), "file") + "\n";
  }
  const auto& suite = e.value("suite", json::Json::object());
  const auto& sum = e.value("summary", json::Json::object());
  const auto num = [&](const char* key) {
    return std::to_string(sum.value(key, 0));
  };
  const auto shift = e.value("time_shift_days", 0);
  text += "  suite      " + str(suite, "name") + " (" + str(suite, "sha256").substr(0, 12) + ")\n"
          + "  sandbox    " + str(e.value("environment", json::Json::object()), "bwrap")
          + ", processes capped by "
          + str(e.value("environment", json::Json::object()), "process_cap") + "\n"
          + "  ran        " + num("commands") + " commands, real clock"
          + (shift > 0 ? " and +" + std::to_string(shift) + " days" : std::string()) + ": "
          + num("passed") + " passed, " + num("failed") + " failed, " + num("fails_in_future")
          + " failing in the future, " + num("egress_attempts") + " egress attempts\n"
          + "  results    " + str(e.at("document"), "file") + " sha256 "
          + str(e.at("document"), "sha256") + ", outputs in test-output/\n";
  return text;
}

// The sign stage's evidence as a person reads it.
std::string sign_text(const json::Json& e) {
  if (!e.contains("summary") || !e.at("summary").is_object()) {
    return {};
  }
  const auto& cert = e.value("certificate", json::Json::object());
  std::string text = "  signed by  release key " + str(e, "release_key").substr(0, 16)
                     + ", certificate " + printable(str(cert, "subject")) + " until "
                     + str(cert, "not_after") + "\n";
  for (const auto& a : e.value("attestations", json::Json::array())) {
    text += "  statement  " + str(a, "file") + "  " + str(a, "sha256").substr(0, 16) + "\n";
  }
  text += "  summary    " + str(e.at("summary"), "file") + "  "
          + str(e.at("summary"), "sha256").substr(0, 16) + "\n" + "  artifacts  "
          + std::to_string(e.value("signatures", json::Json::array()).size())
          + " CMS signatures in signatures/\n";
  return text;
}

// Held drops with what they wait for: approvals required, granted (by whom), still needed.
Result<json::Json> waiting_reviews(const pipeline::Session& s,
                                   const std::vector<store::DropRecord>& drops) {
  auto out = json::Json::array();
  for (const auto& d : drops) {
    if (d.state != DropState::held) {
      continue;
    }
    ECLUSE_TRY(view, pipeline::verdict_view(s, d));
    const auto approvals = view.value("approvals", json::Json::object());
    auto names = json::Json::array();
    for (const auto& a : approvals.value("granted", json::Json::array())) {
      names.push_back(a.value("name", std::string()));
    }
    auto reasons = json::Json::array();
    for (const auto& r : view.value("reasons", json::Json::array())) {
      if (r.value("action", std::string()) == "hold") {
        reasons.push_back(r.value("code", std::string()));
      }
    }
    const auto required = approvals.value("required", 1U);
    out.push_back({{"id", d.id},
                   {"name", d.vendor + "/" + d.product + "/" + d.version},
                   {"channel", d.channel},
                   {"required", required},
                   {"approved_by", names},
                   {"needed", required > names.size() ? required - names.size() : 0},
                   {"held_for", reasons}});
  }
  return out;
}

std::string waiting_text(const json::Json& waiting) {
  if (waiting.empty()) {
    return {};
  }
  std::string t = "\nwaiting for review:\n";
  for (const auto& w : waiting) {
    std::string names;
    for (const auto& n : w["approved_by"]) {
      names += (names.empty() ? "" : ", ") + printable(n.get<std::string>());
    }
    std::string why;
    for (const auto& r : w["held_for"]) {
      why += (why.empty() ? "" : ", ") + r.get<std::string>();
    }
    t += "  " + w["id"].get<std::string>().substr(0, 12) + "  ";
    t += printable(w["name"].get<std::string>()) + "  needs ";
    t += std::to_string(w["needed"].get<std::uint64_t>()) + " more of ";
    t += std::to_string(w["required"].get<std::uint64_t>()) + " approvals";
    t += names.empty() ? std::string() : " (approved by " + names + ")";
    t += "; held for " + why + "\n";
  }
  return t
         + "  decide: ecluse diff ID, then ecluse approve ID --as NAME --reason TEXT (or reject)\n";
}

int run_status(const GlobalOptions& g, const ReadOptions& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  if (!o.drop.empty()) {
    auto d = find_drop(*session, o.drop);
    if (!d) {
      return report(d.error(), o.json);
    }
    out(o.json ? json::dump_pretty(drop_json(*d)) + "\n" : drop_summary(*d));
    return k_exit_ok;
  }
  auto drops = session->state().list_drops();
  if (!drops) {
    return report(drops.error(), o.json);
  }
  auto waiting = waiting_reviews(*session, *drops);
  if (!waiting) {
    return report(waiting.error(), o.json);
  }
  if (o.json) {
    auto list = json::Json::array();
    for (const auto& d : *drops) {
      list.push_back(drop_json(d));
    }
    out(json::dump_pretty(json::Json{{"drops", list}, {"waiting", *waiting}}) + "\n");
    return k_exit_ok;
  }
  std::string text = padded("ID", 14) + padded("STATE", 10) + padded("VENDOR/PRODUCT/VERSION", 40)
                     + padded("CHANNEL", 10) + "UPDATED\n";
  for (const auto& d : *drops) {
    text += table_row(d);
  }
  out(drops->empty() ? "no drops yet (ecluse ingest DROP_DIR)\n" : text + waiting_text(*waiting));
  return k_exit_ok;
}

int run_show(const GlobalOptions& g, const ReadOptions& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto d = find_drop(*session, o.drop);
  if (!d) {
    return report(d.error(), o.json);
  }
  auto stages = session->state().stage_results(d->id);
  auto findings = session->state().findings(d->id);
  if (!stages || !findings) {
    return report(!stages ? stages.error() : findings.error(), o.json);
  }
  auto j = drop_json(*d);
  j["stages"] = json::Json::array();
  for (const auto& st : *stages) {
    j["stages"].push_back({{"stage", st.stage},
                           {"state_after", to_string(st.state_after)},
                           {"committed_at", st.committed_at},
                           {"evidence", st.evidence}});
  }
  j["findings"] = store::to_json(*findings);
  j["evidence_dir"] = (session->ws().drops_dir() / d->id).string();
  if (o.json) {
    out(json::dump_pretty(j) + "\n");
    return k_exit_ok;
  }
  std::string text = drop_summary(*d);
  for (const auto& st : *stages) {
    text += "\nstage " + st.stage + " -> " + std::string(to_string(st.state_after)) + " at "
            + st.committed_at + "\n";
    const auto summary = st.stage == "verify"   ? verify_text(st.evidence)
                         : st.stage == "unpack" ? unpack_text(st.evidence)
                         : st.stage == "test"   ? test_text(st.evidence)
                         : st.stage == "sign"   ? sign_text(st.evidence)
                                                : std::string();
    text += summary.empty() ? json::dump_pretty(st.evidence) + "\n" : summary;
  }
  for (const auto& f : *findings) {
    text += "finding " + f.severity + " " + f.code + " " + printable(f.item) + ": "
            + printable(f.detail) + "\n";
  }
  out(text + "\nevidence: " + j["evidence_dir"].get<std::string>() + "\n");
  return k_exit_ok;
}

}  // namespace

void add_status(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto opts = std::make_shared<ReadOptions>();
  auto* cmd = app.add_subcommand("status", "list drops and their states, or one drop's state");
  cmd->add_option("DROP", opts->drop, "short id (hex prefix) or VENDOR/PRODUCT/VERSION");
  cmd->add_flag("--json", opts->json, "print as JSON");
  cmd->callback([opts, &g, &action] {
    action = [opts, &g] {
      return run_status(g, *opts);
    };
  });
}

void add_show(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto opts = std::make_shared<ReadOptions>();
  auto* cmd =
      app.add_subcommand("show", "show one drop: record, stage results with evidence, findings");
  cmd->add_option("DROP", opts->drop, "short id (hex prefix) or VENDOR/PRODUCT/VERSION")
      ->required();
  cmd->add_flag("--json", opts->json, "print as JSON");
  cmd->callback([opts, &g, &action] {
    action = [opts, &g] {
      return run_show(g, *opts);
    };
  });
}

}  // namespace ecluse::cli
