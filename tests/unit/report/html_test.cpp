// The HTML report: hostile names stay text, nothing is loaded from the network, the banner
// follows the verdict, caps are announced and broken documents still render.
#include <ecluse/report/html.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using ecluse::json::Json;
using ecluse::report::render_html;

namespace {

constexpr std::string_view k_hostile = "<script>alert(1)</script>\" onmouseover=\"x' <img src=x>";

std::size_t count(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

bool has(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

Json change(const std::string& path, const std::string& kind, std::int64_t delta) {
  return {{"path", path},
          {"change", kind},
          {"type", "file"},
          {"size_delta", delta},
          {"class", {{"kind", "elf"}, {"arch", "x86_64"}}}};
}

Json sample_diff() {
  Json changes = Json::array();
  for (int i = 0; i < 5; ++i) {
    changes.push_back(change("app.tar.gz/bin/tool" + std::to_string(i), "modified", 1000 * i));
  }
  changes.push_back(change("app.tar.gz/lib/old.so", "removed", -2048));
  return {{"schema", "ecluse.diff/v1"},
          {"drop",
           {{"id", std::string(64, 'a')},
            {"vendor", "acme"},
            {"product", "cloud"},
            {"version", "2.0"},
            {"channel", "stable"}}},
          {"baseline", {{"id", std::string(64, 'b')}, {"version", "1.0"}, {"source", "promoted"}}},
          {"summary", {{"added", 3}, {"removed", 1}, {"bytes_before", 100}, {"bytes_after", 50}}},
          {"changes", changes},
          {"endpoints",
           Json::array({{{"file", "app.tar.gz/bin/tool0"},
                         {"offset", 1234},
                         {"endpoint", "https://telemetry.example.com/v1"},
                         {"kind", "url"},
                         {"host", "telemetry.example.com"},
                         {"allowed", false}},
                        {{"file", "app.tar.gz/bin/tool1"},
                         {"endpoint", "http://updates.example.com"},
                         {"allowed", true}}})},
          {"by_folder",
           Json::array({{{"folder", "app.tar.gz/bin"}, {"delta", 10000}},
                        {{"folder", "app.tar.gz/lib"}, {"delta", -2048}},
                        {{"folder", "app.tar.gz/share"}, {"delta", 0}},
                        {{"folder", "docs.zip/html"}, {"delta", 512}}})}};
}

Json verdict(const std::string& decision) {
  return {{"decision", decision},
          {"reasons",
           Json::array({{{"code", "policy.new_endpoint"},
                         {"action", "hold"},
                         {"item", "app.tar.gz/bin/tool0"},
                         {"detail", "telemetry.example.com is not allowed"}}})},
          {"approvals",
           {{"required", 2},
            {"granted", Json::array({{{"name", "alice"}, {"reason", "reviewed"}, {"time", "t1"}}})},
            {"rejected_by", nullptr}}}};
}

// Every string field of every document set to text.
void fill_strings(Json& j, std::string_view text) {
  if (j.is_string()) {
    j = std::string(text);
  }
  for (auto& child : j) {
    if (j.is_structured()) {
      fill_strings(child, text);
    }
  }
}

}  // namespace

TEST_CASE("report::render_html keeps hostile names as text") {
  Json diff = sample_diff();
  Json findings = Json::array(
      {{{"stage", "s"}, {"code", "c"}, {"severity", "high"}, {"item", "i"}, {"detail", "d"}}});
  Json v = verdict("hold");
  v["approvals"]["rejected_by"] = {{"name", "n"}, {"reason", "r"}, {"time", "t"}};
  fill_strings(diff, k_hostile);
  fill_strings(findings, k_hostile);
  fill_strings(v, k_hostile);
  const auto html = render_html(diff, findings, v);

  CHECK_FALSE(has(html, "<script>alert"));
  CHECK_FALSE(has(html, "\" onmouseover="));
  CHECK_FALSE(has(html, "' <img"));
  CHECK_FALSE(has(html, "<img"));
  CHECK(count(html, "<script") == 1);  // the report's own script only
  CHECK(count(html, "</script>") == 1);
  CHECK(has(html, "&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;x&#39; &lt;img"));
  CHECK(has(html, "Verdict: UNKNOWN"));  // a hostile decision is not a known one

  SUBCASE("controls and bidi overrides are shown, not obeyed") {
    Json d = sample_diff();
    d["changes"][0]["path"] = "evil\xe2\x80\xaegpj.exe\x1b[2J";
    const auto out = render_html(d, Json::array(), nullptr);
    CHECK_FALSE(has(out, "\xe2\x80\xae"));
    CHECK_FALSE(has(out, "\x1b"));
    CHECK(has(out, "evil\\xe2\\x80\\xaegpj.exe\\x1b[2J"));
  }
}

TEST_CASE("report::render_html loads nothing from the network") {
  const auto html = render_html(sample_diff(), Json::array(), verdict("hold"));
  for (const auto* bad : {"<link",
                          "@import",
                          "src=",
                          "href=",
                          "url(",
                          "<iframe",
                          "<object",
                          "<embed",
                          "<img",
                          "<base",
                          "srcset",
                          "xlink:",
                          "fetch(",
                          "XMLHttpRequest"}) {
    INFO(bad);
    CHECK_FALSE(has(html, bad));
  }
  CHECK(has(html,
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
            "'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"));
  CHECK(html.find("Content-Security-Policy") < html.find("<style>"));

  // URLs appear only as the endpoints' escaped text.
  std::string rest = html;
  for (const std::string url : {"https://telemetry.example.com/v1", "http://updates.example.com"}) {
    CHECK(count(rest, ">" + url + "</td>") == 1);
    rest.replace(rest.find(url), url.size(), "");
  }
  CHECK_FALSE(has(rest, "http:"));
  CHECK_FALSE(has(rest, "https:"));
  CHECK_FALSE(has(rest, "//"));
}

TEST_CASE("report::render_html colours the banner by decision") {
  const auto banner = [](const Json& v) {
    return render_html(sample_diff(), Json::array(), v);
  };
  SUBCASE("pass") {
    const auto html = banner(verdict("pass"));
    CHECK(has(html, "class=\"banner pass\""));
    CHECK(has(html, "Verdict: PASS"));
  }
  SUBCASE("hold") {
    const auto html = banner(verdict("hold"));
    CHECK(has(html, "class=\"banner hold\""));
    CHECK(has(html, "Verdict: HOLD"));
    CHECK(has(html, "policy.new_endpoint"));
  }
  SUBCASE("reject") {
    const auto html = banner(verdict("reject"));
    CHECK(has(html, "class=\"banner reject\""));
    CHECK(has(html, "Verdict: REJECT"));
  }
  SUBCASE("not decided yet") {
    const auto html = banner(nullptr);
    CHECK(has(html, "class=\"banner undecided\""));
    CHECK(has(html, "Verdict: NOT DECIDED YET"));
  }
  SUBCASE("an unknown decision is grey") {
    const auto html = banner(verdict("maybe"));
    CHECK(has(html, "class=\"banner undecided\""));
    CHECK(has(html, "Verdict: UNKNOWN"));
  }
}

TEST_CASE("report::render_html shows the drop, its baseline and the approvals") {
  auto v = verdict("hold");
  auto html = render_html(sample_diff(), Json::array(), v);
  CHECK(has(html, "acme / cloud 2.0"));
  CHECK(has(html, "on channel <strong>stable"));
  CHECK(has(html, "<strong>1.0</strong> (promoted)"));
  CHECK(has(html, "<strong>1 of 2</strong>"));
  CHECK(has(html, "<strong>alice</strong>: reviewed"));
  CHECK_FALSE(has(html, "Rejected by"));

  v["approvals"]["granted"].push_back({{"name", "bob"}});
  v["approvals"]["rejected_by"] = {{"name", "carol"}, {"reason", "unexpected telemetry"}};
  html = render_html(sample_diff(), Json::array(), v);
  CHECK(has(html, "<strong>2 of 2</strong>"));
  CHECK(has(html, "<strong>bob</strong>"));
  CHECK(has(html, "Rejected by</dt><dd><strong>carol</strong>: unexpected telemetry"));

  auto first = sample_diff();
  first["baseline"] = nullptr;
  CHECK(has(render_html(first, Json::array(), v), "first release: no baseline"));
  first.erase("baseline");
  CHECK(has(render_html(first, Json::array(), v), "first release: no baseline"));
}

TEST_CASE("report::render_html caps the change list and says how much is left out") {
  auto diff = sample_diff();
  auto changes = Json::array();
  for (int i = 0; i < 20'001; ++i) {
    changes.push_back({{"path", "p/" + std::to_string(i)}, {"change", "added"}});
  }
  diff["changes"] = changes;
  auto html = render_html(diff, Json::array(), nullptr);
  CHECK(count(html, ">p/") == 20'000);
  CHECK(has(html, "Showing the first 20,000 of 20,001 changes; 1 left out of this page"));

  diff["changes"].erase(diff["changes"].size() - 1);
  html = render_html(diff, Json::array(), nullptr);
  CHECK(count(html, ">p/") == 20'000);
  CHECK_FALSE(has(html, "left out of this page"));
}

TEST_CASE("report::render_html tolerates missing and mistyped fields") {
  SUBCASE("nothing at all") {
    std::string html;
    CHECK_NOTHROW(html = render_html({}, {}, nullptr));
    CHECK(has(html, "<!DOCTYPE html>"));
    CHECK(has(html, "</html>"));
    CHECK(has(html, "Verdict: NOT DECIDED YET"));
    CHECK(has(html, "first release: no baseline"));
    CHECK(has(html, "No changes."));
  }
  SUBCASE("every field of the wrong type") {
    const Json diff = {
        {"drop", 5},
        {"baseline", "1.0"},
        {"summary", {{"added", "three"}, {"bytes_before", 1.5e300}, {"bytes_after", -1}}},
        {"changes",
         Json::array({7,
                      nullptr,
                      {{"path", 1}, {"size_delta", "big"}, {"class", "elf"}},
                      {{"size_before", UINT64_MAX}, {"size_after", 0}}})},
        {"endpoints", {{"not", "an array"}}},
        {"by_folder", Json::array({"x", {{"delta", -1e30}}, {{"delta", INT64_MIN}}})}};
    const Json v = {
        {"decision", 3}, {"reasons", "none"}, {"approvals", {{"required", "two"}, {"granted", 4}}}};
    std::string html;
    CHECK_NOTHROW(html = render_html(diff, Json("not an array"), v));
    CHECK(has(html, "</html>"));
    CHECK(has(html, "<strong>0 of 0</strong>"));
    CHECK(count(html, "<rect class=\"bar") == 3);
  }
  SUBCASE("extreme numbers saturate instead of overflowing") {
    const Json diff = {
        {"summary", {{"bytes_before", INT64_MIN}, {"bytes_after", INT64_MAX}}},
        {"changes", Json::array({{{"size_before", INT64_MIN}, {"size_after", UINT64_MAX}}})},
        {"by_folder", Json::array({{{"delta", INT64_MIN}}, {{"delta", UINT64_MAX}}})}};
    std::string html;
    CHECK_NOTHROW(html = render_html(diff, Json::array(), nullptr));
    CHECK(count(html, "<rect class=\"bar") == 2);
  }
  SUBCASE("a missing drop object is not read from the top level") {
    const auto html = render_html({{"vendor", "toplevel"}, {"added", 99}}, Json::array(), nullptr);
    CHECK_FALSE(has(html, "toplevel"));
    CHECK_FALSE(has(html, ">99<"));
  }
  SUBCASE("documents that are not objects") {
    std::string html;
    CHECK_NOTHROW(html = render_html(Json::array({1, 2}), Json(42), Json("pass")));
    CHECK(has(html, "Verdict: NOT DECIDED YET"));
  }
}

TEST_CASE("report::render_html draws one bar per folder, growth and shrinkage apart") {
  auto html = render_html(sample_diff(), Json::array(), nullptr);
  CHECK(count(html, "<svg") == 1);
  CHECK(count(html, "<rect class=\"bar") == 4);
  CHECK(count(html, "<rect class=\"bar pos\"") == 2);
  CHECK(count(html, "<rect class=\"bar neg\"") == 1);
  CHECK(count(html, "<rect class=\"bar zero\"") == 1);
  CHECK(has(html, ">app.tar.gz/lib</text>"));

  auto many = sample_diff();
  many["by_folder"] = Json::array();
  for (int i = 0; i < 45; ++i) {
    many["by_folder"].push_back({{"folder", "f" + std::to_string(i)}, {"delta", i}});
  }
  html = render_html(many, Json::array(), nullptr);
  CHECK(count(html, "<rect class=\"bar") == 40);
  CHECK(has(html, "5 smaller folders are left out of the chart"));
  CHECK_FALSE(has(html, ">f0</text>"));  // the smallest changes are the ones left out

  many.erase("by_folder");
  CHECK(count(render_html(many, Json::array(), nullptr), "<svg") == 0);
}

TEST_CASE("report::render_html gives the script sort keys and a ready mark") {
  const auto html = render_html(sample_diff(), Json::array(), nullptr);
  CHECK(has(html, "<table class=\"sortable\" id=\"changes-table\">"));
  CHECK(has(html, "data-sort=\"-2048\""));
  CHECK(has(html, "setAttribute('data-ready', '1')"));
  CHECK(html.rfind("<script>") > html.rfind("</table>"));  // runs after the tables exist
}

TEST_CASE("report::render_html shows a hold that engineers approved as APPROVED, not PASS") {
  Json v = verdict("pass");
  v["decided"] = "hold";
  const auto html = render_html(sample_diff(), Json::array(), v);
  CHECK(has(html, "Verdict: APPROVED"));
  CHECK_FALSE(has(html, "Verdict: PASS"));
  CHECK(has(render_html(sample_diff(), Json::array(), verdict("pass")), "Verdict: PASS"));
}

TEST_CASE("report::render_html shows each suite command's two runs, names escaped") {
  const Json tests = {
      {"schema", "ecluse.test/v1"},
      {"profile", {{"name", "default"}}},
      {"suite", {{"name", "cloud"}}},
      {"environment", {{"bwrap", "bubblewrap 0.8.0"}}},
      {"time_shift_days", 400},
      {"commands",
       Json::array({{{"name", "<script>alert(1)</script>"},
                     {"expect_exit", 0},
                     {"now", {{"exit_code", 0}, {"seconds", 0.02}, {"egress", Json::array()}}},
                     {"shifted", {{"exit_code", 3}, {"egress", Json::array({Json::object()})}}}},
                    {{"name", "slow"},
                     {"expect_exit", 0},
                     {"now", {{"exit_code", -1}, {"timed_out", true}}}}})}};
  const auto html = render_html(Json::object(), Json::array(), nullptr, tests);
  CHECK(html.find("<section id=\"tests\">") != std::string::npos);
  CHECK(html.find("<script>alert(1)") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)") != std::string::npos);
  CHECK(html.find("<td class=\"ok\">passed</td><td class=\"bad\">exit 3</td>")
        != std::string::npos);
  CHECK(html.find("<td class=\"bad\">timeout</td>") != std::string::npos);
  CHECK(html.find("400 days ahead") != std::string::npos);
  SUBCASE("no test document: no section") {
    CHECK(render_html(Json::object(), Json::array(), nullptr).find("id=\"tests\"")
          == std::string::npos);
  }
}
