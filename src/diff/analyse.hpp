// The diff stage's work without its side effects: compare, classify, scan, judge what is new.
// The stage writes what this returns; `ecluse diff --baseline` prints it and writes nothing.
#pragma once

#include <ecluse/diff/diff.hpp>

namespace ecluse::diff::detail {

struct Analysis {
  json::Json document;  // diff.json (schema ecluse.diff/v1)
  EndpointIndex index;  // endpoints of every file of the drop
  std::vector<store::Finding> findings;
  json::Json stats;  // files classified and scanned, bytes read
};

// store.io_error when an object of the drop cannot be read; diff.baseline_unreadable when one
// of the baseline's cannot.
Result<Analysis> analyse(const Context& ctx,
                         const store::DropRecord& drop,
                         const unpack::Tree& tree,
                         const std::optional<Baseline>& baseline);

}  // namespace ecluse::diff::detail
