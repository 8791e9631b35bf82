// repo::check_path: the names that may go into a promoted git tree.
#include <ecluse/repo/repository.hpp>

#include <doctest/doctest.h>

#include <string>

using ecluse::repo::check_path;

namespace {

std::string reason_of(const std::string& path) {
  const auto r = check_path(path);
  return r ? std::string("accepted") : r.error().reason;
}

}  // namespace

TEST_CASE("repo::check_path rejects every alias of .git") {
  const auto refused = [](const std::string& p) {
    CHECK(reason_of(p) == "repo.bad_path");
  };
  SUBCASE(".git") {
    refused(".git");
  }
  SUBCASE(".git/config") {
    refused(".git/config");
  }
  SUBCASE("upper case .GIT") {
    refused(".GIT");
  }
  SUBCASE("mixed case deeper a/.Git/config") {
    refused("a/.Git/config");
  }
  SUBCASE("NTFS short name git~1") {
    refused("git~1");
  }
  SUBCASE("NTFS short name GIT~2/config") {
    refused("GIT~2/config");
  }
  SUBCASE("NTFS trailing dot .git.") {
    refused(".git.");
  }
  SUBCASE("NTFS trailing space .git ") {
    refused(".git ");
  }
  SUBCASE("NTFS trailing dots and spaces .git . .") {
    refused(".git . .");
  }
  SUBCASE("NTFS stream .git::$INDEX_ALLOCATION") {
    refused(".git::$INDEX_ALLOCATION/config");
  }
  SUBCASE("HFS+ ignorable U+200C inside") {
    refused(".g\u200cit");
  }
  SUBCASE("HFS+ ignorable U+200D inside, upper case") {
    refused(".G\u200dIT/hooks/x");
  }
  SUBCASE("HFS+ ignorable U+206A at the end") {
    refused(".git\u206a");
  }
  SUBCASE("HFS+ ignorable U+FEFF at the start") {
    refused("\ufeff.git");
  }
  SUBCASE("HFS+ ignorable and NTFS trailing dot together") {
    refused(".gi\u200ct.");
  }
}

TEST_CASE("repo::check_path rejects .gitmodules and .gitattributes in every spelling") {
  const auto refused = [](const std::string& p) {
    CHECK(reason_of(p) == "repo.bad_path");
  };
  SUBCASE(".gitmodules") {
    refused(".gitmodules");
  }
  SUBCASE(".GitModules") {
    refused(".GitModules");
  }
  SUBCASE("deeper a/.gitmodules") {
    refused("a/.gitmodules");
  }
  SUBCASE(".gitmodules with a trailing space") {
    refused(".gitmodules ");
  }
  SUBCASE(".gitmodules with a stream") {
    refused(".gitmodules:$DATA");
  }
  SUBCASE(".gitmodules with an HFS+ ignorable") {
    refused(".gitmod\u200cules");
  }
  SUBCASE("NTFS short name gitmod~1") {
    refused("gitmod~1");
  }
  SUBCASE("NTFS hashed short name GI7EBA~1") {
    refused("GI7EBA~1");
  }
  SUBCASE(".gitattributes") {
    refused(".gitattributes");
  }
  SUBCASE(".GITATTRIBUTES deeper") {
    refused("x/y/.GITATTRIBUTES");
  }
  SUBCASE("NTFS short name gitatt~1") {
    refused("gitatt~1");
  }
}

TEST_CASE("repo::check_path rejects traversal, empty components and absolute paths") {
  const auto refused = [](const std::string& p) {
    CHECK(reason_of(p) == "repo.bad_path");
  };
  SUBCASE("empty") {
    refused("");
  }
  SUBCASE("a/../b") {
    refused("a/../b");
  }
  SUBCASE("..") {
    refused("..");
  }
  SUBCASE("../outside") {
    refused("../outside");
  }
  SUBCASE(".") {
    refused(".");
  }
  SUBCASE("a/./b") {
    refused("a/./b");
  }
  SUBCASE("a//b") {
    refused("a//b");
  }
  SUBCASE("trailing slash a/") {
    refused("a/");
  }
  SUBCASE("/abs") {
    refused("/abs");
  }
}

TEST_CASE("repo::check_path rejects control characters, backslashes and invalid UTF-8") {
  const auto refused = [](const std::string& p) {
    CHECK(reason_of(p) == "repo.bad_path");
  };
  SUBCASE("backslash a\\b") {
    refused("a\\b");
  }
  SUBCASE("backslash hiding .git") {
    refused("..\\.git\\config");
  }
  SUBCASE("newline") {
    refused("a\nb");
  }
  SUBCASE("escape") {
    refused("a\x1b[31m");
  }
  SUBCASE("DEL") {
    refused("a\x7f");
  }
  SUBCASE("NUL") {
    refused(std::string("a\0b", 3));
  }
  SUBCASE("C1 control U+0085") {
    refused("a\u0085b");
  }
  SUBCASE("bidirectional override U+202E") {
    refused("txt.\u202eexe");  // NOLINT(misc-misleading-bidirectional): the attack itself
  }
  SUBCASE("invalid UTF-8") {
    refused("caf\xe9");
  }
  SUBCASE("overlong UTF-8 slash") {
    refused(
        "a\xc0\xaf"
        "b");
  }
}

TEST_CASE("repo::check_path names the refused path") {
  const auto r = check_path("dir/.GIT/config");
  REQUIRE_FALSE(r);
  CHECK(r.error().item == "dir/.GIT/config");
  CHECK(r.error().message.find("dir/.GIT/config") != std::string::npos);
}

TEST_CASE("repo::check_path accepts ordinary names") {
  const auto accepted = [](const std::string& p) {
    CHECK(reason_of(p) == "accepted");
  };
  SUBCASE("README") {
    accepted("README");
  }
  SUBCASE("nested") {
    accepted("bin/app/run.sh");
  }
  SUBCASE("UTF-8") {
    accepted("docs/résumé/日本語.txt");
  }
  SUBCASE("dot files that are not git's") {
    accepted(".github/workflows/ci.yml");
  }
  SUBCASE(".gitignore") {
    accepted(".gitignore");
  }
  SUBCASE("names that merely contain git") {
    accepted("git/.gitx/a.git/git~x/gitmodules");
  }
  SUBCASE("dots inside names") {
    accepted("a..b/...c");
  }
  SUBCASE("spaces") {
    accepted("my file . txt");
  }
}
