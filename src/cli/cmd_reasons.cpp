// ecluse reasons: the reason-code catalogue (README's list is generated from it).
#include "common.hpp"

namespace ecluse::cli {

namespace {

struct ReasonsOptions {
  bool json = false;
  bool markdown = false;
};

int run_reasons(const ReasonsOptions& o) {
  if (o.json) {
    auto list = json::Json::array();
    for (const auto* r : all_reasons()) {
      list.push_back(
          {{"code", r->code}, {"family", to_string(r->family)}, {"summary", r->summary}});
    }
    out(json::dump_pretty(json::Json{{"reasons", list}}) + "\n");
    return k_exit_ok;
  }
  std::string text = o.markdown ? "| code | family | meaning |\n|---|---|---|\n" : "";
  for (const auto* r : all_reasons()) {
    if (o.markdown) {
      text += "| `" + std::string(r->code) + "` | " + std::string(to_string(r->family)) + " | "
              + std::string(r->summary) + " |\n";
    } else {
      text += std::string(r->code) + "  (" + std::string(to_string(r->family)) + ")  "
              + std::string(r->summary) + "\n";
    }
  }
  out(text);
  return k_exit_ok;
}

}  // namespace

void add_reasons(CLI::App& app, const GlobalOptions& /*g*/, Action& action) {
  auto opts = std::make_shared<ReasonsOptions>();
  auto* cmd =
      app.add_subcommand("reasons", "list every stable reason code with its family and meaning");
  cmd->add_flag("--json", opts->json, "print as JSON");
  cmd->add_flag("--markdown", opts->markdown, "print as a Markdown table (README's list)");
  cmd->callback([opts, &action] {
    action = [opts] {
      return run_reasons(*opts);
    };
  });
}

}  // namespace ecluse::cli
