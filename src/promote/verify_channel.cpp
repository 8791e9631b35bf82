// Consumer verification, part one: the TUF chain from the trusted root, then the tree against
// targets.json (every target, its consistent-snapshot copy, its signature, attestations and
// release record; nothing unlisted), and a clone's work tree against its commit.
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/dsse.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/promote/promote.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <set>
#include <thread>

#include "verify_detail.hpp"

namespace ecluse::promote {

namespace detail {

Result<std::pair<std::string, std::uint64_t>> file_digest(const std::filesystem::path& file) {
  ECLUSE_TRY(fd, fs::open_read_nofollow(file, reason::k_repo_bad_bundle));
  ECLUSE_TRY(h, crypto::Sha256::create());
  std::array<char, 1U << 16U> buf{};
  std::uint64_t size = 0;
  for (;;) {
    const auto n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      return fail(reason::k_repo_io, fs::errno_message("cannot read", file, errno), file.string());
    }
    if (n == 0) {
      break;
    }
    size += static_cast<std::uint64_t>(n);
    ECLUSE_CHECK(h.update(std::string_view(buf.data(), static_cast<std::size_t>(n))));
  }
  ECLUSE_TRY(d, h.finish());
  return std::pair{d.hex(), size};
}

std::map<repo::Oid, BlobDigest> digest_blobs(const repo::Repository& r,
                                             std::vector<repo::Oid> ids,
                                             unsigned threads) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<BlobDigest> out(ids.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (auto i = next.fetch_add(1); i < ids.size(); i = next.fetch_add(1)) {
      auto h = crypto::Sha256::create();
      if (!h) {
        continue;
      }
      std::uint64_t size = 0;
      const auto streamed = r.read_blob_stream(ids[i], [&](std::string_view piece) -> Status {
        size += piece.size();
        return h->update(piece);
      });
      const auto d =
          streamed ? h->finish() : Result<crypto::Digest>(tl::unexpected(streamed.error()));
      if (d) {
        out[i] = BlobDigest{d->hex(), size, true};
      }
    }
  };
  const unsigned n =
      std::max(1U,
               std::min<unsigned>(threads != 0 ? threads : std::thread::hardware_concurrency(),
                                  static_cast<unsigned>(ids.size())));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) {
    pool.emplace_back(work);
  }
  work();
  for (auto& t : pool) {
    t.join();
  }
  std::map<repo::Oid, BlobDigest> result;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    result.emplace(ids[i], out[i]);
  }
  return result;
}

bool Checker::trusted(const crypto::PublicKey& key) const {
  return std::any_of(keys.begin(), keys.end(), [&](const auto& k) { return k.der() == key.der(); });
}

}  // namespace detail

