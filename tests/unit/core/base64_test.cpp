// Base64: RFC 4648 test vectors, and the strict decoder's refusals.
#include <ecluse/core/base64.hpp>

#include <doctest/doctest.h>

TEST_CASE("core::base64 round-trips the RFC 4648 vectors and refuses malformed text") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : vectors) {
    CHECK(ecluse::base64_encode(plain) == coded);
    CHECK(ecluse::base64_decode(coded) == std::string(plain));
  }
  CHECK(ecluse::base64_decode("Zm9v\nYmFy\r\n") == std::string("foobar"));
  CHECK(ecluse::base64_decode(std::string("\xff\x00", 2)) == std::nullopt);
  for (const char* bad : {"Zm9", "Zg=", "Z===", "Zg==Zg==", "Zm9v!", "Zh==", "Zm9=Yg==", "Zm=v"}) {
    CAPTURE(bad);
    CHECK(ecluse::base64_decode(bad) == std::nullopt);
  }
  const std::string all = [] {
    std::string s;
    for (int i = 0; i < 256; ++i) {
      s.push_back(static_cast<char>(i));
    }
    return s;
  }();
  CHECK(ecluse::base64_decode(ecluse::base64_encode(all)) == all);
}
