// Helpers shared by the CLI's commands.
#include "common.hpp"

#include <ecluse/core/printable.hpp>
#include <ecluse/queue/queue.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace ecluse::cli {

int exit_code_of(const Error& e) {
  switch (e.code) {
    case Errc::rejected:
    case Errc::corrupt:
    case Errc::resource_exhausted:
      return k_exit_rejected;
    case Errc::invalid_argument:
    case Errc::not_found:
    case Errc::failed_precondition:
      return k_exit_usage;
    case Errc::permission_denied:
    case Errc::unavailable:
    case Errc::internal:
      return k_exit_internal;
  }
  return k_exit_internal;
}

void out(const std::string& text) {
  (void)std::fwrite(text.data(), 1, text.size(), stdout);
  (void)std::fflush(stdout);
}

int report(const Error& e, bool json) {
  if (json) {
    out(json::dump_pretty(json::Json{{"error",
                                      {{"reason", e.reason},
                                       {"family", to_string(e.code)},
                                       {"message", e.message},
                                       {"item", e.item}}}})
        + "\n");
  }
  (void)std::fprintf(stderr, "ecluse: %s: %s\n", e.reason.c_str(), printable(e.message).c_str());
  return exit_code_of(e);
}

std::string actor() {
  const char* user = std::getenv("USER");  // NOLINT(concurrency-mt-unsafe)
  return "cli:"
         + (user != nullptr && *user != '\0' ? std::string(user)
                                             : "uid" + std::to_string(::getuid()));
}

Result<pipeline::Session> open_session(const GlobalOptions& g) {
  static const SystemClock k_clock;
  ECLUSE_TRY(ws, workspace::Workspace::open(workspace::resolve_dir(g.workspace)));
  return pipeline::Session::open(std::move(ws), k_clock, actor());
}

namespace {

bool is_hex_prefix(const std::string& s) {
  return s.size() >= 4 && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

Result<store::DropRecord> find_drop(const pipeline::Session& s, const std::string& ref) {
  std::vector<store::DropRecord> found;
  if (is_hex_prefix(ref)) {
    ECLUSE_TRY(by_id, s.state().find_by_prefix(ref));
    found = std::move(by_id);
  }
  const auto a = ref.find('/');
  const auto b = a == std::string::npos ? a : ref.find('/', a + 1);
  if (found.empty() && b != std::string::npos) {
    ECLUSE_TRY(
        by_name,
        s.state().find_by_name(ref.substr(0, a), ref.substr(a + 1, b - a - 1), ref.substr(b + 1)));
    found = std::move(by_name);
  }
  if (found.empty()) {
    return fail(reason::k_state_unknown_drop,
                "no drop matches '" + ref + "' (use a short id or VENDOR/PRODUCT/VERSION)",
                ref);
  }
  if (found.size() > 1 && !std::all_of(found.begin(), found.end(), [&](const auto& d) {
        return d.id == found[0].id;
      })) {
    std::string ids;
    for (const auto& d : found) {
      ids += (ids.empty() ? "" : ", ") + d.id.substr(0, 12);
    }
    return fail(reason::k_state_ambiguous_drop, "'" + ref + "' matches several drops: " + ids, ref);
  }
  return found.front();
}

std::string drop_name(const store::DropRecord& d) {
  return d.vendor.empty() ? std::string("?")
                          : printable(d.vendor + "/" + d.product + "/" + d.version);
}

std::string queued_line(const std::optional<store::Job>& job) {
  if (!job) {
    return "";
  }
  return "queued    job " + std::to_string(job->id) + ": " + job->stage
         + (job->stage == "promote" ? " to " + printable(job->promote_to) : "")
         + " (ecluse worker runs it)\n";
}

json::Json queued_json(const std::optional<store::Job>& job) {
  return job ? queue::to_json(*job) : json::Json();
}

json::Json drop_json(const store::DropRecord& d) {
  json::Json j{{"id", d.id},
               {"short_id", d.id.substr(0, 12)},
               {"vendor", d.vendor},
               {"product", d.product},
               {"version", d.version},
               {"channel", d.channel},
               {"state", to_string(d.state)},
               {"source", d.source},
               {"created_at", d.created_at},
               {"updated_at", d.updated_at},
               {"rejection", nullptr}};
  if (d.rejection) {
    j["rejection"] = {{"stage", d.rejection->stage},
                      {"reason", d.rejection->reason},
                      {"message", d.rejection->message},
                      {"item", d.rejection->item}};
  }
  return j;
}

}  // namespace ecluse::cli
