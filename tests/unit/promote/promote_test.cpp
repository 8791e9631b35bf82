// promote::promote, promote::withdraw and promote::verify_channel against real bare
// repositories: refusals first (each leaving the branch where it was), then signed commits and
// tags git fsck accepts, withdrawals, and consumer verification naming each tampering.
#include <ecluse/crypto/dsse.hpp>
#include <ecluse/crypto/sshsig.hpp>
#include <ecluse/promote/promote.hpp>
#include <ecluse/promote/verify_channel.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "support/support.hpp"
#include "unit/promote/fixture.hpp"

namespace {

namespace crypto = ecluse::crypto;
namespace json = ecluse::json;
namespace promote = ecluse::promote;
namespace repo = ecluse::repo;
namespace test = ecluse::test;
namespace tuf = ecluse::tuf;
namespace stdfs = std::filesystem;
using ecluse::Result;
using ecluse::TimePoint;
using ecluse::test::k_now;
using ecluse::test::key;
using ecluse::test::KeySet;
using ecluse::test::must;
using ecluse::test::options;
using ecluse::test::ours;
using ecluse::test::reason_of;
using ecluse::test::run;
using ecluse::test::theirs;

repo::SignFn ssh_signer(const crypto::SigningKey& k) {
  return [&k](std::string_view payload) {
    return crypto::ssh::sign(k, payload, "git");
  };
}

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

// What a sign stage would hand over, built by hand: two artifacts streamed from files (each at
// its target path and its consistent-snapshot path), a CMS signature for the first, a DSSE
// attestation by the release key, and release.json, with the custom pointers content.cpp
// writes.
promote::ReleaseContent make_release(const stdfs::path& src_dir,
                                     const std::string& product,
                                     const std::string& version,
                                     const std::string& drop) {
  promote::ReleaseContent c{product, version, drop, {}, {}};
  const auto attestations = test::add_attestation(c,
                                                  {{"_type", "https://in-toto.io/Statement/v1"},
                                                   {"predicateType", "https://ecluse.dev/sign/v1"},
                                                   {"subject", json::Json::array()},
                                                   {"predicate", {{"drop", drop}}}});
  const std::map<std::string, std::string> artifacts{
      {"agent.tar.gz", "agent " + product + " " + version + "\n"},
      {"README.txt", "read me, " + version + "\n"}};
  auto summary_artifacts = json::Json::array();
  for (const auto& [name, bytes] : artifacts) {
    const auto sha =
        test::add_artifact(c, src_dir / product / version / name, name, bytes, attestations);
    summary_artifacts.push_back({{"path", name}, {"sha256", sha}, {"length", bytes.size()}});
  }
  test::add_release_file(c,
                         {{"schema", promote::k_release_schema},
                          {"drop", drop},
                          {"product", product},
                          {"version", version},
                          {"artifacts", summary_artifacts},
                          {"attestations", attestations}});
  return c;
}

// A channel's bare repository (prod.git) in a temporary directory, with release sources.
struct Channel : test::ChannelRepo {
  [[nodiscard]] promote::ReleaseContent release(const std::string& version,
                                                const std::string& product = "cloud") const {
    return make_release(dir / "src", product, version, "drop-" + product + "-" + version);
  }

  [[nodiscard]] Result<promote::PromotedRelease> promote(const promote::ReleaseContent& c,
                                                         const KeySet& keys = ours()) const {
    return promote::promote(repo, c, keys.signers(), options());
  }

  // Promotes a version of "cloud" that must succeed.
  promote::PromotedRelease add(const std::string& version, const KeySet& keys = ours()) const {
    return must(promote(release(version), keys));
  }

  [[nodiscard]] repo::Oid head() const {
    const auto b = branch();
    REQUIRE(b.has_value());
    return *b;
  }

  [[nodiscard]] std::vector<tuf::Target> targets() const {
    return must(tuf::current_targets(state().metadata));
  }

  // A new commit of tree on top of the head, signed by sign, and the branch moved to it.
  repo::Oid commit_on_top(const repo::Tree& tree, const repo::SignFn& sign) const {
    const auto h = head();
    const auto id = must(repo.create_commit(
        {must(repo.write_tree(tree)), {h}, options().identity, "tampered\n"}, sign));
    must(repo.update_branch("main", h, id, "test"));
    return id;
  }

