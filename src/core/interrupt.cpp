// A process-wide stop flag set by one-shot SIGTERM and SIGINT handlers.
#include <ecluse/core/interrupt.hpp>

#include <atomic>
#include <csignal>

namespace ecluse::interrupt {

namespace {

// Lock-free, so it may be written by a signal handler.
std::atomic<bool> g_requested{false};  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_signal(int /*signo*/) {
  g_requested.store(true, std::memory_order_relaxed);
}

}  // namespace

void install() {
  struct sigaction sa {};

  sa.sa_handler = on_signal;
  sa.sa_flags = static_cast<int>(SA_RESETHAND);
  sigemptyset(&sa.sa_mask);
  (void)sigaction(SIGTERM, &sa, nullptr);
  (void)sigaction(SIGINT, &sa, nullptr);
}

bool requested() {
  return g_requested.load(std::memory_order_relaxed);
}

void request() {
  g_requested.store(true, std::memory_order_relaxed);
}

}  // namespace ecluse::interrupt
