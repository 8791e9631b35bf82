// The intake stage: check the drop's shape, copy and hash every artifact once into staged
// objects, compare with drop.json, and only then commit objects and evidence to quarantine.
#include <ecluse/core/fs.hpp>
#include <ecluse/intake/intake.hpp>

#include <sys/stat.h>

#include <cerrno>

#include "payload_scan.hpp"

namespace ecluse::intake {

struct StagedDropFactory {
  static StagedDrop make(DropIdentity who,
                         DropManifest manifest,
                         std::string drop_json,
                         std::optional<std::string> signature,
                         stdfs::path evidence_dir) {
    return {std::move(who),
            std::move(manifest),
            std::move(drop_json),
            std::move(signature),
            std::move(evidence_dir)};
  }
};

namespace {

using store::StagedObject;

struct Copied {
  std::vector<StagedObject> objects;
  std::optional<std::string> signature;
};

Status check_limits(const Context& ctx, const DropManifest& m) {
  const auto& limits = ctx.ws.config().limits;
  const auto& channels = ctx.ws.config().channels;
  if (std::find(channels.begin(), channels.end(), m.channel) == channels.end()) {
    return fail(reason::k_drop_unknown_channel,
                "drop.json: channel '" + m.channel + "' is not configured",
                m.channel);
  }
  if (m.expires && *m.expires <= ctx.clock.now()) {
    return fail(reason::k_drop_expired,
                "drop.json: expires " + format_utc(*m.expires) + " has passed",
                "expires");
  }
  if (m.artifacts.size() > limits.max_artifacts) {
    return fail(reason::k_intake_too_many_artifacts,
                "drop lists " + std::to_string(m.artifacts.size())
                    + " artifacts, more than limits.max_artifacts",
                "artifacts");
  }
  std::uint64_t total = 0;
  for (const auto& a : m.artifacts) {
    if (a.size > limits.max_artifact_bytes) {
      return fail(reason::k_intake_artifact_too_large,
                  "artifact '" + a.path + "' is larger than limits.max_artifact_bytes",
                  a.path);
    }
    total += a.size;
  }
  if (total > limits.max_drop_bytes) {
    return fail(reason::k_intake_drop_too_large,
                "drop's artifacts add up to more than limits.max_drop_bytes",
                "artifacts");
  }
  return {};
}

Result<std::optional<std::string>> read_signature(const Context& ctx, const stdfs::path& dir) {
  const auto path = dir / "drop.json.sig";

  struct stat st {};

  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return fail(
          reason::k_intake_io, fs::errno_message("cannot stat", path, errno), "drop.json.sig");
    }
    return std::optional<std::string>{};  // the verify stage decides what a missing signature means
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(
        reason::k_intake_not_regular, "drop.json.sig is not a regular file", "drop.json.sig");
  }
  ECLUSE_TRY(bytes,
             fs::read_file_bounded(path,
                                   ctx.ws.config().limits.max_signature_bytes,
                                   reason::k_intake_io,
                                   reason::k_intake_signature_too_large));
  return std::optional<std::string>{std::move(bytes)};
}

// Copies one artifact into a staged object, hashing in the same pass, and checks it.
Result<StagedObject> copy_artifact(const Context& ctx,
                                   const stdfs::path& payload,
                                   const Artifact& a,
                                   std::uint64_t base) {
  // Resolved beneath payload/ one component at a time: a directory swapped for a symlink
  // after the scan cannot lead outside, and a file swapped for a fifo cannot block.
  ECLUSE_TRY(fd, fs::open_beneath(payload, a.path, reason::k_intake_io));
  store::ProgressFn progress;
  if (ctx.progress) {
    progress = [&](std::uint64_t n) {
      ctx.progress(base + n);
    };
  }
  auto staged =
      ctx.objects.stage(fd.get(), a.size, reason::k_intake_size_mismatch, a.path, progress);
  if (!staged) {
    return staged;
  }
  if (staged->size() != a.size) {
    return fail(reason::k_intake_size_mismatch,
                "artifact '" + a.path + "' has " + std::to_string(staged->size())
                    + " bytes, drop.json says " + std::to_string(a.size),
                a.path);
  }
  if (!(staged->digest() == a.sha256)) {
    return fail(reason::k_intake_digest_mismatch,
                "artifact '" + a.path + "' has sha256 " + staged->digest().hex()
                    + ", drop.json says " + a.sha256.hex(),
                a.path);
  }
  return staged;
}

Result<Copied> copy_drop(const Context& ctx, const stdfs::path& dir, const DropManifest& m) {
  const auto max_files = ctx.ws.config().limits.max_artifacts;
  ECLUSE_CHECK(detail::check_drop_layout(dir));
  Copied out;
  ECLUSE_TRY(signature, read_signature(ctx, dir));
  out.signature = std::move(signature);
  const auto payload = dir / "payload";
  ECLUSE_TRY(files, detail::scan_payload(payload, max_files));
  ECLUSE_CHECK(detail::match_listing(m, files));
  std::uint64_t copied = 0;
  for (const auto& a : m.artifacts) {
    ECLUSE_TRY(obj, copy_artifact(ctx, payload, a, copied));
    copied += a.size;
    out.objects.push_back(std::move(obj));
  }
  return out;
}