  [[nodiscard]] Result<promote::ChannelReport> verify(const std::string& root,
                                                      TimePoint now = k_now) const {
    return promote::verify_channel(repo, {root, now, std::nullopt, "main", std::nullopt, {}});
  }
};

std::vector<std::string> paths_of(const std::vector<tuf::Target>& targets) {
  std::vector<std::string> out;
  for (const auto& t : targets) {
    out.push_back(t.path);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool has_problem(const promote::ChannelReport& r,
                 const std::string& reason,
                 const std::string& item = {}) {
  return std::any_of(r.problems.begin(), r.problems.end(), [&](const promote::Problem& p) {
    return p.reason == reason && (item.empty() || p.item == item);
  });
}

std::string problems_of(const promote::ChannelReport& r) {
  std::string out;
  for (const auto& p : r.problems) {
    out += p.reason + " [" + p.item + "] " + p.message + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("promote::consistent_path and the release directories name tree paths") {
  CHECK(promote::consistent_path("cloud/1.0.0/agent.tar.gz", "ab12")
        == "cloud/1.0.0/ab12.agent.tar.gz");
  CHECK(promote::consistent_path("agent", "ab12") == "ab12.agent");
  CHECK(promote::targets_dir("cloud", "1.0.0") == "targets/cloud/1.0.0");
  CHECK(promote::attestations_dir("cloud", "1.0.0") == "attestations/cloud/1.0.0");
  CHECK(promote::release_file("cloud", "1.0.0") == "releases/cloud/1.0.0/release.json");
}

TEST_CASE("promote::promote refuses rollbacks, another drop's version and bad paths") {
  const Channel ch;
  ch.add("2.0.0");
  const auto before = ch.head();
  const auto tags_before = must(ch.repo.tag_names());

  SUBCASE("an older version of the product: promote.rollback") {
    const auto r = ch.promote(ch.release("1.0.0"));
    CHECK(reason_of(r) == "promote.rollback");
    CHECK(r.error().item == "cloud/1.0.0");
  }
  SUBCASE("the same version from another drop: promote.already_promoted") {
    auto c = ch.release("2.0.0");
    c.drop_id = "drop-other";
    CHECK(reason_of(ch.promote(c)) == "promote.already_promoted");
  }
  SUBCASE("a path git would treat as its own: repo.bad_path") {
    for (const std::string path : {".git/config",
                                   "targets/cloud/3.0.0/.GIT/config",
                                   "targets/cloud/3.0.0/.gitmodules",
                                   "targets/../escape",
                                   "targets/cloud/3.0.0/a\\b"}) {
      CAPTURE(path);
      auto c = ch.release("3.0.0");
      c.files.push_back({{path}, {}, "x\n", {}});
      CHECK(reason_of(ch.promote(c)) == "repo.bad_path");
    }
  }
  SUBCASE("two paths equal under case folding: repo.bad_path") {
    auto c = ch.release("3.0.0");
    c.files.push_back({{"releases/cloud/3.0.0/RELEASE.json"}, {}, "{}\n", {}});
    CHECK(reason_of(ch.promote(c)) == "repo.bad_path");
  }
  SUBCASE("two files at one path: repo.bad_path") {
    auto c = ch.release("3.0.0");
    c.files.push_back({{"targets/cloud/3.0.0/agent.tar.gz.p7s"}, {}, "other\n", {}});
    const auto r = ch.promote(c);
    CHECK(reason_of(r) == "repo.bad_path");
    CHECK(r.error().item == "targets/cloud/3.0.0/agent.tar.gz.p7s");
  }
  SUBCASE("a file at a path an earlier release holds: repo.bad_path") {
    auto c = ch.release("3.0.0");
    c.files.push_back({{"releases/cloud/2.0.0/release.json"}, {}, "{}\n", {}});
    CHECK(reason_of(ch.promote(c)) == "repo.bad_path");
  }
  CHECK(ch.head() == before);
  CHECK(must(ch.repo.tag_names()) == tags_before);
  CHECK(ch.state().releases.size() == 1);
}

TEST_CASE("promote::promote tags a release whose tag went missing at the commit that added it") {
  // A resumed promotion of a release the branch holds below its head: the tag goes to the
  // commit that added the release, never to the head.
  const Channel ch;
  const auto first = ch.add("1.0.0");
  const auto second = ch.add("1.1.0");
  REQUIRE(ch.git("update-ref -d refs/tags/cloud/1.0.0").status == 0);
  const auto again = must(ch.promote(ch.release("1.0.0")));
  CHECK(again.already);
  CHECK(again.commit == first.commit);
  CHECK(ch.head() == second.commit);
  const auto tag = must(ch.repo.tag("cloud/1.0.0"));
  REQUIRE(tag.has_value());
  CHECK(tag->target == first.commit);
  CHECK(tag->id == again.tag);
  const auto r = must(ch.verify(ch.trusted_root()));
  CHECK_MESSAGE(r.ok(), problems_of(r));
}

TEST_CASE("promote::promote writes one signed commit and tag per release that git accepts") {
  const Channel ch;
  CHECK_FALSE(ch.branch().has_value());
  CHECK(ch.state().releases.empty());

  const auto c1 = ch.release("1.0.0");
  const auto first = must(ch.promote(c1));
  CHECK_FALSE(first.already);
  CHECK(first.channel == "prod");
  CHECK(first.product == "cloud");
  CHECK(first.version == "1.0.0");
  CHECK(first.targets_version == 1);
  CHECK(ch.head() == first.commit);
  ch.fsck_clean();

  const auto info = must(ch.repo.commit(first.commit));
  CHECK(info.parents.empty());
  CHECK(info.time == k_now.time_since_epoch().count());
  CHECK(info.message.starts_with("Promote cloud/1.0.0 to prod"));
  CHECK(info.message.find("Drop: drop-cloud-1.0.0") != std::string::npos);
  CHECK(must(crypto::ssh::verify(info.signature, info.signed_payload, "git")).der()
        == ours().release.public_key().der());
  CHECK(must(ch.repo.history(first.commit)).size() == 1);

  const auto tag = must(ch.repo.tag("cloud/1.0.0"));
  REQUIRE(tag.has_value());
  CHECK(tag->id == first.tag);
  CHECK(tag->target == first.commit);
  CHECK(tag->tag_name == "cloud/1.0.0");
  CHECK(must(crypto::ssh::verify(tag->signature, tag->signed_payload, "git")).der()
        == ours().release.public_key().der());

  SUBCASE("stock git verifies the commit and the tag with an allowed-signers file") {
    const auto line = must(crypto::ssh::public_key_line(ours().release.public_key()));
    test::write_file(ch.dir / "allowed_signers",
                     "ecluse@localhost namespaces=\"git\" " + line + "\n");
    const std::string gv = "-c gpg.format=ssh -c gpg.ssh.allowedSignersFile="
                           + (ch.dir / "allowed_signers").string() + " ";
    const auto vc = ch.git(gv + "verify-commit main");
    CHECK_MESSAGE(vc.status == 0, vc.out);
    CHECK_MESSAGE(vc.out.find("Good \"git\" signature") != std::string::npos, vc.out);
    const auto vt = ch.git(gv + "verify-tag cloud/1.0.0");
    CHECK_MESSAGE(vt.status == 0, vt.out);
  }

  SUBCASE("the tree holds the artifacts, their copies and evidence; targets.json lists them") {
    const auto tree = must(ch.repo.read_tree(first.commit));
    for (const auto& t : c1.targets) {
      CAPTURE(t.path);
      const auto plain = tree.find("targets/" + t.path);
      const auto copy = tree.find("targets/" + promote::consistent_path(t.path, t.sha256));
      REQUIRE(plain != tree.end());
      REQUIRE(copy != tree.end());
      CHECK(plain->second.blob == copy->second.blob);
      CHECK_FALSE(plain->second.executable);
      CHECK(test::sha256_hex(must(ch.repo.read_blob(plain->second.blob))) == t.sha256);
    }
    CHECK(tree.contains("targets/cloud/1.0.0/agent.tar.gz.p7s"));
    CHECK(tree.contains("attestations/cloud/1.0.0/sign.dsse.json"));
    CHECK(tree.contains("releases/cloud/1.0.0/release.json"));
    for (const char* meta : {"metadata/1.root.json",
                             "metadata/root.json",
                             "metadata/1.targets.json",
                             "metadata/targets.json",
                             "metadata/1.snapshot.json",
                             "metadata/snapshot.json",
                             "metadata/timestamp.json"}) {
      CAPTURE(meta);
      CHECK(tree.contains(meta));
    }
    const auto listed = ch.targets();
    CHECK(paths_of(listed)
          == std::vector<std::string>{"cloud/1.0.0/README.txt", "cloud/1.0.0/agent.tar.gz"});
    for (const auto& t : listed) {
      const auto want = std::find_if(
          c1.targets.begin(), c1.targets.end(), [&](const auto& x) { return x.path == t.path; });
      REQUIRE(want != c1.targets.end());
      CHECK(t.length == want->length);
      CHECK(t.sha256 == want->sha256);
      CHECK(t.custom == want->custom);
    }
    const auto st = ch.state();
    REQUIRE(st.releases.size() == 1);
    CHECK(st.releases[0].release.value("drop", std::string()) == "drop-cloud-1.0.0");
    CHECK_FALSE(st.releases[0].withdrawn);
  }

  SUBCASE("the same content from the same drop again: `already`, no new commit") {
    const auto again = must(ch.promote(c1));
    CHECK(again.already);
    CHECK(again.commit == first.commit);
    CHECK(again.tag == first.tag);
    CHECK(again.targets_version == 1);
    CHECK(ch.head() == first.commit);
    CHECK(must(ch.repo.history(ch.head())).size() == 1);
  }

  SUBCASE("a promotion interrupted before its tag is completed with the tag") {
    REQUIRE(ch.git("update-ref -d refs/tags/cloud/1.0.0").status == 0);
    const auto again = must(ch.promote(c1));
    CHECK(again.already);
    CHECK(again.commit == first.commit);
    const auto made = must(ch.repo.tag("cloud/1.0.0"));
    REQUIRE(made.has_value());
    CHECK(made->target == first.commit);
    CHECK(made->id == again.tag);
    CHECK(ch.head() == first.commit);
    ch.fsck_clean();
  }

  SUBCASE("a second version adds one commit on top of the first") {
    const auto second = ch.add("1.1.0");
    CHECK_FALSE(second.already);
    CHECK(second.targets_version == 2);
    CHECK(second.commit != first.commit);
    CHECK(ch.head() == second.commit);
    CHECK(must(ch.repo.commit(second.commit)).parents == std::vector<repo::Oid>{first.commit});
    CHECK(must(ch.repo.history(second.commit)).size() == 2);
    const auto tag2 = must(ch.repo.tag("cloud/1.1.0"));
    REQUIRE(tag2.has_value());
    CHECK(tag2->target == second.commit);
    CHECK(must(ch.repo.tag("cloud/1.0.0"))->target == first.commit);
    CHECK(must(ch.repo.tag_names()) == std::vector<std::string>{"cloud/1.0.0", "cloud/1.1.0"});
    CHECK(paths_of(ch.targets())
          == std::vector<std::string>{"cloud/1.0.0/README.txt",
                                      "cloud/1.0.0/agent.tar.gz",
                                      "cloud/1.1.0/README.txt",
                                      "cloud/1.1.0/agent.tar.gz"});
    // Another product does not compete with cloud's versions.
    const auto other = must(ch.promote(ch.release("0.1.0", "edge")));
    CHECK(other.targets_version == 3);
    CHECK(ch.state().releases.size() == 3);
    ch.fsck_clean();
  }
}

TEST_CASE("promote::withdraw refuses a release the channel does not hold") {
  const Channel ch;
  const json::Json why{{"reason", "cve"}};
  SUBCASE("an empty channel") {
    CHECK(
        reason_of(promote::withdraw(ch.repo, {"cloud", "1.0.0", why}, ours().signers(), options()))
        == "promote.not_in_channel");
    CHECK_FALSE(ch.branch().has_value());
  }
  SUBCASE("a version never promoted") {
    ch.add("1.0.0");
    const auto before = ch.head();
    CHECK(
        reason_of(promote::withdraw(ch.repo, {"cloud", "9.9.9", why}, ours().signers(), options()))
        == "promote.not_in_channel");
    CHECK(reason_of(promote::withdraw(ch.repo, {"edge", "1.0.0", why}, ours().signers(), options()))
          == "promote.not_in_channel");
    CHECK(ch.head() == before);
  }
}

TEST_CASE("promote::withdraw removes a release's files and targets in a new commit") {
  const Channel ch;
  const auto first = ch.add("1.0.0");
  const auto second = ch.add("1.1.0");
  const json::Json why{{"reason", "CVE-2026-0001"}, {"by", "alice"}};
  const auto w =
      must(promote::withdraw(ch.repo, {"cloud", "1.0.0", why}, ours().signers(), options()));
  CHECK(w.commit != second.commit);
  CHECK(w.tag.empty());
  CHECK(w.targets_version == second.targets_version + 1);
  CHECK(ch.head() == w.commit);
  const auto info = must(ch.repo.commit(w.commit));
  CHECK(info.parents == std::vector<repo::Oid>{second.commit});
  CHECK(info.message.starts_with("Withdraw cloud/1.0.0 from prod"));
  CHECK(info.message.find("Reason: CVE-2026-0001") != std::string::npos);
  ch.fsck_clean();

  const auto tree = must(ch.repo.read_tree(w.commit));
  for (const auto& [path, e] : tree) {
    CAPTURE(path);
    CHECK_FALSE(path.starts_with("targets/cloud/1.0.0/"));
    CHECK_FALSE(path.starts_with("attestations/cloud/1.0.0/"));
  }
  CHECK(tree.contains("targets/cloud/1.1.0/agent.tar.gz"));
  CHECK(tree.contains("attestations/cloud/1.1.0/sign.dsse.json"));
  REQUIRE(tree.contains("releases/cloud/1.0.0/release.json"));
  const auto record = json::parse_strict(
      must(ch.repo.read_blob(tree.at("releases/cloud/1.0.0/release.json").blob)));
  REQUIRE(record.failure == json::ParseFailure::none);
  CHECK(record.value.at("withdrawn") == why);
  CHECK(record.value.at("drop") == "drop-cloud-1.0.0");
  CHECK(record.value.at("schema") == promote::k_release_schema);

  CHECK(paths_of(ch.targets())
        == std::vector<std::string>{"cloud/1.1.0/README.txt", "cloud/1.1.0/agent.tar.gz"});
  const auto st = ch.state();
  const auto* rec = st.find("cloud", "1.0.0");
  REQUIRE(rec != nullptr);
  CHECK(rec->withdrawn);
  // History is not rewritten: the tag still names the commit that promoted it.
  CHECK(must(ch.repo.tag("cloud/1.0.0"))->target == first.commit);

  SUBCASE("withdrawing again: promote.not_in_channel") {
    CHECK(
        reason_of(promote::withdraw(ch.repo, {"cloud", "1.0.0", why}, ours().signers(), options()))
        == "promote.not_in_channel");
    CHECK(ch.head() == w.commit);
  }
  SUBCASE("promoting the withdrawn version again: promote.already_promoted") {
    CHECK(reason_of(ch.promote(ch.release("1.0.0"))) == "promote.already_promoted");
    CHECK(ch.head() == w.commit);
  }
  SUBCASE("a version below the withdrawn one's successor: promote.rollback") {
    CHECK(reason_of(ch.promote(ch.release("1.0.5"))) == "promote.rollback");
    CHECK(ch.head() == w.commit);
  }
  SUBCASE("the channel still verifies") {
    const auto report = must(ch.verify(ch.trusted_root()));
    CHECK_MESSAGE(report.ok(), problems_of(report));
    CHECK(report.targets == 2);
    CHECK(report.releases == std::vector<std::string>{"cloud/1.1.0"});
  }
}

TEST_CASE("promote::verify_channel refuses an unreadable trusted root or repository") {
  const Channel ch;
  SUBCASE("no branch: repo.not_found") {
    CHECK(reason_of(ch.verify("{}")) == "repo.not_found");
  }
  SUBCASE("a trusted root that is not root metadata: tuf.bad_metadata") {
    ch.add("1.0.0");
    CHECK(reason_of(ch.verify("not json")) == "tuf.bad_metadata");
    CHECK(reason_of(ch.verify("[1]")) == "tuf.bad_metadata");
    // Fields of the wrong type are malformed metadata, never an exception.
    CHECK(reason_of(ch.verify(R"({"signed": {"roles": []}})")) == "tuf.bad_metadata");
    CHECK(reason_of(ch.verify(R"({"signed": {"roles": {"targets": "x"}}})")) == "tuf.bad_metadata");
  }
}

TEST_CASE("promote::verify_channel reports each tampering with its reason code") {
  const Channel ch;
  const auto first = ch.add("1.0.0");
  const auto second = ch.add("1.1.0");
  const auto root = ch.trusted_root();
  const auto tree = must(ch.repo.read_tree(second.commit));

  SUBCASE("a target's blob changed, in a commit signed by another key") {
    auto t = tree;
    const auto evil = must(ch.repo.write_blob("evil agent\n"));
    t["targets/cloud/1.1.0/agent.tar.gz"].blob = evil;
    const auto id = ch.commit_on_top(t, ssh_signer(theirs().release));
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "repo.commit_signature", "commit " + id), problems_of(r));
    CHECK_MESSAGE(has_problem(r, "tuf.target_mismatch", "cloud/1.1.0/agent.tar.gz"),
                  problems_of(r));
  }
  SUBCASE("a commit whose signature is over other bytes: repo.commit_signature") {
    const auto id = ch.commit_on_top(tree, [](std::string_view payload) {
      return crypto::ssh::sign(ours().release, std::string(payload) + "x", "git");
    });
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "repo.commit_signature", "commit " + id), problems_of(r));
    CHECK(r.problems.size() == 1);
  }
  SUBCASE("a commit signed in another namespace: repo.commit_signature") {
    const auto id = ch.commit_on_top(tree, [](std::string_view payload) {
      return crypto::ssh::sign(ours().release, payload, "file");
    });
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "repo.commit_signature", "commit " + id), problems_of(r));
  }
  SUBCASE("an unsigned commit made by git: repo.commit_unsigned") {
    const auto made = ch.git("commit-tree -m unsigned -p " + second.commit + " "
                             + must(ch.repo.commit(second.commit)).tree);
    REQUIRE_MESSAGE(made.status == 0, made.out);
    const auto id = first_line(made.out);
    must(ch.repo.update_branch("main", second.commit, id, "test"));
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "repo.commit_unsigned", "commit " + id), problems_of(r));
    CHECK(r.problems.size() == 1);
  }
  SUBCASE("a target removed: tuf.target_missing") {
    auto t = tree;
    t.erase("targets/cloud/1.1.0/README.txt");
    ch.commit_on_top(t, ssh_signer(ours().release));
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "tuf.target_missing", "cloud/1.1.0/README.txt"), problems_of(r));
  }
  SUBCASE("an evidence file removed: tuf.target_missing") {
    auto t = tree;
    t.erase("targets/cloud/1.1.0/agent.tar.gz.p7s");
    ch.commit_on_top(t, ssh_signer(ours().release));
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "tuf.target_missing", "targets/cloud/1.1.0/agent.tar.gz.p7s"),
                  problems_of(r));
  }
  SUBCASE("an attestation replaced by one another key signed: attest.*") {
    auto t = tree;
    const std::array<const crypto::SigningKey*, 1> keys{&theirs().release};
    const auto env = crypto::dsse::serialise(
        must(crypto::dsse::sign(std::string(crypto::dsse::k_in_toto_type), "{}", keys)));
    t["attestations/cloud/1.1.0/sign.dsse.json"].blob = must(ch.repo.write_blob(env));
    ch.commit_on_top(t, ssh_signer(ours().release));
    const auto r = must(ch.verify(root));
    // The pointer's sha256 no longer matches, and the envelope does not verify.
    CHECK_MESSAGE(has_problem(r, "tuf.target_mismatch", "attestations/cloud/1.1.0/sign.dsse.json"),
                  problems_of(r));
    CHECK_MESSAGE(std::any_of(r.problems.begin(),
                              r.problems.end(),
                              [](const auto& p) { return p.reason.starts_with("attest."); }),
                  problems_of(r));
  }
  SUBCASE("a file added under targets/: tuf.target_unlisted") {
    auto t = tree;
    t["targets/cloud/1.1.0/extra.bin"].blob = must(ch.repo.write_blob("extra\n"));
    ch.commit_on_top(t, ssh_signer(ours().release));
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "tuf.target_unlisted", "targets/cloud/1.1.0/extra.bin"),
                  problems_of(r));
    CHECK(r.problems.size() == 1);
  }
  SUBCASE("a file added outside the four directories: tuf.target_unlisted") {
    auto t = tree;
    t["README"].blob = must(ch.repo.write_blob("hello\n"));
    ch.commit_on_top(t, ssh_signer(ours().release));
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "tuf.target_unlisted", "README"), problems_of(r));
  }
  SUBCASE("older timestamp, snapshot and targets restored: tuf.rollback") {
    const auto old = must(ch.repo.read_tree(first.commit));
    auto t = tree;
    for (const char* name :
         {"metadata/timestamp.json", "metadata/snapshot.json", "metadata/targets.json"}) {
      t[name] = old.at(name);
    }
    const auto id = ch.commit_on_top(t, ssh_signer(ours().release));
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "tuf.rollback", id), problems_of(r));
  }
  SUBCASE("checked far in the future: tuf.expired") {
    const auto r = must(ch.verify(root, k_now + std::chrono::hours(24 * 365 * 10)));
    CHECK_MESSAGE(has_problem(r, "tuf.expired"), problems_of(r));
  }
  SUBCASE("checked after the timestamp expired: tuf.expired") {
    const auto r = must(ch.verify(root, k_now + std::chrono::hours(25)));
    CHECK_MESSAGE(has_problem(r, "tuf.expired"), problems_of(r));
  }
  SUBCASE("a tag ref moved to another release's tag object: repo.tag_invalid") {
    REQUIRE(ch.git("update-ref refs/tags/cloud/1.1.0 " + first.tag).status == 0);
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "repo.tag_invalid", "cloud/1.1.0"), problems_of(r));
  }
  SUBCASE("a tag ref moved to a signed tag of the right name at another commit") {
    const auto moved = must(ch.repo.create_tag(
        {"cloud/1.1.0", first.commit, options().identity, "moved\n"}, ssh_signer(ours().release)));
    REQUIRE(ch.git("update-ref refs/tags/cloud/1.1.0 " + moved).status == 0);
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "repo.tag_invalid", "cloud/1.1.0"), problems_of(r));
  }
  SUBCASE("a tag signed by another key: repo.tag_invalid") {
    const auto forged =
        must(ch.repo.create_tag({"cloud/1.1.0", second.commit, options().identity, "forged\n"},
                                ssh_signer(theirs().release)));
    REQUIRE(ch.git("update-ref refs/tags/cloud/1.1.0 " + forged).status == 0);
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "repo.tag_invalid", "tag cloud/1.1.0"), problems_of(r));
  }
  SUBCASE("a lightweight tag in place of the release's: repo.tag_invalid") {
    REQUIRE(ch.git("update-ref refs/tags/cloud/1.1.0 " + second.commit).status == 0);
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "repo.tag_invalid", "cloud/1.1.0"), problems_of(r));
  }
  SUBCASE("an extra lightweight tag: repo.tag_invalid") {
    REQUIRE(ch.git("tag cloud/9.9.9 " + second.commit).status == 0);
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "repo.tag_invalid", "cloud/9.9.9"), problems_of(r));
  }
  SUBCASE("a release's tag deleted: repo.tag_invalid") {
    REQUIRE(ch.git("update-ref -d refs/tags/cloud/1.1.0").status == 0);
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "repo.tag_invalid", "cloud/1.1.0"), problems_of(r));
  }
  SUBCASE("the branch reset to an older commit: repo.tag_invalid for the newer release") {
    REQUIRE(ch.git("update-ref refs/heads/main " + first.commit).status == 0);
    REQUIRE(ch.head() == first.commit);
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(has_problem(r, "repo.tag_invalid", "cloud/1.1.0"), problems_of(r));
    CHECK_FALSE(has_problem(r, "repo.tag_invalid", "cloud/1.0.0"));
  }
  SUBCASE("a trusted root of another key set") {
    const Channel other;
    other.add("1.0.0", theirs());
    const auto r = ch.verify(other.trusted_root());
    if (r) {
      CHECK_FALSE(r->ok());
      CHECK_MESSAGE(std::any_of(r->problems.begin(),
                                r->problems.end(),
                                [](const auto& p) { return p.reason.starts_with("tuf."); }),
                    problems_of(*r));
      // Without a verified chain the root's own targets keys decide: ours are not among them.
      CHECK(has_problem(*r, "repo.commit_signature"));
    } else {
      CHECK(r.error().reason.starts_with("tuf."));
    }
  }
}

