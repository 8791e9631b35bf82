// The drop state machine: every legal and every illegal transition.
#include <ecluse/core/drop_state.hpp>

#include <doctest/doctest.h>

#include <array>
#include <set>
#include <utility>

using ecluse::DropState;

namespace {

const std::set<std::pair<DropState, DropState>> k_legal{
    {DropState::received, DropState::verified},
    {DropState::verified, DropState::unpacked},
    {DropState::unpacked, DropState::diffed},
    {DropState::diffed, DropState::tested},
    {DropState::tested, DropState::held},
    {DropState::tested, DropState::approved},
    {DropState::held, DropState::approved},
    {DropState::approved, DropState::signed_off},
    {DropState::signed_off, DropState::promoted},
    {DropState::received, DropState::rejected},
    {DropState::verified, DropState::rejected},
    {DropState::unpacked, DropState::rejected},
    {DropState::diffed, DropState::rejected},
    {DropState::tested, DropState::rejected},
    {DropState::held, DropState::rejected},
    {DropState::approved, DropState::rejected},
    {DropState::signed_off, DropState::rejected},
};

constexpr std::array<DropState, 10> k_all{DropState::received,
                                          DropState::verified,
                                          DropState::unpacked,
                                          DropState::diffed,
                                          DropState::tested,
                                          DropState::held,
                                          DropState::approved,
                                          DropState::signed_off,
                                          DropState::promoted,
                                          DropState::rejected};

}  // namespace

TEST_CASE("core::is_legal_transition allows exactly the transitions of DESIGN.md") {
  int legal = 0;
  for (const auto from : k_all) {
    for (const auto to : k_all) {
      CAPTURE(ecluse::to_string(from));
      CAPTURE(ecluse::to_string(to));
      const bool expected = k_legal.count({from, to}) == 1;
      CHECK(ecluse::is_legal_transition(from, to) == expected);
      legal += expected ? 1 : 0;
    }
  }
  CHECK(legal == 17);
}

TEST_CASE("core::is_legal_transition refuses leaving a final state and skipping stages") {
  SUBCASE("promoted is final") {
    CHECK_FALSE(ecluse::is_legal_transition(DropState::promoted, DropState::rejected));
    CHECK_FALSE(ecluse::is_legal_transition(DropState::promoted, DropState::received));
  }
  SUBCASE("rejected is final") {
    CHECK_FALSE(ecluse::is_legal_transition(DropState::rejected, DropState::received));
    CHECK_FALSE(ecluse::is_legal_transition(DropState::rejected, DropState::rejected));
  }
  SUBCASE("no skipping verify") {
    CHECK_FALSE(ecluse::is_legal_transition(DropState::received, DropState::unpacked));
  }
  SUBCASE("no going back") {
    CHECK_FALSE(ecluse::is_legal_transition(DropState::verified, DropState::received));
  }
  SUBCASE("held must be approved before signing") {
    CHECK_FALSE(ecluse::is_legal_transition(DropState::held, DropState::signed_off));
  }
  SUBCASE("every signing starts from a verdict that passed") {
    CHECK_FALSE(ecluse::is_legal_transition(DropState::tested, DropState::signed_off));
    CHECK_FALSE(ecluse::is_legal_transition(DropState::diffed, DropState::signed_off));
  }
  SUBCASE("no verdict without the test stage") {
    CHECK_FALSE(ecluse::is_legal_transition(DropState::diffed, DropState::held));
    CHECK_FALSE(ecluse::is_legal_transition(DropState::diffed, DropState::approved));
  }
}

TEST_CASE("core::drop state names round-trip and only received or rejected start a drop") {
  for (const auto s : k_all) {
    CHECK(ecluse::parse_drop_state(ecluse::to_string(s)) == s);
    CHECK(ecluse::is_initial_state(s) == (s == DropState::received || s == DropState::rejected));
  }
  CHECK(ecluse::to_string(DropState::signed_off) == "signed");
  CHECK_FALSE(ecluse::parse_drop_state("bogus").has_value());
}
