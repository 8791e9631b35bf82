// The report of a re-verification, as JSON and as text.
#include "report.hpp"

#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>

#include <cstdio>

namespace ecluse::reverify {

json::Json Report::to_json() const {
  auto problems_json = json::Json::array();
  for (const auto& p : problems) {
    problems_json.push_back({{"channel", p.channel},
                             {"release", p.release},
                             {"reason", p.reason},
                             {"message", p.message},
                             {"item", p.item}});
  }
  auto channels_json = json::Json::array();
  for (const auto& c : channels) {
    channels_json.push_back(
        {{"channel", c.channel},
         {"head", c.head},
         {"releases", c.releases},
         {"refreshed", c.refreshed.empty() ? json::Json() : json::Json(c.refreshed)},
         {"demoted", c.demoted},
         {"summaries", c.summaries},
         {"verified", c.verified}});
  }
  const double rate = hash_seconds > 0 ? static_cast<double>(bytes_hashed) / hash_seconds : 0.0;
  return {{"schema", "ecluse.reverify/v1"},
          {"run_at", run_at},
          {"ok", ok()},
          {"problems", problems_json},
          {"channels", channels_json},
          {"journal", journal},
          {"bytes_hashed", bytes_hashed},
          {"verify_seconds", hash_seconds},
          {"bytes_per_second", rate},
          {"seconds", seconds},
          {"report", json_file.string()}};
}

std::string Report::to_text() const {
  std::string t = "reverify " + run_at + ": "
                  + (ok() ? "ok" : std::to_string(problems.size()) + " problem(s)") + "\n";
  for (const auto& c : channels) {
    t += "  channel " + printable(c.channel) + ": " + std::to_string(c.releases.size())
         + " release(s)" + (c.head.empty() ? ", no commit yet" : ", head " + c.head.substr(0, 12));
    if (!c.refreshed.empty()) {
      t += ", metadata re-signed in " + c.refreshed.substr(0, 12);
    }
    if (!c.demoted.empty()) {
      t += ", demoted " + std::to_string(c.demoted.size());
    }
    t += "\n";
  }
  t += "  journal: " + std::string(journal.value("ok", false) ? "ok" : "BROKEN") + ", "
       + std::to_string(journal.value("entries", 0)) + " entries\n";
  t += "  hashed " + std::to_string(bytes_hashed) + " bytes";
  if (bytes_hashed >= 100000000 && hash_seconds > 0) {  // a rate of a few bytes says nothing
    std::array<char, 64> rate{};
    (void)std::snprintf(rate.data(),
                        rate.size(),
                        " (%.0f MB/s)",
                        static_cast<double>(bytes_hashed) / hash_seconds / 1e6);
    t += rate.data();
  }
  t += "\n";
  for (const auto& p : problems) {
    t += "  " + p.reason
         + (p.channel.empty() ? ""
                              : " [" + printable(p.channel)
                                    + (p.release.empty() ? "" : " " + printable(p.release)) + "]")
         + ": " + printable(p.message) + "\n";
  }
  return t;
}

namespace detail {

Status write_report(const pipeline::Session& /*s*/,
                    const std::filesystem::path& dir,
                    Report& report) {
  ECLUSE_CHECK(fs::make_dirs(dir, reason::k_workspace_io));
  report.json_file = dir / "report.json";
  report.text_file = dir / "report.txt";
  ECLUSE_CHECK(fs::write_file_atomic(
      report.json_file, json::dump_pretty(report.to_json()) + "\n", reason::k_workspace_io));
  return fs::write_file_atomic(report.text_file, report.to_text(), reason::k_workspace_io);
}

}  // namespace detail

}  // namespace ecluse::reverify