TEST_CASE("promote::verify_channel accepts what promote wrote") {
  const Channel ch;
  const auto first = ch.add("1.0.0");
  const auto second = ch.add("1.1.0");
  const auto root = ch.trusted_root();

  SUBCASE("the whole channel") {
    const auto r = must(ch.verify(root));
    CHECK_MESSAGE(r.ok(), problems_of(r));
    CHECK(r.tip == second.commit);
    CHECK(r.root_version == 1);
    CHECK(r.timestamp_version == 2);
    CHECK(r.snapshot_version == 2);
    CHECK(r.targets_version == 2);
    CHECK(r.targets == 4);
    CHECK(r.attestations == 2);  // one envelope per release, shared by its targets
    CHECK(r.commits == 2);
    CHECK(r.tags == 2);
    CHECK(r.releases == std::vector<std::string>{"cloud/1.0.0", "cloud/1.1.0"});
    const auto j = r.to_json();
    CHECK(j.at("ok") == true);
    CHECK(j.at("problems").empty());
  }
  SUBCASE("one release, as --release checks it") {
    auto opts = promote::VerifyOptions{root, k_now, "cloud/1.0.0", "main", std::nullopt, {}};
    const auto r = must(promote::verify_channel(ch.repo, opts));
    CHECK_MESSAGE(r.ok(), problems_of(r));
    CHECK(r.targets == 2);
    CHECK(r.releases == std::vector<std::string>{"cloud/1.0.0"});
    opts.release = "cloud/9.9.9";
    const auto missing = must(promote::verify_channel(ch.repo, opts));
    CHECK(has_problem(missing, "tuf.target_missing", "cloud/9.9.9"));
  }
  SUBCASE("the root.json copy trusted instead of 1.root.json") {
    const auto r = must(ch.verify(ch.state().metadata.at("root.json")));
    CHECK_MESSAGE(r.ok(), problems_of(r));
  }
  SUBCASE("an older tip with the tags that were there") {
    const auto r = must(
        promote::verify_channel(ch.repo,
                                {root,
                                 k_now,
                                 std::nullopt,
                                 "main",
                                 first.commit,
                                 std::map<std::string, repo::Oid>{{"cloud/1.0.0", first.tag}}}));
    CHECK_MESSAGE(r.ok(), problems_of(r));
    CHECK(r.tip == first.commit);
    CHECK(r.commits == 1);
  }
}

