// Finding drops and reading drop.json exactly once.
#include <ecluse/core/fs.hpp>
#include <ecluse/intake/intake.hpp>

#include <sys/stat.h>

#include <algorithm>

namespace ecluse::intake {

namespace {

// Best-effort names for a rejection record: only well-formed names and versions are kept,
// so a hostile drop.json cannot put arbitrary text into the state store's name columns.
void read_names(const std::string& bytes, DropIdentity& who) {
  const auto parsed = json::parse_strict(bytes);
  if (!parsed.value.is_object()) {
    return;
  }
  const auto take = [&](const char* key, std::string& out) {
    const auto* v = parsed.value.contains(key) ? &parsed.value.at(key) : nullptr;
    if (v == nullptr || !v->is_string()) {
      return;
    }
    const auto& text = v->get_ref<const std::string&>();
    if (std::string_view(key) == "version" ? Version::parse(text).has_value()
                                           : is_plain_name(text)) {
      out = text;
    }
  };
  take("vendor", who.vendor);
  take("product", who.product);
  take("version", who.version);
  take("channel", who.channel);
}

}  // namespace

DropCandidate open_drop(const stdfs::path& dir, const workspace::Limits& limits) {
  DropCandidate c;
  std::error_code ec;
  const auto abs = stdfs::absolute(dir, ec);
  c.who.source = (ec ? dir : abs.lexically_normal()).string();
  const auto no_json_id = [&] {
    auto d = crypto::sha256("no-drop.json:" + c.who.source);
    return d ? d->hex() : std::string(64, '0');
  };

  struct stat st {};

  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    c.who.id = no_json_id();
    c.why = Error::from(reason::k_intake_unreadable,
                        "drop directory '" + c.who.source + "' is missing or not a directory",
                        c.who.source);
    return c;
  }
  const auto path = dir / "drop.json";
  if (::lstat(path.c_str(), &st) != 0) {
    c.who.id = no_json_id();
    c.why = Error::from(reason::k_intake_missing_drop_json,
                        "drop '" + c.who.source + "' has no drop.json",
                        "drop.json");
    return c;
  }
  if (!S_ISREG(st.st_mode)) {
    c.who.id = no_json_id();
    c.why =
        Error::from(reason::k_intake_not_regular, "drop.json is not a regular file", "drop.json");
    return c;
  }
  auto bytes = fs::read_file_bounded(
      path, limits.max_drop_json_bytes, reason::k_intake_io, reason::k_drop_too_large);
  if (!bytes) {
    c.who.id = no_json_id();
    c.why = bytes.error();
    return c;
  }
  auto digest = crypto::sha256(*bytes);
  if (!digest) {
    c.who.id = no_json_id();
    c.why = digest.error();
    return c;
  }
  c.who.id = digest->hex();
  read_names(*bytes, c.who);
  c.drop_json = std::move(*bytes);
  return c;
}

std::vector<stdfs::path> ready_drops(const stdfs::path& dir) {
  std::vector<stdfs::path> out;
  std::error_code ec;
  for (stdfs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_directory(ec2) && !it->is_symlink(ec2) && stdfs::exists(it->path() / "READY", ec2)) {
      out.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ecluse::intake
