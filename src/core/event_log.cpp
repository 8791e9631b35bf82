// One line per event: "TIME EVENT key=value …" or a JSON object, in one write.
#include <ecluse/core/clock.hpp>
#include <ecluse/core/event_log.hpp>
#include <ecluse/core/printable.hpp>

#include <cstdio>
#include <string>

namespace ecluse {

void log_event(bool json_lines, std::string_view event, const json::Json& fields) {
  static const SystemClock k_clock;
  const auto now = format_utc(k_clock.now());
  std::string line;
  if (json_lines) {
    json::Json j{{"time", now}, {"event", event}};
    for (const auto& [k, v] : fields.items()) {
      j[k] = v;
    }
    line = json::dump_line(j);
  } else {
    line = now + " " + std::string(event);
    for (const auto& [k, v] : fields.items()) {
      line += " " + k + "=" + printable(v.is_string() ? v.get<std::string>() : v.dump());
    }
  }
  line += "\n";
  (void)std::fwrite(line.data(), 1, line.size(), stdout);
  (void)std::fflush(stdout);
}

}  // namespace ecluse
