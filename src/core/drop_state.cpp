// The drop state machine: names and legal transitions.
#include <ecluse/core/drop_state.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace ecluse {

namespace {

constexpr std::array<std::pair<DropState, std::string_view>, 10> k_names{{
    {DropState::received, "received"},
    {DropState::verified, "verified"},
    {DropState::unpacked, "unpacked"},
    {DropState::diffed, "diffed"},
    {DropState::tested, "tested"},
    {DropState::held, "held"},
    {DropState::approved, "approved"},
    {DropState::signed_off, "signed"},
    {DropState::promoted, "promoted"},
    {DropState::rejected, "rejected"},
}};

// Forward edges; rejection is handled separately.
// The policy verdict follows the test stage: held for review, or approved when it passes;
// signing always starts from approved.
constexpr std::array<std::pair<DropState, DropState>, 9> k_edges{{
    {DropState::received, DropState::verified},
    {DropState::verified, DropState::unpacked},
    {DropState::unpacked, DropState::diffed},
    {DropState::diffed, DropState::tested},
    {DropState::tested, DropState::approved},
    {DropState::tested, DropState::held},
    {DropState::held, DropState::approved},
    {DropState::approved, DropState::signed_off},
    {DropState::signed_off, DropState::promoted},
}};

}  // namespace

std::string_view to_string(DropState s) {
  for (const auto& [state, name] : k_names) {
    if (state == s) {
      return name;
    }
  }
  return "unknown";
}

std::optional<DropState> parse_drop_state(std::string_view text) {
  for (const auto& [state, name] : k_names) {
    if (name == text) {
      return state;
    }
  }
  return std::nullopt;
}

bool is_initial_state(DropState s) {
  return s == DropState::received || s == DropState::rejected;
}

bool is_final_state(DropState s) {
  return s == DropState::promoted || s == DropState::rejected;
}

int forward_rank(DropState s) {
  if (s == DropState::rejected) {
    return -1;
  }
  return static_cast<int>(s);
}

bool is_legal_transition(DropState from, DropState to) {
  if (to == DropState::rejected) {
    return !is_final_state(from);
  }
  return std::any_of(k_edges.begin(), k_edges.end(), [&](const auto& edge) {
    return edge.first == from && edge.second == to;
  });
}

}  // namespace ecluse
