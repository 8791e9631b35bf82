// The trust store on disk: material files named by fingerprint, and vendor.json listing them,
// written last (the commit point) under the trust lock.
#include <ecluse/core/fs.hpp>
#include <ecluse/intake/drop_manifest.hpp>
#include <ecluse/trust/trust_store.hpp>

#include <algorithm>
#include <set>

namespace ecluse::trust {

namespace stdfs = std::filesystem;

namespace {

constexpr std::string_view k_schema = "ecluse.trust/v1";
constexpr std::uint64_t k_max_file = 1U << 20U;

struct Listing {
  Kind kind = Kind::x509;
  std::vector<std::string> roots, intermediates, crls;
  std::string raw_key;
  std::string updated_at;
};

tl::unexpected<Error> broken(const stdfs::path& p, const std::string& why) {
  return fail(reason::k_trust_broken, "trust store: " + p.string() + ": " + why, p.string());
}

tl::unexpected<Error> bad(const std::string& item, const std::string& why) {
  return fail(reason::k_trust_bad_material, item + ": " + why, item);
}

Status check_vendor_name(const std::string& vendor) {
  if (!intake::is_plain_name(vendor)) {
    return fail(reason::k_usage,
                "vendor '" + vendor + "' is not a plain name ([A-Za-z0-9][A-Za-z0-9._-]{0,63})",
                vendor);
  }
  return {};
}

Result<std::vector<std::string>> string_list(const json::Json& j,
                                             const char* key,
                                             const stdfs::path& p) {
  if (!j.contains(key) || !j.at(key).is_array()) {
    return broken(p, std::string("'") + key + "' is missing or not an array");
  }
  std::vector<std::string> out;
  for (const auto& v : j.at(key)) {
    if (!v.is_string() || !crypto::Digest::from_hex(v.get<std::string>())) {
      return broken(p, std::string("'") + key + "' holds something other than a fingerprint");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<Listing> parse_listing(const std::string& text,
                              const std::string& vendor,
                              const stdfs::path& p) {
  auto parsed = json::parse_strict(text);
  const auto& j = parsed.value;
  if (parsed.failure != json::ParseFailure::none || !j.is_object() || !j.contains("schema")
      || j.at("schema") != k_schema || !j.contains("vendor") || j.at("vendor") != vendor
      || !j.contains("kind") || !j.at("kind").is_string()) {
    return broken(p, "not an " + std::string(k_schema) + " document for vendor " + vendor);
  }
  Listing l;
  const auto kind = j.at("kind").get<std::string>();
  if (kind != "x509" && kind != "raw-key") {
    return broken(p, "unknown kind '" + kind + "'");
  }
  l.kind = kind == "x509" ? Kind::x509 : Kind::raw_key;
  ECLUSE_TRY(roots, string_list(j, "roots", p));
  ECLUSE_TRY(intermediates, string_list(j, "intermediates", p));
  ECLUSE_TRY(crls, string_list(j, "crls", p));
  l.roots = std::move(roots);
  l.intermediates = std::move(intermediates);
  l.crls = std::move(crls);
  if (j.contains("raw_key") && j.at("raw_key").is_string()) {
    l.raw_key = j.at("raw_key").get<std::string>();
  }
  if (j.contains("updated_at") && j.at("updated_at").is_string()) {
    l.updated_at = j.at("updated_at").get<std::string>();
  }
  if ((l.kind == Kind::raw_key) == l.raw_key.empty()) {
    return broken(p, "raw_key does not match kind");
  }
  return l;
}

json::Json listing_json(const std::string& vendor, const Listing& l) {
  return {{"schema", k_schema},
          {"vendor", vendor},
          {"kind", to_string(l.kind)},
          {"roots", l.roots},
          {"intermediates", l.intermediates},
          {"crls", l.crls},
          {"raw_key", l.raw_key.empty() ? json::Json(nullptr) : json::Json(l.raw_key)},
          {"updated_at", l.updated_at}};
}

Result<std::string> read_material(const stdfs::path& p) {
  auto bytes = fs::read_file_bounded(p, k_max_file, reason::k_trust_broken, reason::k_trust_broken);
  if (!bytes) {
    return broken(p, bytes.error().message);
  }
  return bytes;
}

Result<crypto::Certificate> load_cert(const stdfs::path& dir, const std::string& fp) {
  const auto p = dir / (fp + ".pem");
  ECLUSE_TRY(bytes, read_material(p));
  auto certs = crypto::parse_certificates(bytes, reason::k_trust_broken, p.string());
  if (!certs || certs->size() != 1 || certs->front().info().sha256 != fp) {
    return broken(p, "is not the one certificate with fingerprint " + fp);
  }
  return std::move(certs->front());
}

Result<crypto::Crl> load_crl(const stdfs::path& dir, const std::string& fp) {
  const auto p = dir / (fp + ".pem");
  ECLUSE_TRY(bytes, read_material(p));
  auto crl = crypto::parse_crl(bytes, reason::k_trust_broken, p.string());
  if (!crl || crl->info().sha256 != fp) {
    return broken(p, "is not the CRL with fingerprint " + fp);
  }
  return crl;
}

Result<crypto::PublicKey> load_key(const stdfs::path& dir, const std::string& id) {
  const auto p = dir / (id + ".pem");
  ECLUSE_TRY(bytes, read_material(p));
  auto key = crypto::parse_public_key(bytes, reason::k_trust_broken, p.string());
  if (!key || key->key_id() != id) {
    return broken(p, "is not the public key with id " + id);
  }
  return key;
}

Result<VendorTrust> load_listed(const stdfs::path& dir,
                                const std::string& vendor,
                                const Listing& l) {
  VendorTrust t;
  t.vendor = vendor;
  t.kind = l.kind;
  t.updated_at = l.updated_at;
  t.anchors.vendor = vendor;
  for (const auto& fp : l.roots) {
    ECLUSE_TRY(c, load_cert(dir / "roots", fp));
    t.anchors.roots.push_back(std::move(c));
  }
  for (const auto& fp : l.intermediates) {
    ECLUSE_TRY(c, load_cert(dir / "intermediates", fp));
    t.anchors.intermediates.push_back(std::move(c));
  }
  for (const auto& fp : l.crls) {
    ECLUSE_TRY(c, load_crl(dir / "crls", fp));
    t.anchors.crls.push_back(std::move(c));
  }
  if (!l.raw_key.empty()) {
    ECLUSE_TRY(k, load_key(dir / "raw-key", l.raw_key));
    t.raw_key = std::move(k);
  }
  return t;
}

// vendor.json of vendor, or nullopt when the vendor is not pinned.
Result<std::optional<Listing>> read_listing(const stdfs::path& vdir, const std::string& vendor) {
  const auto p = vdir / "vendor.json";
  std::error_code ec;
  (void)stdfs::symlink_status(p, ec);
  if (ec == std::errc::no_such_file_or_directory) {
    return std::optional<Listing>{};  // not pinned (a missing vendor directory too)
  }
  if (ec) {
    return broken(p, ec.message());  // unreadable is our fault, never "unknown vendor"
  }
  ECLUSE_TRY(text, read_material(p));
  ECLUSE_TRY(l, parse_listing(text, vendor, p));
  return std::optional<Listing>{std::move(l)};
}

Status write_listing(const stdfs::path& vdir, const std::string& vendor, const Listing& l) {
  return fs::write_file_atomic(vdir / "vendor.json",
                               json::dump_pretty(listing_json(vendor, l)) + "\n",
                               reason::k_workspace_io);
}

Status write_pem(const stdfs::path& dir, const std::string& fp, const std::string& pem) {
  ECLUSE_CHECK(fs::make_dirs(dir, reason::k_workspace_io));
  return fs::write_file_atomic(dir / (fp + ".pem"), pem, reason::k_workspace_io);
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Parsed additions, checked one by one.
struct Parsed {
  std::vector<crypto::Certificate> roots, intermediates;
  std::vector<crypto::Crl> crls;
};

Status check_ca(const crypto::Certificate& c,
                const std::string& item,
                bool root,
                const crypto::AlgorithmPolicy& policy) {
  if (!c.info().is_ca) {
    return bad(item,
               "'" + c.info().subject + "' is not a CA certificate (basicConstraints CA:TRUE)");
  }
  if (root && !c.info().self_signed) {
    return bad(
        item,
        "'" + c.info().subject
            + "' is not self-signed: pin its root with --root and add it with --intermediate");
  }
  if (auto why = crypto::key_refusal(c.info().key, policy)) {
    return bad(item, "'" + c.info().subject + "': " + *why);
  }
  return {};
}

Status check_cas(const std::vector<crypto::Certificate>& certs,
                 const std::string& item,
                 bool roots,
                 const crypto::AlgorithmPolicy& policy) {
  for (const auto& c : certs) {
    ECLUSE_CHECK(check_ca(c, item, roots, policy));
  }
  return {};
}

// Every certificate of every file, each a CA (a self-signed one for roots) the policy allows.
Result<std::vector<crypto::Certificate>> parse_cas(const std::vector<Material>& files,
                                                   bool roots,
                                                   const crypto::AlgorithmPolicy& policy) {
  std::vector<crypto::Certificate> out;
  for (const auto& m : files) {
    ECLUSE_TRY(certs, crypto::parse_certificates(m.bytes, reason::k_trust_bad_material, m.name));
    ECLUSE_CHECK(check_cas(certs, m.name, roots, policy));
    std::move(certs.begin(), certs.end(), std::back_inserter(out));
  }
  return out;
}

Result<std::vector<crypto::Crl>> parse_crls(const std::vector<Material>& files,
                                            const crypto::AlgorithmPolicy& policy) {
  std::vector<crypto::Crl> out;
  for (const auto& m : files) {
    ECLUSE_TRY(crl, crypto::parse_crl(m.bytes, reason::k_trust_bad_material, m.name));
    const auto& digest = crl.info().signature_digest;
    if (!digest.empty() && !crypto::digest_allowed(digest, policy)) {
      return bad(m.name, "CRL is signed with " + digest + ", which the policy refuses");
    }
    out.push_back(std::move(crl));
  }
  return out;
}

Result<Parsed> parse_additions(const X509Additions& add, const crypto::AlgorithmPolicy& policy) {
  ECLUSE_TRY(roots, parse_cas(add.roots, true, policy));
  ECLUSE_TRY(intermediates, parse_cas(add.intermediates, false, policy));
  ECLUSE_TRY(crls, parse_crls(add.crls, policy));
  return Parsed{std::move(roots), std::move(intermediates), std::move(crls)};
}

// The CA among `cas` that issued crl, or nullptr.
const crypto::Certificate* crl_issuer(const crypto::Crl& crl,
                                      const std::vector<const crypto::Certificate*>& cas) {
  for (const auto* ca : cas) {
    if (crypto::crl_issued_by(crl, *ca)) {
      return ca;
    }
  }
  return nullptr;
}

struct Change {
  stdfs::path vdir;  // trust/VENDOR
  Listing listing;
  json::Json summary;
  std::vector<std::pair<stdfs::path, std::string>> files;  // (dir, fingerprint) → pem below
  std::vector<std::string> pems;
};

void add_cert(Change& ch,
              std::vector<std::string>& list,
              const crypto::Certificate& c,
              const char* what) {
  if (contains(list, c.info().sha256)) {
    return;
  }
  list.push_back(c.info().sha256);
  ch.files.emplace_back(ch.vdir / what, c.info().sha256);
  ch.pems.push_back(c.pem());
  ch.summary["added"][what].push_back(c.info().sha256);
}

void erase_value(std::vector<std::string>& list, const std::string& v) {
  list.erase(std::remove(list.begin(), list.end(), v), list.end());
}

// Drops `old` from the change: from the listing and, when it was added in this request, from
// the summary's additions.
void replace_crl(Change& ch, const crypto::Crl& old) {
  const auto& fp = old.info().sha256;
  erase_value(ch.listing.crls, fp);
  ch.summary["replaced_crls"].push_back(fp);
  auto& added = ch.summary["added"]["crls"];
  for (auto a = added.begin(); a != added.end(); ++a) {
    if (*a == fp) {
      added.erase(a);
      return;
    }
  }
}

// A new CRL replaces the pinned CRL of the same issuer (on disk, or added earlier in the same
// request) when it is newer; an older or equally old one is refused.
Status add_crl(Change& ch,
               std::vector<const crypto::Crl*>& pinned,
               const crypto::Crl& crl,
               const crypto::Certificate& issuer,
               const std::string& item) {
  if (contains(ch.listing.crls, crl.info().sha256)) {
    return {};
  }
  for (auto it = pinned.begin(); it != pinned.end();) {
    if (!crypto::crl_issued_by(**it, issuer)) {
      ++it;
      continue;
    }
    if ((*it)->info().this_update >= crl.info().this_update) {
      return bad(item, "is not newer than the pinned CRL of '" + issuer.info().subject + "'");
    }
    replace_crl(ch, **it);
    it = pinned.erase(it);
  }
  pinned.push_back(&crl);
  ch.listing.crls.push_back(crl.info().sha256);
  ch.files.emplace_back(ch.vdir / "crls", crl.info().sha256);
  ch.pems.push_back(crl.pem());
  ch.summary["added"]["crls"].push_back(crl.info().sha256);
  return {};
}

// Every CA the vendor will have: pinned now, or added by this request.
std::vector<const crypto::Certificate*> all_cas(const VendorTrust& current, const Parsed& parsed) {
  std::vector<const crypto::Certificate*> cas;
  for (const auto* list : {&current.anchors.roots,
                           &current.anchors.intermediates,
                           &parsed.roots,
                           &parsed.intermediates}) {
    for (const auto& c : *list) {
      cas.push_back(&c);
    }
  }
  return cas;
}

// The change that pins `parsed` on top of `current` (ch holds the current listing).
Result<Change> x509_change(Change ch,
                           const VendorTrust& current,
                           const Parsed& parsed,
                           const X509Additions& add) {
  ch.summary["added"] = {{"roots", json::Json::array()},
                         {"intermediates", json::Json::array()},
                         {"crls", json::Json::array()}};
  ch.summary["replaced_crls"] = json::Json::array();
  for (const auto& c : parsed.roots) {
    add_cert(ch, ch.listing.roots, c, "roots");
  }
  for (const auto& c : parsed.intermediates) {
    add_cert(ch, ch.listing.intermediates, c, "intermediates");
  }
  const auto cas = all_cas(current, parsed);
  std::vector<const crypto::Crl*> pinned;
  for (const auto& c : current.anchors.crls) {
    pinned.push_back(&c);
  }
  for (std::size_t i = 0; i < parsed.crls.size(); ++i) {
    const auto* issuer = crl_issuer(parsed.crls[i], cas);
    if (issuer == nullptr) {
      return bad(add.crls[i].name,
                 "CRL of '" + parsed.crls[i].info().issuer
                     + "' is not signed by any of the vendor's roots or intermediates");
    }
    ECLUSE_CHECK(add_crl(ch, pinned, parsed.crls[i], *issuer, add.crls[i].name));
  }
  ch.listing.kind = Kind::x509;
  return ch;
}

Status apply(const stdfs::path& vdir, const std::string& vendor, const Change& ch) {
  for (std::size_t i = 0; i < ch.files.size(); ++i) {
    ECLUSE_CHECK(write_pem(ch.files[i].first, ch.files[i].second, ch.pems[i]));
  }
  return write_listing(vdir, vendor, ch.listing);
}

}  // namespace

std::string_view to_string(Kind k) {
  return k == Kind::x509 ? "x509" : "raw-key";
}

json::Json VendorTrust::to_json() const {
  json::Json j{{"vendor", vendor}, {"kind", trust::to_string(kind)}, {"updated_at", updated_at}};
  auto certs = [](const std::vector<crypto::Certificate>& v) {
    auto a = json::Json::array();
    for (const auto& c : v) {
      a.push_back(crypto::to_json(c.info()));
    }
    return a;
  };
  j["roots"] = certs(anchors.roots);
  j["intermediates"] = certs(anchors.intermediates);
  j["crls"] = json::Json::array();
  for (const auto& c : anchors.crls) {
    j["crls"].push_back(crypto::to_json(c.info()));
  }
  j["raw_key"] =
      raw_key ? json::Json{{"key_id", raw_key->key_id()}, {"key", crypto::to_json(raw_key->info())}}
              : json::Json(nullptr);
  return j;
}

TrustStore::TrustStore(const workspace::Workspace& ws) : m_ws(&ws) {}

Result<std::optional<VendorTrust>> TrustStore::load(const std::string& vendor) const {
  if (!intake::is_plain_name(vendor)) {
    return std::optional<VendorTrust>{};
  }
  const auto vdir = m_ws->trust_dir() / vendor;
  ECLUSE_TRY(listing, read_listing(vdir, vendor));
  if (!listing) {
    return std::optional<VendorTrust>{};
  }
  ECLUSE_TRY(t, load_listed(vdir, vendor, *listing));
  return std::optional<VendorTrust>{std::move(t)};
}

Result<std::vector<VendorTrust>> TrustStore::list() const {
  std::vector<VendorTrust> out;
  std::error_code ec;
  std::set<std::string> names;
  for (stdfs::directory_iterator it(m_ws->trust_dir(), ec), end; !ec && it != end;
       it.increment(ec)) {
    names.insert(it->path().filename().string());
  }
  for (const auto& name : names) {
    ECLUSE_TRY(t, load(name));
    if (t) {
      out.push_back(std::move(*t));
    }
  }
  return out;
}

Result<json::Json> TrustStore::add_x509(const std::string& vendor,
                                        const X509Additions& add,
                                        TimePoint now) {
  ECLUSE_CHECK(check_vendor_name(vendor));
  ECLUSE_TRY(lock, fs::lock_exclusive(m_ws->locks_dir() / "trust.lock", reason::k_workspace_io));
  ECLUSE_TRY(parsed, parse_additions(add, m_ws->config().signature_policy));
  const auto vdir = m_ws->trust_dir() / vendor;
  ECLUSE_TRY(current_opt, load(vendor));
  VendorTrust current;
  if (current_opt) {
    current = std::move(*current_opt);
  }
  if (current_opt && current.kind != Kind::x509) {
    return fail(reason::k_trust_vendor_conflict,
                "vendor '" + vendor + "' is pinned with a raw key; remove it first",
                vendor);
  }
  if (current.anchors.roots.empty() && parsed.roots.empty()) {
    return fail(reason::k_usage, "vendor '" + vendor + "' has no root yet: give --root", vendor);
  }
  ECLUSE_TRY(listing, read_listing(vdir, vendor));
  ECLUSE_TRY(
      ch,
      x509_change(
          Change{vdir, listing.value_or(Listing{}), {{"vendor", vendor}, {"kind", "x509"}}, {}, {}},
          current,
          parsed,
          add));
  ch.listing.updated_at = format_utc(now);
  ECLUSE_CHECK(apply(vdir, vendor, ch));
  return ch.summary;
}

Result<json::Json> TrustStore::add_raw_key(const std::string& vendor,
                                           const Material& key,
                                           TimePoint now) {
  ECLUSE_CHECK(check_vendor_name(vendor));
  ECLUSE_TRY(lock, fs::lock_exclusive(m_ws->locks_dir() / "trust.lock", reason::k_workspace_io));
  ECLUSE_TRY(pub, crypto::parse_public_key(key.bytes, reason::k_trust_bad_material, key.name));
  const auto& info = pub.info();
  if (info.type != "Ed25519" && !(info.type == "EC" && info.curve == "P-256")) {
    return bad(
        key.name,
        "a raw vendor key must be Ed25519 or ECDSA P-256, not " + info.type + " " + info.curve);
  }
  if (auto why = crypto::key_refusal(info, m_ws->config().signature_policy)) {
    return bad(key.name, *why);
  }
  const auto vdir = m_ws->trust_dir() / vendor;
  ECLUSE_TRY(listing, read_listing(vdir, vendor));
  if (listing && (listing->kind != Kind::raw_key || listing->raw_key != pub.key_id())) {
    return fail(reason::k_trust_vendor_conflict,
                "vendor '" + vendor + "' is already pinned ("
                    + std::string(to_string(listing->kind)) + "); remove it first",
                vendor);
  }
  Change ch{vdir,
            Listing{Kind::raw_key, {}, {}, {}, pub.key_id(), format_utc(now)},
            {{"vendor", vendor}, {"kind", "raw-key"}, {"key_id", pub.key_id()}},
            {{vdir / "raw-key", pub.key_id()}},
            {pub.pem()}};
  ECLUSE_CHECK(apply(vdir, vendor, ch));
  return ch.summary;
}

Result<json::Json> TrustStore::remove(const std::string& vendor,
                                      const std::string& fingerprint,
                                      TimePoint now) {
  ECLUSE_CHECK(check_vendor_name(vendor));
  ECLUSE_TRY(lock, fs::lock_exclusive(m_ws->locks_dir() / "trust.lock", reason::k_workspace_io));
  const auto vdir = m_ws->trust_dir() / vendor;
  ECLUSE_TRY(listing, read_listing(vdir, vendor));
  if (!listing) {
    return fail(
        reason::k_trust_unknown_vendor, "no trust is pinned for vendor '" + vendor + "'", vendor);
  }
  json::Json summary{{"vendor", vendor}, {"removed", fingerprint.empty() ? "vendor" : fingerprint}};
  auto& l = *listing;
  bool found = fingerprint.empty() || l.raw_key == fingerprint;
  for (auto* list : {&l.roots, &l.intermediates, &l.crls}) {
    const auto before = list->size();
    list->erase(std::remove(list->begin(), list->end(), fingerprint), list->end());
    found = found || list->size() != before;
  }
  if (!found) {
    return fail(reason::k_trust_unknown_vendor,
                "vendor '" + vendor + "' has no pinned item with fingerprint " + fingerprint,
                fingerprint);
  }
  const bool whole =
      fingerprint.empty() || l.raw_key == fingerprint || (l.kind == Kind::x509 && l.roots.empty());
  if (!whole) {
    l.updated_at = format_utc(now);
    ECLUSE_CHECK(write_listing(vdir, vendor, l));
    return summary;
  }
  // vendor.json goes first: without it the vendor is not pinned, whatever files remain.
  std::error_code ec;
  if (!stdfs::remove(vdir / "vendor.json", ec) || ec) {
    return fail(reason::k_workspace_io, "cannot remove " + (vdir / "vendor.json").string(), vendor);
  }
  (void)fs::fsync_dir(vdir, reason::k_workspace_io);
  stdfs::remove_all(vdir, ec);
  summary["removed"] = "vendor";
  return summary;
}

}  // namespace ecluse::trust
