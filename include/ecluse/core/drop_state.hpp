// The drop state machine of DESIGN.md: the one place that says which transitions are legal.
#pragma once

#include <optional>
#include <string_view>

namespace ecluse {

enum class DropState {
  received,  // intake copied the drop into quarantine and checked it against drop.json
  verified,
  unpacked,
  diffed,
  tested,
  held,
  approved,
  signed_off,  // "signed": operator keys signed the release
  promoted,
  rejected,
};

std::string_view to_string(DropState s);
std::optional<DropState> parse_drop_state(std::string_view text);

// A drop record comes into being in one of these (intake either accepts or rejects).
bool is_initial_state(DropState s);

// received → verified → unpacked → diffed → tested → [held → approved] → signed → promoted;
// every non-final state may go to rejected; promoted and rejected are final (except that the
// state store's retry() re-opens a drop rejected before authentication, at intake or verify).
bool is_legal_transition(DropState from, DropState to);

bool is_final_state(DropState s);

// Position along the forward path (received = 0 … promoted = 8); rejected has none (-1).
// A drop whose rank is at least a stage's target rank has that stage committed.
int forward_rank(DropState s);

}  // namespace ecluse
