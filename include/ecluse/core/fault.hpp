// Fault injection for the crash tests (docs/triggers.md lists the points). With
// ECLUSE_FAULT=NAME or NAME:N in the environment, the process kills itself with SIGKILL the
// first (or Nth) time it passes the point NAME: a deterministic crash at a named moment, for
// example between a git ref update and the state-store commit. With ECLUSE_FAULT_TRACE=FILE,
// every point passed is appended to FILE (one name per line), so a test can enumerate them.
// With ECLUSE_FAULT_GROUP=1 the whole process group dies (a watcher with its workers: the
// machine crashing at that moment). With ECLUSE_FAULT_SLEEP=NAME:MS the process sleeps MS
// milliseconds at NAME (a signal sent meanwhile arrives at a known moment).
// Without either variable a point costs one relaxed atomic load.
#pragma once

#include <string_view>

namespace ecluse {

void fault_point(std::string_view name);

}  // namespace ecluse
