// The diff analysis: the tree diff, then classification and endpoint scans of the changed
// content only (unchanged files carry their endpoints over from the baseline's index).
#include "analyse.hpp"

#include <ecluse/diff/classify.hpp>

#include <set>

namespace ecluse::diff::detail {

namespace {

using unpack::Entry;
using unpack::EntryType;

// A file larger than this is scanned for endpoints in its first k_max_scan_bytes only.
constexpr std::uint64_t k_max_scan_bytes = 256ULL << 20U;

bool is_content(const Entry* e) {
  return e != nullptr && e->type == EntryType::file;
}

bool exec_bits(const Entry* e) {
  return e != nullptr && (e->mode & 0111U) != 0;
}

struct Work {
  const Context& ctx;
  const store::DropRecord& drop;
  std::map<std::string, Classification> classes;  // by digest
  std::uint64_t classified = 0;
  std::uint64_t scanned_files = 0;
  std::uint64_t scanned_bytes = 0;
  std::vector<std::string> truncated;
  std::vector<store::Finding> findings;

  Result<Classification> classify_entry(const Entry& e, bool from_baseline) {
    const auto key = e.sha256.hex();
    if (auto it = classes.find(key); it != classes.end()) {
      return it->second;
    }
    auto src = FileSource::open(ctx.objects.object_path(e.sha256));
    auto c = src ? classify(**src, e.format) : tl::unexpected<Error>(src.error());
    if (!c) {
      return from_baseline ? fail(reason::k_diff_baseline_unreadable,
                                  "baseline object " + key + ": " + c.error().to_string(),
                                  key)
                           : fail(c.error());
    }
    ++classified;
    return classes.emplace(key, *c).first->second;
  }

  Result<std::vector<Endpoint>> scan(const Entry& e, const std::string& path) {
    if (!e.format.empty()) {
      return std::vector<Endpoint>{};  // an archive: its entries are scanned one by one
    }
    ECLUSE_TRY(src, FileSource::open(ctx.objects.object_path(e.sha256)));
    if (src->size() > k_max_scan_bytes) {
      truncated.push_back(path);
    }
    ++scanned_files;
    scanned_bytes += std::min(src->size(), k_max_scan_bytes);
    return scan_endpoints(*src, k_max_scan_bytes);
  }