TEST_CASE("promote::verify_channel reports files under metadata/ that TUF does not name") {
  // Only the current files and N.root/snapshot/targets.json up to the verified versions live
  // in metadata/: anything else there is neither verified nor listed.
  for (const std::string name : {"payload.sh", "7.targets.json", "07.snapshot.json"}) {
    CAPTURE(name);
    const Channel ch;
    ch.add("1.0.0");
    auto t = must(ch.repo.read_tree(ch.head()));
    t["metadata/" + name].blob = must(ch.repo.write_blob("#!/bin/sh\necho pwned\n"));
    ch.commit_on_top(t, ssh_signer(ours().release));
    const auto r = must(ch.verify(ch.trusted_root()));
    CHECK_MESSAGE(has_problem(r, "tuf.target_unlisted", "metadata/" + name), problems_of(r));
  }
}

TEST_CASE("promote::promote refuses keys that cannot sign the metadata, leaving the branch") {
  const Channel ch;
  ch.add("1.0.0");
  const auto before = ch.head();
  // The online roles name the release key, but only the root key is at hand.
  const std::array<const crypto::SigningKey*, 1> only_root{&ours().root};
  const auto full = ours().signers();
  const promote::Signers signers{ours().release, only_root, full.roles};
  CHECK(reason_of(promote::promote(ch.repo, ch.release("1.1.0"), signers, options()))
        == "tuf.threshold");
  CHECK(ch.head() == before);
  CHECK_FALSE(must(ch.repo.tag("cloud/1.1.0")).has_value());
}

