// Graceful stop. After install(), the first SIGTERM or SIGINT only asks the command to stop:
// the running stage reaches its commit point, and no later stage starts (requested() is true).
// A second one ends the process at once (the handlers are one-shot), which is safe too: every
// stage commits atomically and resumes after a crash.
#pragma once

namespace ecluse::interrupt {

void install();

// Has a stop been asked for (by a signal or by request())?
bool requested();

// Asks for a stop from inside the process (the watcher, tests).
void request();

}  // namespace ecluse::interrupt
