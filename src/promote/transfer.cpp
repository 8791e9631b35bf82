// Export and import of a channel across an air gap: bundle + signed index out; on import the
// bundle is staged beside the repository, everything verified, then applied fast-forward only.
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/dsse.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/promote/promote.hpp>
#include <ecluse/promote/transfer.hpp>

#include <array>
#include <set>

#include "verify_detail.hpp"

namespace ecluse::promote {

namespace {

constexpr std::string_view k_main_ref = "refs/heads/main";
constexpr std::string_view k_tags_ref = "refs/tags/";

json::Json versions_json(const tuf::Files& meta) {
  json::Json out = json::Json::object();
  for (const char* name : {"root.json", "timestamp.json", "snapshot.json", "targets.json"}) {
    const auto it = meta.find(name);
    const auto doc = json::parse_strict(it == meta.end() ? "" : it->second);
    if (doc.failure == json::ParseFailure::none && doc.value.is_object()) {
      out[std::string(name).substr(0, std::string(name).find('.'))] =
          doc.value.value("signed", json::Json::object()).value("version", 0);
    }
  }
  return out;
}

Result<std::vector<repo::Repository::BundleRef>> export_refs(const repo::Repository& r,
                                                             const repo::Oid& head) {
  std::vector<repo::Repository::BundleRef> refs{{head, std::string(k_main_ref)}};
  ECLUSE_TRY(names, r.tag_names());
  for (const auto& name : names) {
    ECLUSE_TRY(tag, r.tag(name));
    if (tag) {
      refs.push_back({tag->id.empty() ? tag->target : tag->id, std::string(k_tags_ref) + name});
    }
  }
  return refs;
}

json::Json index_payload(const ExportRequest& req,
                         const ChannelState& st,
                         const std::vector<repo::Repository::BundleRef>& refs,
                         const std::vector<repo::Oid>& exclude,
                         const std::pair<std::string, std::uint64_t>& digest) {
  auto refs_json = json::Json::array();
  for (const auto& ref : refs) {
    refs_json.push_back({{"name", ref.name}, {"oid", ref.target}});
  }
  auto releases = json::Json::array();
  for (const auto& rel : st.releases) {
    releases.push_back({{"product", rel.product},
                        {"version", rel.version},
                        {"drop", rel.release.value("drop", std::string())},
                        {"withdrawn", rel.withdrawn},
                        {"approvals", rel.release.value("approvals", json::Json::array())}});
  }
  return {
      {"schema", k_export_schema},
      {"channel", req.channel},
      {"created", format_utc(req.now)},
      {"bundle",
       {{"file", req.channel + ".bundle"}, {"sha256", digest.first}, {"length", digest.second}}},
      {"tip", *st.head},
      {"refs", refs_json},
      {"prerequisites", exclude},
      {"since", req.since.value_or("")},
      {"tuf", versions_json(st.metadata)},
      {"releases", releases}};
}

tl::unexpected<Error> mismatch(const std::string& what, const std::string& item) {
  return fail(reason::k_transfer_mismatch, what, item);
}

Result<json::Json> verified_index(const crypto::dsse::Envelope& env,
                                  const tuf::Verified& v,
                                  const std::string& item) {
  std::vector<crypto::dsse::KnownKey> keys;
  for (const auto& k : v.roles.targets.keys) {  // the current release keys only
    keys.push_back({k, false});
  }
  auto ok = crypto::dsse::verify(env, keys, 1, k_export_type);
  if (!ok) {
    return fail(reason::k_transfer_bad_index,
                "the export index is not signed by a release key of the trusted root: "
                    + ok.error().message,
                item);
  }
  const auto doc = json::parse_strict(ok->payload);
  if (doc.failure != json::ParseFailure::none || !doc.value.is_object()
      || doc.value.value("schema", std::string()) != k_export_schema) {
    return fail(reason::k_transfer_bad_index,
                "the export index is not " + std::string(k_export_schema),
                item);
  }
  return doc.value;
}

// The bundle's refs must be exactly the index's, and name the branch once.
Result<std::map<std::string, repo::Oid>> check_refs(
    const json::Json& index, const std::vector<repo::Repository::BundleRef>& refs, repo::Oid& tip) {
  std::set<std::pair<std::string, std::string>> in_index;
  for (const auto& r : index.value("refs", json::Json::array())) {
    in_index.emplace(r.value("name", std::string()), r.value("oid", std::string()));
  }
  std::set<std::pair<std::string, std::string>> in_bundle;
  std::map<std::string, repo::Oid> tags;
  for (const auto& r : refs) {
    in_bundle.emplace(r.name, r.target);
    if (r.name == k_main_ref) {
      tip = r.target;
    } else if (r.name.starts_with(k_tags_ref)) {
      tags[r.name.substr(k_tags_ref.size())] = r.target;
    }
  }
  if (in_index != in_bundle || tip.empty() || tip != index.value("tip", std::string())) {
    return mismatch("the bundle's refs are not the ones its index names", "refs");
  }
  return tags;
}

Result<tuf::Files> metadata_at(const repo::Repository& view, const repo::Oid& tip) {
  ECLUSE_TRY(tree, view.read_tree(tip));
  return metadata_of(view, tree);
}

Status check_fast_forward(const repo::Repository& view,
                          const std::optional<repo::Oid>& old,
                          const repo::Oid& tip) {
  if (!old || *old == tip) {
    return {};
  }
  ECLUSE_TRY(history, view.history(tip));
  for (const auto& c : history) {
    if (c.id == *old) {
      return {};
    }
  }
  return fail(reason::k_repo_ref_moved,
              "the bundle's branch does not descend from this repository's " + old->substr(0, 12)
                  + " (not a fast-forward)",
              tip);
}

}  // namespace

std::filesystem::path index_of(const std::filesystem::path& bundle) {
  auto p = bundle;
  p.replace_extension(".index.json");
  return p;
}

static Result<std::string> index_channel_impl(const std::filesystem::path& bundle) {
  const auto item = index_of(bundle).string();
  ECLUSE_TRY(text,
             fs::read_file_bounded(index_of(bundle),
                                   crypto::dsse::k_max_envelope_bytes,
                                   reason::k_transfer_bad_index,
                                   reason::k_transfer_bad_index));
  ECLUSE_TRY(env, crypto::dsse::parse(text, item));
  const auto doc = json::parse_strict(env.payload);
  const auto channel =
      doc.value.is_object() ? doc.value.value("channel", std::string()) : std::string();
  if (channel.empty()) {
    return fail(reason::k_transfer_bad_index, "the export index names no channel", item);
  }
  return channel;
}

Result<ExportResult> export_channel(const repo::Repository& r,
                                    const ExportRequest& req,
                                    const crypto::SigningKey& release) {
  ECLUSE_TRY(st, read_state(r, std::string(k_branch)));
  if (!st.head) {
    return fail(
        reason::k_repo_not_found, "channel " + req.channel + " has nothing promoted", req.channel);
  }
  std::vector<repo::Oid> exclude;
  if (req.since) {
    ECLUSE_TRY(tag, r.tag(*req.since));
    if (!tag) {
      return fail(
          reason::k_repo_not_found, "no tag " + *req.since + " in " + req.channel, *req.since);
    }
    exclude.push_back(tag->target);
  }
  ECLUSE_TRY(refs, export_refs(r, *st.head));
  ECLUSE_CHECK(fs::make_dirs(req.out_dir, reason::k_repo_io));
  ExportResult out{req.out_dir / (req.channel + ".bundle"), {}, *st.head, refs.size() - 1, {}};
  out.index = index_of(out.bundle);
  ECLUSE_CHECK(r.write_bundle(out.bundle, refs, exclude));
  ECLUSE_TRY(digest, detail::file_digest(out.bundle));
  out.sha256 = digest.first;
  const std::array<const crypto::SigningKey*, 1> signers{&release};
  ECLUSE_TRY(
      env,
      crypto::dsse::sign(std::string(k_export_type),
                         json::dump_pretty(index_payload(req, st, refs, exclude, digest)) + "\n",
                         signers));
  ECLUSE_CHECK(fs::write_file_atomic(out.index, crypto::dsse::serialise(env), reason::k_repo_io));
  return out;
}

namespace {

struct ImportInput {
  const repo::Repository& r;
  const std::filesystem::path& bundle;
  const std::string& channel;
  const std::string& trusted_root;
  TimePoint now;
};

// The index, checked against the TUF chain at the bundle's tip: signed by a current release
// key, naming this channel, this bundle's digest and its refs. Returns the tags it brings.
Result<std::map<std::string, repo::Oid>> check_index(const ImportInput& in,
                                                     const repo::Repository::StagedBundle& staged,
                                                     const repo::Oid& tip) {
  const auto item = index_of(in.bundle).string();
  ECLUSE_TRY(text,
             fs::read_file_bounded(index_of(in.bundle),
                                   crypto::dsse::k_max_envelope_bytes,
                                   reason::k_transfer_bad_index,
                                   reason::k_transfer_bad_index));
  ECLUSE_TRY(env, crypto::dsse::parse(text, item));
  ECLUSE_TRY(meta, metadata_at(staged.view(), tip));
  ECLUSE_TRY(verified, tuf::verify(in.trusted_root, meta, in.now));
  ECLUSE_TRY(index, verified_index(env, verified, item));
  const auto named = index.value("channel", std::string());
  if (named != in.channel) {
    return mismatch("the export index names channel " + named + ", not " + in.channel, item);
  }
  ECLUSE_TRY(digest, detail::file_digest(in.bundle));
  const auto b = index.value("bundle", json::Json::object());
  if (b.value("sha256", std::string()) != digest.first
      || b.value("length", std::uint64_t{0}) != digest.second) {
    return mismatch("the bundle's sha256 or length differs from its signed index",
                    in.bundle.string());
  }
  repo::Oid named_tip;
  ECLUSE_TRY(tags, check_refs(index, staged.refs(), named_tip));
  return tags;
}

// Nothing moves unless all of it can: a fast-forward, and no tag here that differs.
Status check_applicable(const ImportInput& in,
                        const repo::Repository& view,
                        const std::optional<repo::Oid>& old,
                        const repo::Oid& tip,
                        const std::map<std::string, repo::Oid>& tags) {
  ECLUSE_CHECK(check_fast_forward(view, old, tip));
  for (const auto& [name, id] : tags) {
    ECLUSE_TRY(have, in.r.tag(name));
    if (have && have->id != id) {
      return fail(reason::k_repo_ref_moved,
                  "tag " + name + " is another tag object here than in the bundle",
                  name);
    }
  }
  return {};
}

Result<ImportResult> import_impl(const ImportInput& in) {
  ECLUSE_TRY(staged, in.r.stage_bundle(in.bundle));
  repo::Oid tip;
  for (const auto& ref : staged->refs()) {
    tip = ref.name == k_main_ref ? ref.target : tip;
  }
  if (tip.empty()) {
    return fail(reason::k_repo_bad_bundle, "the bundle has no refs/heads/main", in.bundle.string());
  }
  ECLUSE_TRY(tags, check_index(in, *staged, tip));
  ECLUSE_TRY(
      report,
      verify_channel(staged->view(), {in.trusted_root, in.now, std::nullopt, "main", tip, tags}));
  if (!report.ok()) {
    const auto& p = report.problems.front();
    return tl::unexpected(Error{
        Errc::rejected, p.reason, "the imported channel does not verify: " + p.message, p.item});
  }
  ECLUSE_TRY(old, in.r.branch(std::string(k_branch)));
  ECLUSE_CHECK(check_applicable(in, staged->view(), old, tip, tags));
  ECLUSE_CHECK(staged->apply());
  if (!old || *old != tip) {
    ECLUSE_CHECK(in.r.update_branch(std::string(k_branch), old, tip, "ecluse import"));
  }
  for (const auto& [name, id] : tags) {
    ECLUSE_CHECK(in.r.create_tag_ref(name, id));
  }
  return ImportResult{in.channel, old, tip, tags.size(), std::move(report)};
}

}  // namespace

// Bundles and indexes come from the other side of the air gap: a JSON field of the wrong type
// is a malformed index, never an exception.
Result<std::string> index_channel(const std::filesystem::path& bundle) {
  try {
    return index_channel_impl(bundle);
  } catch (const json::Json::exception& e) {
    return fail(reason::k_transfer_bad_index, std::string("malformed export index: ") + e.what());
  }
}

Result<ImportResult> import_bundle(const repo::Repository& r,
                                   const std::filesystem::path& bundle,
                                   const std::string& channel,
                                   const std::string& trusted_root,
                                   TimePoint now) {
  try {
    return import_impl({r, bundle, channel, trusted_root, now});
  } catch (const json::Json::exception& e) {
    return fail(reason::k_transfer_bad_index, std::string("malformed export index: ") + e.what());
  }
}

}  // namespace ecluse::promote