TEST_CASE("promote::promote compares versions as versions, not as text") {
  const Channel ch;
  ch.add("1.9.0");
  CHECK(must(ch.promote(ch.release("1.10.0"))).targets_version == 2);
  CHECK(reason_of(ch.promote(ch.release("1.2.0"))) == "promote.rollback");
  CHECK(reason_of(ch.promote(ch.release("1.10.0-rc.1"))) == "promote.rollback");
}

TEST_CASE("promote::promote with a new release key writes root 2; the channel verifies from 1") {
  const Channel ch;
  const auto first = ch.add("1.0.0");
  const auto root1 = ch.trusted_root();
  // The root key stays; the online roles move to another key.
  const KeySet rotated(key(2), ours().root);
  const auto second = ch.add("1.1.0", rotated);
  CHECK(second.targets_version == 2);
  const auto st = ch.state();
  CHECK(st.metadata.contains("2.root.json"));
  CHECK(must(ch.repo.commit(second.commit)).parents == std::vector<repo::Oid>{first.commit});
  const auto r = must(ch.verify(root1));
  CHECK_MESSAGE(r.ok(), problems_of(r));
  CHECK(r.root_version == 2);
  CHECK(r.commits == 2);
  CHECK(r.tags == 2);
  ch.fsck_clean();
}