namespace {

using detail::Checker;

bool is_hex64(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// A pointer {path, sha256} of a target's custom data: the file exists and hashes as named.
void check_pointer(const Checker& c,
                   const repo::Tree& tree,
                   const json::Json& ptr,
                   std::set<std::string>& accounted) {
  const auto path = ptr.is_object() ? ptr.value("path", std::string()) : std::string();
  const auto it = tree.find(path);
  if (it == tree.end()) {
    c.add(reason::k_tuf_target_missing, "targets.json names " + path + ", which is absent", path);
    return;
  }
  accounted.insert(path);
  const auto bytes = c.repo.read_blob(it->second.blob);
  const auto digest =
      bytes ? crypto::sha256(*bytes) : Result<crypto::Digest>(tl::unexpected(bytes.error()));
  if (!digest || digest->hex() != ptr.value("sha256", std::string())) {
    c.add(reason::k_tuf_target_mismatch, path + " does not hash as targets.json says", path);
  }
}

// A DSSE envelope of the sign stage: signed by the targets role's keys.
void check_attestation(const Checker& c, const repo::Tree& tree, const std::string& path) {
  const auto base = path.substr(path.rfind('/') + 1);
  if (is_hex64(base.substr(0, base.find('.')))) {
    return;  // an engineer's approval: signed by engineer keys, which TUF does not carry
  }
  const auto it = tree.find(path);
  if (it == tree.end()) {
    return;  // reported by check_pointer
  }
  const auto bytes = c.repo.read_blob(it->second.blob);
  auto env = bytes ? crypto::dsse::parse(*bytes, path)
                   : Result<crypto::dsse::Envelope>(tl::unexpected(bytes.error()));
  std::vector<crypto::dsse::KnownKey> known;
  for (const auto& k : c.keys) {
    known.push_back({k, false});
  }
  auto ok = env ? crypto::dsse::verify(*env, known, 1, crypto::dsse::k_in_toto_type)
                : Result<crypto::dsse::Verified>(tl::unexpected(env.error()));
  if (!ok) {
    c.add(Reason{ok.error().reason, Errc::rejected, ""}, ok.error().message, path);
    return;
  }
  ++c.report.attestations;
}

void check_target(const Checker& c,
                  const repo::Tree& tree,
                  const tuf::Target& t,
                  std::set<std::string>& accounted) {
  const auto path = "targets/" + t.path;
  const auto it = tree.find(path);
  if (it == tree.end()) {
    c.add(reason::k_tuf_target_missing, "target " + t.path + " is not in the tree", t.path);
    return;
  }
  accounted.insert(path);
  const auto found = c.digests.find(it->second.blob);
  const bool matches = found != c.digests.end() && found->second.ok
                       && found->second.size == t.length && found->second.sha256 == t.sha256;
  if (!matches) {
    c.add(reason::k_tuf_target_mismatch,
          "target " + t.path + " differs from targets.json (length or sha256)",
          t.path);
  }
  const auto copy = "targets/" + consistent_path(t.path, t.sha256);
  const auto cit = tree.find(copy);
  if (cit == tree.end() || cit->second.blob != it->second.blob) {
    c.add(reason::k_tuf_target_mismatch,
          "the consistent-snapshot copy of " + t.path + " is missing or differs",
          copy);
  }
  accounted.insert(copy);
  const auto custom = t.custom.value("ecluse", json::Json::object());
  for (const char* key : {"signature", "release"}) {
    if (custom.contains(key)) {
      check_pointer(c, tree, custom.at(key), accounted);
    }
  }
  for (const auto& a : custom.value("attestations", json::Json::array())) {
    const auto att = a.is_object() ? a.value("path", std::string()) : std::string();
    if (accounted.contains(att)) {
      continue;  // the release's envelopes are shared by its targets: checked once
    }
    check_pointer(c, tree, a, accounted);
    check_attestation(c, tree, att);
  }
}

bool in_release(const tuf::Target& t, const std::optional<std::string>& release) {
  return !release || t.path.starts_with(*release + "/");
}

// Withdrawn releases keep their record (a JSON object with "withdrawn").
bool is_withdrawal_record(const Checker& c, const std::string& path, const repo::TreeEntry& e) {
  if (!path.starts_with("releases/") || !path.ends_with("/release.json")
      || std::count(path.begin(), path.end(), '/') != 3) {
    return false;
  }
  const auto bytes = c.repo.read_blob(e.blob);
  if (!bytes) {
    return false;
  }
  const auto doc = json::parse_strict(*bytes);
  return doc.failure == json::ParseFailure::none && doc.value.is_object()
         && doc.value.contains("withdrawn");
}

// The four current files, and N.root.json, N.snapshot.json, N.targets.json up to the
// verified versions; nothing else lives in metadata/.
bool is_metadata_file(const ChannelReport& r, const std::string& name) {
  if (name == "root.json" || name == "timestamp.json" || name == "snapshot.json"
      || name == "targets.json") {
    return true;
  }
  std::uint64_t n = 0;
  const auto* end = name.data() + name.size();
  const auto [ptr, ec] = std::from_chars(name.data(), end, n);
  if (ec != std::errc() || ptr == name.data() || name.front() == '0' || n == 0) {
    return false;
  }
  const std::string_view rest(ptr, static_cast<std::size_t>(end - ptr));
  return (rest == ".root.json" && n <= r.root_version)
         || (rest == ".snapshot.json" && n <= r.snapshot_version)
         || (rest == ".targets.json" && n <= r.targets_version);
}

// Every path of the tree is a TUF file or something targets.json accounts for.
void check_accounted(const Checker& c,
                     const repo::Tree& tree,
                     const std::set<std::string>& accounted) {
  for (const auto& [path, entry] : tree) {
    if (accounted.contains(path) || is_withdrawal_record(c, path, entry)) {
      continue;
    }
    if (path.starts_with("metadata/") && is_metadata_file(c.report, path.substr(9))) {
      continue;  // checked by the TUF chain, or an earlier version (immutable: check_history)
    }
    c.add(reason::k_tuf_target_unlisted, path + " is not listed in targets.json", path);
  }
}

// A clone: each tracked file of the work tree must be a regular file equal to its blob, and
// nothing else is there (outside .git): no extra file, no symlink, no special file.
void check_work_file(const Checker& c,
                     const std::filesystem::path& file,
                     const std::string& path,
                     const repo::TreeEntry& entry) {
  std::error_code ec;
  const auto st = std::filesystem::symlink_status(file, ec);
  if (ec || !std::filesystem::exists(st)) {
    c.add(reason::k_tuf_target_missing, "the work tree lacks " + path, path);
    return;
  }
  if (!std::filesystem::is_regular_file(st)) {
    c.add(
        reason::k_tuf_target_mismatch, "the work tree's " + path + " is not a regular file", path);
    return;
  }
  // Streamed and hashed: never read whole.
  const auto digest = detail::file_digest(file);
  const auto blob = c.repo.read_blob(entry.blob);
  const auto blob_digest =
      blob ? crypto::sha256(*blob) : Result<crypto::Digest>(tl::unexpected(blob.error()));
  if (!digest || !blob_digest || digest->first != blob_digest->hex()) {
    c.add(reason::k_tuf_target_mismatch,
          "the work tree's " + path + " differs from the commit",
          path);
  }
}

void check_work_tree(const Checker& c, const repo::Tree& tree) {
  const auto root = c.repo.work_tree();
  if (root.empty()) {
    return;
  }
  for (const auto& [path, entry] : tree) {
    check_work_file(c, root / path, path, entry);
  }
  std::error_code ec;
  auto it = std::filesystem::recursive_directory_iterator(root, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const auto rel = it->path().lexically_relative(root).generic_string();
    if (rel == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    std::error_code sec;
    const auto st = it->symlink_status(sec);
    if (sec || std::filesystem::is_directory(st)) {
      continue;
    }
    if (!tree.contains(rel)) {
      c.add(reason::k_tuf_target_unlisted,
            "the work tree has an extra "
                + std::string(std::filesystem::is_symlink(st) ? "symlink " : "file ") + rel,
            rel);
    }
  }
  if (ec) {
    c.add(reason::k_tuf_target_unlisted,
          "the work tree could not be scanned whole: " + ec.message(),
          root.string());
  }
}

Result<repo::Oid> tip_of(const repo::Repository& r, const VerifyOptions& opts) {
  if (opts.tip) {
    return *opts.tip;
  }
  ECLUSE_TRY(head, r.branch(opts.branch));
  if (!head) {
    return fail(
        reason::k_repo_not_found, "the repository has no branch " + opts.branch, opts.branch);
  }
  return *head;
}

void check_tree(Checker& c, const repo::Tree& tree, const Result<tuf::Verified>& verified) {
  if (!verified) {
    c.add(Reason{verified.error().reason, Errc::rejected, ""},
          verified.error().message,
          verified.error().item);
    return;
  }
  c.report.root_version = verified->root_version;
  c.report.timestamp_version = verified->timestamp_version;
  c.report.snapshot_version = verified->snapshot_version;
  c.report.targets_version = verified->targets_version;
  std::set<std::string> accounted;
  std::set<std::string> releases;
  std::vector<repo::Oid> blobs;
  for (const auto& t : verified->targets) {
    const auto it = tree.find("targets/" + t.path);
    if (in_release(t, c.opts.release) && it != tree.end()) {
      blobs.push_back(it->second.blob);
    }
  }
  c.digests = detail::digest_blobs(c.repo, std::move(blobs), c.opts.threads);
  for (const auto& [oid, d] : c.digests) {
    c.report.bytes_hashed += d.size;
  }
  for (const auto& t : verified->targets) {
    if (in_release(t, c.opts.release)) {
      check_target(c, tree, t, accounted);
      ++c.report.targets;
      releases.insert(t.path.substr(0, t.path.find('/', t.path.find('/') + 1)));
    }
  }
  c.report.releases.assign(releases.begin(), releases.end());
  if (c.opts.release && releases.empty()) {
    c.add(reason::k_tuf_target_missing,
          "targets.json lists no target of " + *c.opts.release,
          *c.opts.release);
  }
  if (!c.opts.release) {
    check_accounted(c, tree, accounted);
  }
}

}  // namespace

json::Json ChannelReport::to_json() const {
  auto problems_json = json::Json::array();
  for (const auto& p : problems) {
    problems_json.push_back({{"reason", p.reason}, {"message", p.message}, {"item", p.item}});
  }
  return {{"ok", ok()},
          {"tip", tip},
          {"tuf",
           {{"root", root_version},
            {"timestamp", timestamp_version},
            {"snapshot", snapshot_version},
            {"targets", targets_version}}},
          {"targets", targets},
          {"attestations", attestations},
          {"commits", commits},
          {"tags", tags},
          {"bytes_hashed", bytes_hashed},
          {"releases", releases},
          {"problems", problems_json}};
}

namespace {

Result<ChannelReport> verify_channel_impl(const repo::Repository& r, const VerifyOptions& opts) {
  ChannelReport report;
  ECLUSE_TRY(tip, tip_of(r, opts));
  report.tip = tip;
  ECLUSE_TRY(tree, r.read_tree(tip));
  ECLUSE_TRY(meta, metadata_of(r, tree));
  ECLUSE_TRY(root_keys, detail::root_targets_keys(opts.trusted_root));
  Checker c{r, opts, report, std::move(root_keys)};
  auto verified = tuf::verify(opts.trusted_root, meta, opts.now);
  if (verified) {
    c.keys = verified->targets_keys_ever;
  }
  check_tree(c, tree, verified);
  check_work_tree(c, tree);
  ECLUSE_CHECK(detail::check_history(c, tip, tree));
  return report;
}

}  // namespace

Result<ChannelReport> verify_channel(const repo::Repository& r, const VerifyOptions& opts) {
  // Repository files are the attacker's: a JSON field of an unexpected type is a finding of
  // malformed metadata, never an exception out of the module.
  try {
    return verify_channel_impl(r, opts);
  } catch (const json::Json::exception& e) {
    return fail(reason::k_tuf_bad_metadata,
                std::string("a repository file has a field of the wrong type: ") + e.what());
  }
}

}  // namespace ecluse::promote