json::Json evidence_of(const DropCandidate& c, const DropManifest* m, const Copied* copied) {
  json::Json e{{"source", c.who.source}};
  if (c.drop_json) {
    e["drop_json"] = {{"sha256", c.who.id}, {"size", c.drop_json->size()}};
  }
  if (m != nullptr) {
    auto list = json::Json::array();
    std::uint64_t total = 0;
    for (const auto& a : m->artifacts) {
      list.push_back({{"path", a.path}, {"sha256", a.sha256.hex()}, {"size", a.size}});
      total += a.size;
    }
    e["artifacts"] = std::move(list);
    e["bytes"] = total;
  }
  if (copied != nullptr && copied->signature) {
    auto d = crypto::sha256(*copied->signature);
    e["signature"] = {{"sha256", d ? d->hex() : ""}, {"size", copied->signature->size()}};
  }
  return e;
}

// Commits staged objects and writes quarantine/drops/ID: the point where intake accepts.
Status commit_to_quarantine(const Context& ctx,
                            const DropCandidate& c,
                            Copied& copied,
                            const json::Json& evidence) {
  ECLUSE_CHECK(ctx.objects.commit_all(copied.objects));
  const auto dir = ctx.ws.drops_dir() / c.who.id;
  ECLUSE_CHECK(fs::make_dirs(dir, reason::k_store_io));
  ECLUSE_CHECK(fs::fsync_dir(ctx.ws.drops_dir(), reason::k_store_io));
  ECLUSE_CHECK(fs::write_file_atomic(dir / "drop.json", *c.drop_json, reason::k_store_io, 0444));
  if (copied.signature) {
    ECLUSE_CHECK(
        fs::write_file_atomic(dir / "drop.json.sig", *copied.signature, reason::k_store_io, 0444));
  }
  return fs::write_file_atomic(
      dir / "intake.json", json::dump_pretty(evidence) + "\n", reason::k_store_io, 0444);
}

// The quarantine copy of drop.json.sig, if the drop had one.
Result<std::optional<std::string>> reload_signature(const Context& ctx, const stdfs::path& dir) {
  std::error_code ec;
  (void)stdfs::symlink_status(dir / "drop.json.sig", ec);
  if (ec == std::errc::no_such_file_or_directory) {
    return std::optional<std::string>{};
  }
  if (ec) {
    return fail(reason::k_store_io,
                "cannot read the quarantine copy of drop.json.sig for " + dir.filename().string()
                    + ": " + ec.message(),
                dir.string());
  }
  ECLUSE_TRY(bytes,
             fs::read_file_bounded(dir / "drop.json.sig",
                                   ctx.ws.config().limits.max_signature_bytes,
                                   reason::k_store_object_missing,
                                   reason::k_store_object_corrupt));
  return std::optional<std::string>{std::move(bytes)};
}

}  // namespace

IntakeResult intake(const Context& ctx, DropCandidate candidate) {
  IntakeResult r{
      candidate.who, fail(reason::k_internal, "intake did not run"), json::Json::object()};
  r.evidence = evidence_of(candidate, nullptr, nullptr);
  if (candidate.why) {
    r.staged = fail(*candidate.why);
    return r;
  }
  auto manifest = parse_drop_manifest(*candidate.drop_json);
  if (!manifest) {
    r.staged = fail(manifest.error());
    return r;
  }
  r.evidence = evidence_of(candidate, &*manifest, nullptr);
  if (auto ok = check_limits(ctx, *manifest); !ok) {
    r.staged = fail(ok.error());
    return r;
  }
  auto copied = copy_drop(ctx, candidate.who.source, *manifest);
  if (!copied) {
    r.staged = fail(copied.error());
    return r;
  }
  r.evidence = evidence_of(candidate, &*manifest, &*copied);
  if (auto ok = commit_to_quarantine(ctx, candidate, *copied, r.evidence); !ok) {
    r.staged = fail(ok.error());
    return r;
  }
  r.staged = StagedDropFactory::make(candidate.who,
                                     std::move(*manifest),
                                     std::move(*candidate.drop_json),
                                     std::move(copied->signature),
                                     ctx.ws.drops_dir() / candidate.who.id);
  return r;
}

Result<StagedDrop> reload(const Context& ctx, const std::string& id, const std::string& source) {
  const auto dir = ctx.ws.drops_dir() / id;
  ECLUSE_TRY(bytes,
             fs::read_file_bounded(dir / "drop.json",
                                   ctx.ws.config().limits.max_drop_json_bytes,
                                   reason::k_store_object_missing,
                                   reason::k_store_object_corrupt));
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  if (digest.hex() != id) {
    return fail(reason::k_store_object_corrupt,
                "quarantine copy of drop.json for " + id + " was altered",
                id);
  }
  ECLUSE_TRY(manifest, parse_drop_manifest(bytes));
  for (const auto& a : manifest.artifacts) {
    if (!ctx.objects.contains(a.sha256)) {
      return fail(reason::k_store_object_missing,
                  "object " + a.sha256.hex() + " of '" + a.path + "' is missing",
                  a.path);
    }
  }
  ECLUSE_TRY(signature, reload_signature(ctx, dir));
  DropIdentity who{
      id, manifest.vendor, manifest.product, manifest.version.text(), manifest.channel, source};
  return StagedDropFactory::make(
      std::move(who), std::move(manifest), std::move(bytes), std::move(signature), dir);
}

}  // namespace ecluse::intake