TEST_CASE("promote::verify_channel checks a clone's work tree against its commit") {
  const Channel ch;
  ch.add("1.0.0");
  const auto root = ch.trusted_root();
  const auto clone = ch.dir / "clone";
  const auto cloned = run("HOME=" + ch.dir.path().string() + " GIT_CONFIG_NOSYSTEM=1 git clone -q "
                          + ch.repo.path().string() + " " + clone.string());
  REQUIRE_MESSAGE(cloned.status == 0, cloned.out);
  const auto opened = must(repo::Repository::open(clone));
  CHECK(stdfs::equivalent(opened.work_tree(), clone));
  const auto verify = [&] {
    return must(
        promote::verify_channel(opened, {root, k_now, std::nullopt, "main", std::nullopt, {}}));
  };
  SUBCASE("as cloned: accepted") {
    const auto r = verify();
    CHECK_MESSAGE(r.ok(), problems_of(r));
  }
  SUBCASE("an artifact changed in the work tree: tuf.target_mismatch") {
    test::write_file(clone / "targets/cloud/1.0.0/agent.tar.gz", "evil\n");
    const auto r = verify();
    CHECK_MESSAGE(has_problem(r, "tuf.target_mismatch", "targets/cloud/1.0.0/agent.tar.gz"),
                  problems_of(r));
  }
  SUBCASE("a file added to the work tree: tuf.target_unlisted") {
    test::write_file(clone / "targets/cloud/1.0.0/extra", "extra\n");
    const auto r = verify();
    CHECK_MESSAGE(has_problem(r, "tuf.target_unlisted", "targets/cloud/1.0.0/extra"),
                  problems_of(r));
  }
  SUBCASE("a file removed from the work tree: tuf.target_missing") {
    stdfs::remove(clone / "releases/cloud/1.0.0/release.json");
    const auto r = verify();
    CHECK_MESSAGE(has_problem(r, "tuf.target_missing", "releases/cloud/1.0.0/release.json"),
                  problems_of(r));
  }
}

