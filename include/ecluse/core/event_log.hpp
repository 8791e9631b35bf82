// The log of the long-running commands (watch, worker): one line per event on stdout, written
// with one write and flushed (so that the lines of several processes sharing a pipe do not
// interleave), human by default ("TIME EVENT key=value …") or one JSON object per line
// ({"time", "event", …fields}).
#pragma once

#include <ecluse/core/json.hpp>

#include <string_view>

namespace ecluse {

void log_event(bool json_lines, std::string_view event, const json::Json& fields);

}  // namespace ecluse
