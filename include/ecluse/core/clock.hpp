// Time as a seam: stages read the clock through Clock so tests can fix it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ecluse {

using TimePoint = std::chrono::sys_seconds;

class Clock {
 public:
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  Clock(Clock&&) = delete;
  Clock& operator=(Clock&&) = delete;
  virtual ~Clock() = default;
  [[nodiscard]] virtual TimePoint now() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
 public:
  [[nodiscard]] TimePoint now() const override;
};

// Formats as RFC 3339 UTC with second precision: 2026-11-23T14:05:00Z.
std::string format_utc(TimePoint t);

// Parses exactly YYYY-MM-DDTHH:MM:SSZ (a valid calendar date and time); nullopt otherwise.
std::optional<TimePoint> parse_utc(std::string_view text);

}  // namespace ecluse
