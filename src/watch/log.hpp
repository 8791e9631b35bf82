// Private to src/watch: the watcher's log, one line per event on stdout (flushed), human by
// default or one JSON object per line ({"time", "event", …fields}).
#pragma once

#include <ecluse/core/json.hpp>

#include <string_view>

namespace ecluse::watch::detail {

void log_event(bool json_lines, std::string_view event, const json::Json& fields);

}  // namespace ecluse::watch::detail
