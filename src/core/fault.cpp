// ECLUSE_FAULT / ECLUSE_FAULT_TRACE, read once per process.
#include <ecluse/core/fault.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

namespace ecluse {

namespace {

struct FaultConfig {
  bool active = false;
  std::string name;            // the point to crash at
  unsigned long nth = 1;       // at its nth passage
  std::string trace;           // file the points passed are appended to
  bool group = false;          // kill the whole process group (the watcher and its workers)
  std::string pause;           // the point to sleep at …
  unsigned long pause_ms = 0;  // … for this long
};

// "NAME:N" → (NAME, N); N stays `n` when absent or malformed.
std::pair<std::string, unsigned long> name_and_number(std::string_view spec, unsigned long n) {
  const auto colon = spec.rfind(':');
  if (colon != std::string_view::npos) {
    const auto digits = spec.substr(colon + 1);
    (void)std::from_chars(digits.data(), digits.data() + digits.size(), n);
  }
  return {std::string(spec.substr(0, colon)), n};
}

FaultConfig read_config() {
  FaultConfig c;
  if (const char* t = std::getenv("ECLUSE_FAULT_TRACE"); t != nullptr && *t != '\0') {
    c.trace = t;
  }
  if (const char* f = std::getenv("ECLUSE_FAULT"); f != nullptr && *f != '\0') {
    std::tie(c.name, c.nth) = name_and_number(f, 1);
  }
  if (const char* p = std::getenv("ECLUSE_FAULT_SLEEP"); p != nullptr && *p != '\0') {
    std::tie(c.pause, c.pause_ms) = name_and_number(p, 1000);
  }
  if (const char* g = std::getenv("ECLUSE_FAULT_GROUP");
      g != nullptr && std::string_view(g) == "1") {
    c.group = true;
  }
  c.active = !c.name.empty() || !c.trace.empty() || !c.pause.empty();
  return c;
}

const FaultConfig& config() {
  static const FaultConfig c = read_config();
  return c;
}

void trace(const std::string& file, std::string_view name) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return;
  }
  const std::string line = std::string(name) + "\n";
  (void)!::write(fd, line.data(), line.size());  // one write: lines of processes never mix
  ::close(fd);
}

}  // namespace

void fault_point(std::string_view name) {
  const auto& c = config();
  if (!c.active) {
    return;
  }
  if (!c.trace.empty()) {
    trace(c.trace, name);
  }
  if (name == c.pause) {
    std::this_thread::sleep_for(std::chrono::milliseconds(c.pause_ms));
  }
  if (name != c.name) {
    return;
  }
  static std::atomic<unsigned long> passed{0};
  if (passed.fetch_add(1) + 1 == c.nth) {
    if (c.group) {
      (void)::kill(0, SIGKILL);
    }
    (void)std::raise(SIGKILL);
  }
}

}  // namespace ecluse