  void add(const Reason& r, std::string severity, std::string item, std::string detail) {
    findings.push_back(store::Finding{
        "diff", std::string(r.code), std::move(severity), std::move(item), std::move(detail)});
  }
};

std::string describe(const Classification& c) {
  std::string s = c.detail.empty() ? std::string(to_string(c.kind)) : c.detail;
  if (!c.arch.empty() && s.find(c.arch) == std::string::npos) {
    s += ", " + c.arch;
  }
  if (!c.interpreter.empty()) {
    s += ", interpreter " + c.interpreter;
  }
  return s;
}

// Endpoints of every file of a tree: carried from `known` by digest, scanned otherwise.
Result<EndpointIndex> index_tree(Work& w, const unpack::Tree& tree, const EndpointIndex* known) {
  EndpointIndex out;
  for (const auto& f : flatten(tree)) {
    if (!f.leaf || f.entry->type != EntryType::file) {
      continue;
    }
    const auto key = f.entry->sha256.hex();
    if (out.contains(key)) {
      continue;
    }
    if (known != nullptr) {
      if (auto it = known->find(key); it != known->end()) {
        out.emplace(key, it->second);
        continue;
      }
    }
    ECLUSE_TRY(found, w.scan(*f.entry, f.path));
    out.emplace(key, std::move(found));
  }
  return out;
}

Status judge_executable(Work& w, const Change& c, json::Json& j) {
  if (is_content(c.after) && !c.leaf) {  // an unpacked archive: its entries are judged
    j["class"] = {{"kind", "archive"}, {"format", c.after->format}};
    return {};
  }
  if (!is_content(c.after)) {
    return {};
  }
  ECLUSE_TRY(now, w.classify_entry(*c.after, false));
  j["class"] = to_json(now);
  const bool was_file = is_content(c.before);
  std::optional<Classification> before;
  if (was_file && c.kind != ChangeKind::renamed) {
    ECLUSE_TRY(b, w.classify_entry(*c.before, true));
    before = b;
  }
  if (now.kind == FileKind::pe && now.authenticode == false
      && (c.kind == ChangeKind::added || c.kind == ChangeKind::modified)) {
    w.add(reason::k_diff_pe_unsigned, "low", c.path, describe(now) + " without Authenticode");
  }
  if (!now.executable() || c.kind == ChangeKind::renamed || c.kind == ChangeKind::mode) {
    return {};
  }
  if (before && before->executable()) {
    w.add(reason::k_diff_executable_modified, "low", c.path, describe(now));
  } else {
    w.add(reason::k_diff_new_executable, "medium", c.path, describe(now));
  }
  return {};
}

void judge_shape(Work& w, const Change& c) {
  if (c.kind == ChangeKind::type) {
    w.add(reason::k_diff_type_changed,
          "low",
          c.path,
          std::string(unpack::to_string(c.before->type)) + " became "
              + std::string(unpack::to_string(c.after->type)));
  }
  if (c.kind == ChangeKind::target) {
    w.add(
        reason::k_diff_link_retargeted, "low", c.path, c.before->target + " -> " + c.after->target);
  }
  if (is_content(c.before) && is_content(c.after) && !exec_bits(c.before) && exec_bits(c.after)) {
    w.add(reason::k_diff_became_executable,
          "medium",
          c.path,
          "mode " + unpack::mode_string(c.before->mode) + " -> "
              + unpack::mode_string(c.after->mode));
  }
}

std::set<std::string> endpoint_values(const EndpointIndex& index) {
  std::set<std::string> out;
  for (const auto& [digest, list] : index) {
    for (const auto& e : list) {
      out.insert(e.value);
    }
  }
  return out;
}

// New endpoints of the changed files: every occurrence in the document, one finding per value.
json::Json judge_endpoints(Work& w,
                           const TreeDiff& d,
                           const EndpointIndex& index,
                           const std::set<std::string>& known) {
  auto out = json::Json::array();
  std::map<std::string, std::pair<const Change*, const Endpoint*>> first;
  std::map<std::string, std::uint64_t> files;
  for (const auto& c : d.changes) {
    if (!c.leaf || !is_content(c.after) || c.kind == ChangeKind::renamed) {
      continue;
    }
    auto it = index.find(c.after->sha256.hex());
    if (it == index.end()) {
      continue;
    }
    for (const auto& e : it->second) {
      if (known.contains(e.value)) {
        continue;
      }
      const bool allowed = host_allowed(e.host, w.ctx.endpoint_allow);
      out.push_back({{"file", c.path},
                     {"offset", e.offset},
                     {"endpoint", e.value},
                     {"kind", to_string(e.kind)},
                     {"host", e.host},
                     {"allowed", allowed}});
      if (!allowed) {
        first.try_emplace(e.value, &c, &e);
        ++files[e.value];
      }
    }
  }
  for (const auto& [value, at] : first) {
    const auto more = files[value] - 1;
    w.add(reason::k_diff_new_endpoint,
          "medium",
          at.first->path,
          "offset " + std::to_string(at.second->offset) + ": " + value
              + (more > 0 ? " (and " + std::to_string(more) + " more files)" : ""));
  }
  return out;
}

json::Json drop_json(const store::DropRecord& d) {
  return {{"id", d.id},
          {"vendor", d.vendor},
          {"product", d.product},
          {"version", d.version},
          {"channel", d.channel}};
}

}  // namespace

Result<Analysis> analyse(const Context& ctx,
                         const store::DropRecord& drop,
                         const unpack::Tree& tree,
                         const std::optional<Baseline>& baseline) {
  static const unpack::Tree k_nothing;
  Work w{ctx, drop, {}, 0, 0, 0, {}, {}};
  const auto d = compare_trees(baseline ? baseline->tree : k_nothing, tree);
  if (!baseline) {
    w.add(reason::k_diff_first_release,
          "info",
          drop.product,
          "no earlier accepted release of " + drop.vendor + "/" + drop.product + " in channel "
              + drop.channel + ": every entry is new");
  }
  EndpointIndex base_index;
  if (baseline) {
    if (baseline->endpoints) {
      base_index = *baseline->endpoints;
    } else {
      ECLUSE_TRY(scanned, index_tree(w, baseline->tree, nullptr));
      base_index = std::move(scanned);
    }
  }
  ECLUSE_TRY(index, index_tree(w, tree, baseline ? &base_index : nullptr));
  auto changes = json::Json::array();
  for (const auto& c : d.changes) {
    auto j = to_json(c);
    ECLUSE_CHECK(judge_executable(w, c, j));
    judge_shape(w, c);
    changes.push_back(std::move(j));
  }
  auto endpoints = judge_endpoints(w, d, index, endpoint_values(base_index));
  json::Json doc{{"schema", "ecluse.diff/v1"},
                 {"drop", drop_json(drop)},
                 {"baseline", nullptr},
                 {"summary", to_json(d.summary)},
                 {"changes", std::move(changes)},
                 {"endpoints", std::move(endpoints)},
                 {"by_folder", to_json(d.by_folder)}};
  if (baseline) {
    doc["baseline"] = {{"id", baseline->drop.id},
                       {"version", baseline->drop.version},
                       {"source", baseline->source}};
  }
  json::Json stats{{"classified", w.classified},
                   {"scanned_files", w.scanned_files},
                   {"scanned_bytes", w.scanned_bytes},
                   {"scan_truncated", w.truncated}};
  return Analysis{std::move(doc), std::move(index), std::move(w.findings), std::move(stats)};
}

}  // namespace ecluse::diff::detail
