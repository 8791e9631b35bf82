// NFKC_Casefold through ICU: UTF-8 → UTF-16 → normalised → UTF-8.
#include <ecluse/text/unicode.hpp>

#include <unicode/ustring.h>

#include <climits>
#include <unicode/unorm2.h>
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
  std::u16string folded(wide->size() * 4 + 16, u'\0');
  int32_t len = unorm2_normalize(nfkc_cf,
                                 wide->data(),
                                 static_cast<int32_t>(wide->size()),
                                 folded.data(),
                                 static_cast<int32_t>(folded.size()),
                                 &err);
  if (err == U_BUFFER_OVERFLOW_ERROR) {
    err = U_ZERO_ERROR;
    folded.assign(static_cast<std::size_t>(len) + 1, u'\0');
    len = unorm2_normalize(nfkc_cf,
                           wide->data(),
                           static_cast<int32_t>(wide->size()),
                           folded.data(),
                           static_cast<int32_t>(folded.size()),
                           &err);
  }
  if (U_FAILURE(err)) {
    return std::nullopt;
  }
  folded.resize(static_cast<std::size_t>(len));
  return to_utf8(folded);
}

}  // namespace ecluse::text
