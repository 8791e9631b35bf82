// Signed commits and annotated tags: written from the exact bytes the SignFn signed, read back
// split into those bytes and the signature (as git's parse_signed_buffer splits them).
#include <ecluse/core/printable.hpp>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "internal.hpp"

namespace ecluse::repo {

namespace {

// The lines that start a signature in a tag (gpg-interface.c, sigtypes).
constexpr std::array<std::string_view, 4> k_signature_starts{"-----BEGIN PGP SIGNATURE-----",
                                                             "-----BEGIN PGP MESSAGE-----",
                                                             "-----BEGIN SIGNED MESSAGE-----",
                                                             "-----BEGIN SSH SIGNATURE-----"};

Status check_text(std::string_view text, const std::string& what) {
  if (text.find('\0') != std::string_view::npos) {
    return fail(reason::k_internal, what + " holds a NUL byte");
  }
  return {};
}

Result<GitSignature> make_signature(const Identity& who) {
  for (const auto* field : {&who.name, &who.email}) {
    for (const char c : *field) {
      if (static_cast<unsigned char>(c) < 0x20U || c == '<' || c == '>') {
        return fail(reason::k_internal, "identity '" + printable(*field) + "' is malformed");
      }
    }
  }
  git_signature* raw = nullptr;
  if (git_signature_new(&raw, who.name.c_str(), who.email.c_str(), who.time, 0) != 0) {
    return git_fail(reason::k_internal, "identity '" + printable(who.name) + "'");
  }
  return GitSignature(raw);
}

// The armored signature as a header value: no trailing newline (libgit2 would add a line).
Result<std::string> signature_value(const SignFn& sign, std::string_view payload) {
  ECLUSE_TRY(armored, sign(payload));
  ECLUSE_CHECK(check_text(armored, "the signature"));
  while (!armored.empty() && armored.back() == '\n') {
    armored.pop_back();
  }
  if (armored.empty()) {
    return fail(reason::k_internal, "the signer returned an empty signature");
  }
  return armored;
}

// Where the signature of a signed tag starts: the last line that starts one (git's rule).
std::size_t signature_start(std::string_view object) {
  std::size_t match = object.size();
  std::size_t line = 0;
  while (line < object.size()) {
    for (const auto start : k_signature_starts) {
      if (object.substr(line).starts_with(start)) {
        match = line;
      }
    }
    const auto eol = object.find('\n', line);
    line = eol == std::string_view::npos ? object.size() : eol + 1;
  }
  return match;
}

Result<std::string> read_raw(const RepoState& s, const git_oid& id) {
  git_odb_object* raw = nullptr;
  if (const int rc = git_odb_read(&raw, s.odb.get(), &id); rc != 0) {
    return lookup_fail(rc, "reading object " + to_hex(id));
  }
  const GitOdbObject obj(raw);
  return std::string(static_cast<const char*>(git_odb_object_data(raw)), git_odb_object_size(raw));
}

std::string tag_payload(const TagRequest& req, const git_signature& tagger) {
  std::string text = "object " + req.target + "\ntype commit\ntag " + req.name + "\ntagger "
                     + tagger.name + " <" + tagger.email + "> " + std::to_string(req.tagger.time)
                     + " +0000\n\n" + req.message;
  if (!req.message.empty() && req.message.back() != '\n') {
    text += '\n';
  }
  return text;
}

Result<TagInfo> annotated(const RepoState& s, const std::string& name, const git_tag* tag) {
  if (git_tag_target_type(tag) != GIT_OBJECT_COMMIT) {
    return fail(reason::k_repo_not_found, "tag '" + printable(name) + "' does not name a commit");
  }
  ECLUSE_TRY(raw, read_raw(s, *git_tag_id(tag)));
  const auto split = signature_start(raw);
  return TagInfo{.ref_name = name,
                 .id = to_hex(*git_tag_id(tag)),
                 .target = to_hex(*git_tag_target_id(tag)),
                 .tag_name = git_tag_name(tag),
                 .signed_payload = raw.substr(0, split),
                 .signature = raw.substr(split)};
}

}  // namespace

Result<Oid> Repository::create_commit(const CommitRequest& req, const SignFn& sign) const {
  const auto& s = m_impl->s;
  ECLUSE_CHECK(check_writable(s));
  ECLUSE_CHECK(check_text(req.message, "the commit message"));
  ECLUSE_TRY(tree_id, parse_oid(req.tree));
  git_tree* raw_tree = nullptr;
  if (const int rc = git_tree_lookup(&raw_tree, s.repo.get(), &tree_id); rc != 0) {
    return lookup_fail(rc, "looking up tree " + req.tree);
  }
  const GitTree tree(raw_tree);
  std::vector<GitCommit> parents;
  std::vector<const git_commit*> parent_ptrs;
  for (const auto& p : req.parents) {
    ECLUSE_TRY(c, lookup_commit(s, p));
    parent_ptrs.push_back(c.get());
    parents.push_back(std::move(c));
  }
  ECLUSE_TRY(who, make_signature(req.author));
  GitBuf buf;
  if (git_commit_create_buffer(&buf.buf,
                               s.repo.get(),
                               who.get(),
                               who.get(),
                               nullptr,
                               req.message.c_str(),
                               raw_tree,
                               parent_ptrs.size(),
                               parent_ptrs.data())
      != 0) {
    return git_fail(reason::k_repo_io, "formatting a commit");
  }
  ECLUSE_TRY(signature, signature_value(sign, buf.view()));
  git_oid id{};
  if (git_commit_create_with_signature(&id, s.repo.get(), buf.buf.ptr, signature.c_str(), "gpgsig")
      != 0) {
    return git_fail(reason::k_repo_io, "writing a signed commit");
  }
  return to_hex(id);
}

Result<Oid> Repository::create_tag(const TagRequest& req, const SignFn& sign) const {
  const auto& s = m_impl->s;
  ECLUSE_CHECK(check_writable(s));
  ECLUSE_CHECK(check_ref_name("refs/tags/" + req.name));
  ECLUSE_CHECK(check_text(req.message, "the tag message"));
  ECLUSE_TRY(target, lookup_commit(s, req.target));
  ECLUSE_TRY(who, make_signature(req.tagger));
  const auto payload = tag_payload(req, *who);
  ECLUSE_TRY(signature, signature_value(sign, payload));
  const auto object = payload + signature + "\n";
  git_oid id{};
  if (git_odb_write(&id, s.odb.get(), object.data(), object.size(), GIT_OBJECT_TAG) != 0) {
    return git_fail(reason::k_repo_io, "writing tag " + printable(req.name));
  }
  git_tag* parsed = nullptr;
  if (git_tag_lookup(&parsed, s.repo.get(), &id) != 0) {
    return git_fail(reason::k_internal, "reading back tag " + printable(req.name));
  }
  const GitTag owned(parsed);
  return to_hex(id);
}

Result<CommitInfo> Repository::commit(const Oid& id) const {
  const auto& s = m_impl->s;
  ECLUSE_TRY(c, lookup_commit(s, id));
  git_oid oid = *git_commit_id(c.get());
  CommitInfo info;
  info.id = id;
  info.tree = to_hex(*git_commit_tree_id(c.get()));
  info.message = git_commit_message(c.get());
  info.time = git_commit_time(c.get());
  for (unsigned i = 0; i < git_commit_parentcount(c.get()); ++i) {
    info.parents.push_back(to_hex(*git_commit_parent_id(c.get(), i)));
  }
  GitBuf sig;
  GitBuf data;
  const int rc = git_commit_extract_signature(&sig.buf, &data.buf, s.repo.get(), &oid, "gpgsig");
  if (rc != 0 && rc != GIT_ENOTFOUND) {
    return git_fail(reason::k_repo_io, "reading the signature of commit " + id);
  }
  if (rc == 0) {
    info.signed_payload = std::string(data.view());
    info.signature = std::string(sig.view()) + "\n";
  } else {  // unsigned: everything is "payload", nothing vouches for it
    ECLUSE_TRY(raw, read_raw(s, oid));
    info.signed_payload = std::move(raw);
  }
  return info;
}

Result<std::vector<CommitInfo>> Repository::history(const Oid& tip) const {
  const auto& s = m_impl->s;
  ECLUSE_TRY(c, lookup_commit(s, tip));
  git_revwalk* raw = nullptr;
  if (git_revwalk_new(&raw, s.repo.get()) != 0) {
    return git_fail(reason::k_repo_io, "starting a history walk");
  }
  const GitRevwalk walk(raw);
  git_revwalk_sorting(raw, GIT_SORT_TOPOLOGICAL);
  if (git_revwalk_push(raw, git_commit_id(c.get())) != 0) {
    return git_fail(reason::k_repo_io, "walking the history of " + tip);
  }
  std::vector<CommitInfo> out;
  git_oid id{};
  int rc = 0;
  while ((rc = git_revwalk_next(&id, raw)) == 0) {
    ECLUSE_TRY(info, commit(to_hex(id)));
    out.push_back(std::move(info));
  }
  if (rc != GIT_ITEROVER) {
    return git_fail(reason::k_repo_io, "walking the history of " + tip);
  }
  return out;
}

Result<std::optional<TagInfo>> Repository::tag(const std::string& name) const {
  const auto& s = m_impl->s;
  const auto full = "refs/tags/" + name;
  ECLUSE_CHECK(check_ref_name(full));
  git_reference* raw_ref = nullptr;
  if (const int rc = git_reference_lookup(&raw_ref, s.repo.get(), full.c_str()); rc != 0) {
    if (rc == GIT_ENOTFOUND) {
      return std::optional<TagInfo>();
    }
    return git_fail(reason::k_repo_io, "reading tag " + printable(name));
  }
  const GitReference ref(raw_ref);
  const git_oid* target = git_reference_target(raw_ref);
  if (target == nullptr) {
    return fail(reason::k_repo_not_found, "tag '" + printable(name) + "' is a symbolic ref");
  }
  git_object* raw_obj = nullptr;
  if (const int rc = git_object_lookup(&raw_obj, s.repo.get(), target, GIT_OBJECT_ANY); rc != 0) {
    return lookup_fail(rc, "reading the object of tag " + printable(name));
  }
  const GitObject obj(raw_obj);
  if (git_object_type(raw_obj) == GIT_OBJECT_COMMIT) {
    TagInfo light;  // a lightweight tag: no tag object, nothing signed
    light.ref_name = name;
    light.target = to_hex(*target);
    return std::optional<TagInfo>(std::move(light));
  }
  if (git_object_type(raw_obj) != GIT_OBJECT_TAG) {
    return fail(reason::k_repo_not_found, "tag '" + printable(name) + "' does not name a commit");
  }
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): a tag object is a git_tag
  ECLUSE_TRY(info, annotated(s, name, reinterpret_cast<const git_tag*>(raw_obj)));
  return std::optional<TagInfo>(std::move(info));
}

Result<TagInfo> Repository::read_tag(const Oid& id) const {
  const auto& s = m_impl->s;
  ECLUSE_TRY(oid, parse_oid(id));
  git_tag* raw = nullptr;
  if (const int rc = git_tag_lookup(&raw, s.repo.get(), &oid); rc != 0) {
    return lookup_fail(rc, "reading tag object " + id);
  }
  const GitTag tag(raw);
  return annotated(s, "", raw);
}

}  // namespace ecluse::repo
