// The size-change chart: horizontal bars around a zero axis, drawn as inline SVG here so it
// shows without the script; folder names are escaped and shortened, full names in tooltips.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "html_sections.hpp"
#include "html_text.hpp"

namespace ecluse::report::detail {

namespace {

constexpr std::size_t k_max_chart_bars = 40;
constexpr std::size_t k_max_label_chars = 42;

struct Bar {
  std::string_view folder;
  std::int64_t delta = 0;
  std::optional<std::int64_t> before;
  std::optional<std::int64_t> after;
};

// One bar per folder, the largest changes kept when capped, drawn growth first.
std::vector<Bar> chart_bars(const Json& folders) {
  std::vector<Bar> bars;
  for (const auto& f : folders) {
    bars.push_back({str(f, "folder"),
                    num(f, "delta").value_or(0),
                    num(f, "bytes_before"),
                    num(f, "bytes_after")});
  }
  const auto by_size = [](const Bar& a, const Bar& b) {
    return magnitude(a.delta) > magnitude(b.delta);
  };
  if (bars.size() > k_max_chart_bars) {
    std::stable_sort(bars.begin(), bars.end(), by_size);
    bars.resize(k_max_chart_bars);
  }
  std::stable_sort(
      bars.begin(), bars.end(), [](const Bar& a, const Bar& b) { return a.delta > b.delta; });
  return bars;
}

struct Geometry {
  double width = 960;
  double label_w = 300;  // folder names, right-aligned against the plot
  double value_w = 88;   // room for a value label on either side of the plot
  double row_h = 26;
  double bar_h = 16;
  double top = 6;
  double axis = 0;   // x of zero
  double scale = 0;  // pixels per byte
};

Geometry layout(const std::vector<Bar>& bars) {
  Geometry g;
  double neg = 0;
  double pos = 0;
  for (const auto& b : bars) {
    const auto m = static_cast<double>(magnitude(b.delta));
    if (b.delta < 0) {
      neg = std::max(neg, m);
    } else {
      pos = std::max(pos, m);
    }
  }
  const double plot_x = g.label_w + g.value_w;
  const double plot_w = g.width - plot_x - g.value_w;
  const double span = neg + pos;
  g.axis = plot_x + (span > 0 ? plot_w * neg / span : 0);
  g.scale = span > 0 ? plot_w / span : 0;
  return g;
}

void put_bar(std::string& out, const Bar& b, const Geometry& g, double y) {
  const auto w = std::max(1.0, static_cast<double>(magnitude(b.delta)) * g.scale);
  const double x = b.delta < 0 ? g.axis - w : g.axis;
  const double text_y = y + g.bar_h / 2 + 4;
  const std::string name = printable(b.folder);
  const std::string delta = human_bytes(b.delta, true);
  out += "<g class=\"row\"><title>";
  escape_into(out, name.empty() ? std::string("(no folder)") : name);
  out += ": " + delta + " (" + bytes_of(b.before, false) + " \xe2\x86\x92 "
         + bytes_of(b.after, false) + ")</title>";
  out += R"(<text class="label" x=")" + coord(g.label_w - 8) + "\" y=\"" + coord(text_y)
         + R"(" text-anchor="end">)";
  escape_into(out, shorten(name, k_max_label_chars));
  out += "</text><rect class=\"bar "
         + std::string(b.delta < 0   ? "neg"
                       : b.delta > 0 ? "pos"
                                     : "zero")
         + "\" x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" width=\"" + coord(w) + "\" height=\""
         + coord(g.bar_h) + R"(" rx="2"></rect>)";
  const bool left = b.delta < 0;
  out += R"(<text class="value" x=")" + coord(left ? x - 6 : x + w + 6) + "\" y=\"" + coord(text_y)
         + "\" text-anchor=\"" + (left ? "end" : "start") + "\">" + delta + "</text></g>\n";
}

// Horizontal bars around a zero axis, drawn here so the chart shows without the script.
}  // namespace

void put_chart(std::string& out, const Json& folders) {
  section_heading(out, "chart", "Size change by top-level folder", folders.size());
  const auto bars = chart_bars(folders);
  if (bars.empty()) {
    out += "<p class=\"empty\">No folder sizes in the diff.</p>\n</section>\n";
    return;
  }
  const auto g = layout(bars);
  const double height = g.top * 2 + g.row_h * static_cast<double>(bars.size());
  out += R"(<svg class="chart" viewBox="0 0 )" + coord(g.width) + " " + coord(height)
         + "\" role=\"img\" aria-label=\"Size change by top-level folder\">\n";
  out += R"(<line class="axis" x1=")" + coord(g.axis) + R"(" y1="0" x2=")" + coord(g.axis)
         + "\" y2=\"" + coord(height) + "\"></line>\n";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    put_bar(out, bars[i], g, g.top + g.row_h * static_cast<double>(i) + (g.row_h - g.bar_h) / 2);
  }
  out +=
      "</svg>\n<div class=\"legend\"><span><i class=\"pos\"></i>grew</span>"
      "<span><i class=\"neg\"></i>shrank</span></div>\n";
  if (folders.size() > bars.size()) {
    out += "<p class=\"note cap\">The " + std::to_string(bars.size())
           + " largest changes are drawn; "
           + grouped(static_cast<std::int64_t>(folders.size() - bars.size()))
           + " smaller folders are left out of the chart.</p>\n";
  }
  out += "</section>\n";
}

}  // namespace ecluse::report::detail
