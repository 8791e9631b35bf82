// NFKC_Casefold through ICU: UTF-8 → UTF-16 → normalised → UTF-8.
#include <ecluse/text/unicode.hpp>

#include <unicode/ustring.h>

#include <climits>
#include <unicode/unorm2.h>
#include <utility>
#include <vector>

namespace ecluse::text {

namespace {

std::optional<std::u16string> to_utf16(std::string_view s) {
  if (s.size() > INT_MAX / 2) {
    return std::nullopt;
  }
  std::u16string out(s.size() + 1, u'\0');
  int32_t len = 0;
  UErrorCode err = U_ZERO_ERROR;
  u_strFromUTF8(out.data(),
                static_cast<int32_t>(out.size()),
                &len,
                s.data(),
                static_cast<int32_t>(s.size()),
                &err);
  if (U_FAILURE(err)) {
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::optional<std::string> to_utf8(const std::u16string& s) {
  int32_t len = 0;
  UErrorCode err = U_ZERO_ERROR;
  u_strToUTF8(nullptr, 0, &len, s.data(), static_cast<int32_t>(s.size()), &err);
  if (err != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(err)) {
    return std::nullopt;
  }
  std::string out(static_cast<std::size_t>(len), '\0');
  err = U_ZERO_ERROR;
  u_strToUTF8(out.data(), len, &len, s.data(), static_cast<int32_t>(s.size()), &err);
  if (U_FAILURE(err)) {
    return std::nullopt;
  }
  return out;
}

// Normalises into a buffer of `capacity` units: the result, or (overflow = true) a buffer
// sized for the length ICU needs.
std::optional<std::pair<std::u16string, bool>> normalize(const UNormalizer2* n,
                                                         const std::u16string& in,
                                                         std::size_t capacity) {
  std::u16string out(capacity, u'\0');
  UErrorCode err = U_ZERO_ERROR;
  const int32_t len = unorm2_normalize(n,
                                       in.data(),
                                       static_cast<int32_t>(in.size()),
                                       out.data(),
                                       static_cast<int32_t>(out.size()),
                                       &err);
  if (err == U_BUFFER_OVERFLOW_ERROR && len > 0) {
    return std::pair<std::u16string, bool>{std::u16string(static_cast<std::size_t>(len) + 1, u'\0'),
                                           true};
  }
  if (U_FAILURE(err) || len < 0) {
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(len));
  return std::pair<std::u16string, bool>{std::move(out), false};
}

}  // namespace

std::optional<std::string> fold_key(std::string_view name) {
  auto wide = to_utf16(name);
  if (!wide) {
    return std::nullopt;
  }
  UErrorCode err = U_ZERO_ERROR;
  const UNormalizer2* nfkc_cf = unorm2_getNFKCCasefoldInstance(&err);
  if (U_FAILURE(err)) {
    return std::nullopt;
  }
  // NFKC_Casefold can expand a string (U+FDFA to 18 units): ask ICU for the size it needs.
  auto folded = normalize(nfkc_cf, *wide, wide->size() * 4 + 16);
  if (!folded) {
    return std::nullopt;
  }
  if (folded->second) {
    folded = normalize(nfkc_cf, *wide, folded->first.size());
    if (!folded || folded->second) {
      return std::nullopt;
    }
  }
  return to_utf8(folded->first);
}

}  // namespace ecluse::text