TEST_CASE("promote::refresh re-signs the metadata in a new commit, the tree otherwise unchanged") {
  const Channel ch;
  CHECK_FALSE(must(promote::refresh(ch.repo, ours().signers(), options())).has_value());
  const auto first = ch.add("1.0.0");
  const auto root = ch.trusted_root();
  const auto before = must(ch.repo.read_tree(first.commit));
  // Two days on, the timestamp (one day) has expired: a consumer refuses the channel.
  const auto later = k_now + std::chrono::hours(48);
  CHECK(has_problem(must(ch.verify(root, later)), "tuf.expired"));
  const auto commit = must(promote::refresh(ch.repo, ours().signers(), options(later)));
  REQUIRE(commit.has_value());
  CHECK(ch.head() == *commit);
  CHECK(must(ch.repo.commit(*commit)).parents == std::vector<repo::Oid>{first.commit});
  const auto after = must(ch.repo.read_tree(*commit));
  for (const auto& [path, e] : after) {
    CAPTURE(path);
    if (!path.starts_with("metadata/")) {
      REQUIRE(before.contains(path));
      CHECK(before.at(path).blob == e.blob);
    }
  }
  for (const auto& [path, e] : before) {
    CHECK(after.contains(path));  // nothing removed (earlier versions of metadata stay)
  }
  CHECK(paths_of(ch.targets())
        == paths_of(must(tuf::current_targets(must(promote::metadata_of(ch.repo, before))))));
  const auto report = must(ch.verify(root, later));
  CHECK_MESSAGE(report.ok(), problems_of(report));
  CHECK(report.targets_version == first.targets_version + 1);
  ch.fsck_clean();
}

TEST_CASE("promote::verify_channel hashes targets on several threads and counts the bytes") {
  const Channel ch;
  ch.add("1.0.0");
  ch.add("1.1.0");
  const auto root = ch.trusted_root();
  for (unsigned threads : {1U, 2U, 8U}) {
    CAPTURE(threads);
    auto opts = promote::VerifyOptions{root, k_now, std::nullopt, "main", std::nullopt, {}};
    opts.threads = threads;
    const auto report = must(promote::verify_channel(ch.repo, opts));
    CHECK_MESSAGE(report.ok(), problems_of(report));
    CHECK(report.bytes_hashed > 0);
  }
}
