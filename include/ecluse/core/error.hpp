// Result<T> and Error: how every fallible ecluse operation reports failure.
#pragma once

#include <ecluse/core/reasons.hpp>

#include <tl/expected.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace ecluse {

// What a caller (CLI, daemon) must do with an error; the reason code says why.
struct Error {
  Errc code = Errc::internal;
  std::string reason;   // stable dotted reason code, e.g. "drop.missing_field"
  std::string message;  // lowercase, no trailing period, names the offending item
  std::string item;     // the offending item alone (path, field, drop id); may be empty

  // Builds an error from a catalogued reason; the family comes from the catalogue.
  static Error from(const Reason& r, std::string message, std::string item = {}) {
    return Error{r.family, std::string(r.code), std::move(message), std::move(item)};
  }

  // "reason: message" as printed on one line.
  [[nodiscard]] std::string to_string() const { return reason + ": " + message; }
};

template <class T>
using Result = tl::expected<T, Error>;

using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> fail(const Reason& r, std::string message, std::string item = {}) {
  return tl::unexpected<Error>(Error::from(r, std::move(message), std::move(item)));
}

inline tl::unexpected<Error> fail(Error e) {
  return tl::unexpected<Error>(std::move(e));
}

}  // namespace ecluse

// Early return cannot be written as a function: these two macros are the exception.
// NOLINTBEGIN(cppcoreguidelines-macro-usage,bugprone-macro-parentheses)
// Propagates the error of an expression returning Result/Status; yields its value otherwise.
#define ECLUSE_TRY(var, expr)                                \
  auto var##_result_ = (expr);                               \
  if (!var##_result_) {                                      \
    return ::ecluse::fail(std::move(var##_result_).error()); \
  }                                                          \
  auto var = std::move(var##_result_).value()

#define ECLUSE_CHECK(expr)                                      \
  do {                                                          \
    auto ecluse_status_ = (expr);                               \
    if (!ecluse_status_) {                                      \
      return ::ecluse::fail(std::move(ecluse_status_).error()); \
    }                                                           \
  } while (false)
// NOLINTEND(cppcoreguidelines-macro-usage,bugprone-macro-parentheses)
