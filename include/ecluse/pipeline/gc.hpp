// Garbage collection of the content store: objects no live drop refers to (the payload of
// rejected drops, leftovers of interrupted runs) and temporaries of writers that died.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/pipeline/driver.hpp>

#include <cstdint>

namespace ecluse::pipeline {

struct GcReport {
  std::uint64_t objects_kept = 0;
  std::uint64_t objects_removed = 0;
  std::uint64_t bytes_removed = 0;
  std::uint64_t temporaries_removed = 0;
};

// Keeps every object referenced by a drop that is not rejected (its artifacts from drop.json,
// and every entry of its tree manifest) and removes the others (none with dry_run). Waits for
// running ingests: they hold the store lock shared, gc holds it exclusively.
Result<GcReport> gc(const Session& s, bool dry_run);

// The lock ingest (shared) and gc (exclusive) take: locks/store.lock.
Result<fs::UniqueFd> lock_store(const Session& s, bool exclusive);

}  // namespace ecluse::pipeline
