// The diff stage: analyse, then write diff.json and endpoints.json beside the drop's other
// evidence (atomically), with their digests in the stage's evidence.
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/diff/diff.hpp>

#include "analyse.hpp"
#include "index.hpp"

namespace ecluse::diff {

struct DiffedDropFactory {
  static DiffedDrop make(unpack::UnpackedDrop u, json::Json e) {
    return {std::move(u), std::move(e)};
  }
};

namespace {

constexpr std::uint64_t k_max_document_bytes = 1ULL << 30U;

// Writes a JSON document into the drop's evidence folder; returns {file, sha256}.
Result<json::Json> write_evidence(const workspace::Workspace& ws,
                                  const std::string& id,
                                  std::string_view name,
                                  const json::Json& doc) {
  const auto bytes = json::dump_line(doc);
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  ECLUSE_CHECK(fs::write_file_atomic(ws.drops_dir() / id / name, bytes, reason::k_store_io));
  return json::Json{{"file", name}, {"sha256", digest.hex()}};
}

store::DropRecord record_of(const unpack::UnpackedDrop& drop) {
  const auto& who = drop.verified().staged().identity();
  store::DropRecord d;
  d.id = who.id;
  d.vendor = who.vendor;
  d.product = who.product;
  d.version = who.version;
  d.channel = who.channel;
  return d;
}

}  // namespace

DiffRun compare(const Context& ctx,
                const unpack::UnpackedDrop& drop,
                const std::optional<Baseline>& baseline) {
  DiffRun run{fail(reason::k_internal, "diff did not run"), json::Json::object(), {}};
  auto a = detail::analyse(ctx, record_of(drop), drop.tree(), baseline);
  if (!a) {
    run.out = fail(a.error());
    return run;
  }
  auto doc_ref = write_evidence(ctx.ws, drop.id(), k_diff_file, a->document);
  auto index_ref =
      doc_ref ? write_evidence(ctx.ws, drop.id(), k_endpoints_file, detail::index_json(a->index))
              : doc_ref;
  if (!index_ref) {
    run.out = fail(index_ref.error());
    return run;
  }
  run.evidence = {{"baseline", a->document["baseline"]},
                  {"summary", a->document["summary"]},
                  {"diff", *doc_ref},
                  {"endpoints", *index_ref},
                  {"analysis", a->stats},
                  {"findings", a->findings.size()}};
  run.findings = std::move(a->findings);
  run.out = DiffedDropFactory::make(drop, run.evidence);
  return run;
}

Result<json::Json> load_document(const workspace::Workspace& ws,
                                 const std::string& id,
                                 const json::Json& evidence) {
  const auto want = evidence.value("diff", json::Json::object()).value("sha256", std::string());
  const auto file = ws.drops_dir() / id / k_diff_file;
  ECLUSE_TRY(bytes,
             fs::read_file_bounded(
                 file, k_max_document_bytes, reason::k_store_io, reason::k_store_object_corrupt));
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  auto parsed = json::parse_strict(bytes);
  if (digest.hex() != want || parsed.failure != json::ParseFailure::none) {
    return fail(reason::k_store_object_corrupt,
                file.string() + " does not match the digest its diff stage recorded",
                file.string());
  }
  return std::move(parsed.value);
}

Result<DiffedDrop> reload(const Context& ctx, unpack::UnpackedDrop unpacked, json::Json evidence) {
  ECLUSE_TRY(doc, load_document(ctx.ws, unpacked.id(), evidence));
  (void)doc;
  return DiffedDropFactory::make(std::move(unpacked), std::move(evidence));
}

}  // namespace ecluse::diff
