// The catalogue of stable reason codes: the one place where every code, its family and its
// meaning are kept (README's reason-code list is generated from it by `ecluse reasons`).
#pragma once

#include <span>
#include <string_view>

namespace ecluse {

// Canonical error family: tells the daemon whether to reject, alert or retry.
enum class Errc {
  rejected,            // the input is refused (a vendor drop's fault)
  corrupt,             // our own data no longer matches what we wrote (alert)
  resource_exhausted,  // a limit was reached
  invalid_argument,    // the caller asked for something malformed
  not_found,
  failed_precondition,  // the request is valid but the current state forbids it
  permission_denied,
  unavailable,  // I/O, a locked resource or our own broken trust store: retrying may help
  internal,     // a bug or a failing library: never the vendor's fault
};

std::string_view to_string(Errc code);

struct Reason {
  std::string_view code;
  Errc family;
  std::string_view summary;
};

namespace reason {
// clang-format off
// Usage and workspace.
inline constexpr Reason k_usage{"usage.invalid_argument", Errc::invalid_argument, "a command-line argument is missing or malformed"};
inline constexpr Reason k_workspace_not_found{"workspace.not_found", Errc::not_found, "the directory is not an ecluse workspace (no ecluse.json)"};
inline constexpr Reason k_workspace_exists{"workspace.exists", Errc::failed_precondition, "init refuses to overwrite an existing workspace"};
inline constexpr Reason k_workspace_bad_config{"workspace.bad_config", Errc::invalid_argument, "ecluse.json is malformed, has an unknown key or a value out of range"};
inline constexpr Reason k_workspace_io{"workspace.io_error", Errc::unavailable, "a workspace file or directory could not be read or written"};
// Stores and journal.
inline constexpr Reason k_store_io{"store.io_error", Errc::unavailable, "the content store could not read or write an object"};
inline constexpr Reason k_store_object_missing{"store.object_missing", Errc::not_found, "a content-store object is missing"};
inline constexpr Reason k_store_object_corrupt{"store.object_corrupt", Errc::corrupt, "a content-store object no longer matches its digest"};
inline constexpr Reason k_store_db{"store.db_error", Errc::unavailable, "the state store (SQLite or PostgreSQL) reported an error or could not be reached"};
inline constexpr Reason k_store_schema_too_new{"store.schema_too_new", Errc::failed_precondition, "state.db was written by a newer ecluse"};
inline constexpr Reason k_state_illegal_transition{"state.illegal_transition", Errc::failed_precondition, "the drop state machine forbids this transition"};
inline constexpr Reason k_state_conflict{"state.conflict", Errc::failed_precondition, "another process changed the drop's state first"};
inline constexpr Reason k_state_unknown_drop{"state.unknown_drop", Errc::not_found, "no drop matches the given id or vendor/product/version"};
inline constexpr Reason k_state_ambiguous_drop{"state.ambiguous_drop", Errc::invalid_argument, "the short id matches more than one drop"};
inline constexpr Reason k_journal_io{"journal.io_error", Errc::unavailable, "the audit journal could not be read or written"};
inline constexpr Reason k_journal_tampered{"journal.tampered", Errc::corrupt, "an audit journal entry was edited, removed, inserted, reordered or truncated"};
// Intake: the drop directory and its payload.
inline constexpr Reason k_intake_unreadable{"intake.drop_unreadable", Errc::rejected, "the drop directory is missing, not a directory or unreadable"};
inline constexpr Reason k_intake_io{"intake.io_error", Errc::unavailable, "a drop file could not be read here (local I/O, permissions, a transfer still running): nothing is recorded, retry later"};
inline constexpr Reason k_intake_missing_drop_json{"intake.missing_drop_json", Errc::rejected, "the drop has no drop.json"};
inline constexpr Reason k_intake_missing_payload{"intake.missing_payload", Errc::rejected, "the drop has no payload/ directory"};
inline constexpr Reason k_intake_unexpected_entry{"intake.unexpected_entry", Errc::rejected, "the drop directory holds something other than drop.json, drop.json.sig, payload/ and READY"};
inline constexpr Reason k_intake_not_regular{"intake.not_regular_file", Errc::rejected, "a drop file is a symlink, device, fifo or socket"};
inline constexpr Reason k_intake_artifact_missing{"intake.artifact_missing", Errc::rejected, "an artifact listed in drop.json is not in payload/"};
inline constexpr Reason k_intake_unlisted_file{"intake.unlisted_file", Errc::rejected, "payload/ holds a file drop.json does not list"};
inline constexpr Reason k_intake_size_mismatch{"intake.artifact_size_mismatch", Errc::rejected, "an artifact's size differs from drop.json"};
inline constexpr Reason k_intake_digest_mismatch{"intake.artifact_digest_mismatch", Errc::rejected, "an artifact's SHA-256 differs from drop.json"};
inline constexpr Reason k_intake_too_many_artifacts{"intake.too_many_artifacts", Errc::resource_exhausted, "the drop lists more artifacts than limits.max_artifacts"};
inline constexpr Reason k_intake_artifact_too_large{"intake.artifact_too_large", Errc::resource_exhausted, "an artifact is larger than limits.max_artifact_bytes"};
inline constexpr Reason k_intake_drop_too_large{"intake.drop_too_large", Errc::resource_exhausted, "the drop's artifacts add up to more than limits.max_drop_bytes"};
inline constexpr Reason k_intake_signature_too_large{"intake.signature_too_large", Errc::resource_exhausted, "drop.json.sig is larger than limits.max_signature_bytes"};
inline constexpr Reason k_intake_replay{"intake.replay", Errc::rejected, "drop.json is byte-identical to a drop already processed: nothing is re-run (the message names the earlier drop)"};
// drop.json against the v1 schema.
inline constexpr Reason k_drop_too_large{"drop.too_large", Errc::resource_exhausted, "drop.json is larger than limits.max_drop_json_bytes"};
inline constexpr Reason k_drop_malformed{"drop.malformed_json", Errc::rejected, "drop.json is not valid JSON (UTF-8)"};
inline constexpr Reason k_drop_duplicate_key{"drop.duplicate_key", Errc::rejected, "a JSON object in drop.json repeats a key"};
inline constexpr Reason k_drop_not_object{"drop.not_an_object", Errc::rejected, "drop.json or one of its artifacts is not a JSON object"};
inline constexpr Reason k_drop_missing_field{"drop.missing_field", Errc::rejected, "a required field is missing"};
inline constexpr Reason k_drop_wrong_type{"drop.wrong_type", Errc::rejected, "a field has the wrong JSON type"};
inline constexpr Reason k_drop_unknown_field{"drop.unknown_field", Errc::rejected, "a field is not part of the v1 schema"};
inline constexpr Reason k_drop_unknown_schema{"drop.unknown_schema", Errc::rejected, "the schema field is not ecluse.drop/v1"};
inline constexpr Reason k_drop_bad_version{"drop.bad_version", Errc::rejected, "the version is not N[.N[.N[.N]]][-PRERELEASE]"};
inline constexpr Reason k_drop_bad_name{"drop.bad_name", Errc::rejected, "vendor, product or channel is not a plain name ([A-Za-z0-9][A-Za-z0-9._-]{0,63})"};
inline constexpr Reason k_drop_unknown_channel{"drop.unknown_channel", Errc::rejected, "the channel is not configured in ecluse.json"};
inline constexpr Reason k_drop_bad_timestamp{"drop.bad_timestamp", Errc::rejected, "released or expires is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)"};
inline constexpr Reason k_drop_expired{"drop.expired", Errc::rejected, "the drop's expires time has passed"};
inline constexpr Reason k_drop_bad_digest{"drop.bad_digest", Errc::rejected, "an artifact's sha256 is not 64 lowercase hex digits"};
inline constexpr Reason k_drop_path_outside{"drop.path_outside", Errc::rejected, "an artifact path leaves payload/ (absolute, drive letter, '..', backslash)"};
inline constexpr Reason k_drop_bad_path{"drop.bad_path", Errc::rejected, "an artifact path is empty, too long, or holds '.', empty or control-character components"};
inline constexpr Reason k_drop_duplicate_artifact{"drop.duplicate_artifact", Errc::rejected, "two artifacts have the same path"};
inline constexpr Reason k_drop_no_artifacts{"drop.no_artifacts", Errc::rejected, "the artifacts list is empty"};
// Vendor signature (the verify stage).
inline constexpr Reason k_sig_missing{"signature.missing", Errc::rejected, "the drop has no drop.json.sig"};
inline constexpr Reason k_sig_malformed{"signature.malformed", Errc::rejected, "drop.json.sig is not a CMS SignedData (DER or PEM), or not base64 for a raw-key vendor"};
inline constexpr Reason k_sig_attached{"signature.attached", Errc::rejected, "the CMS signature embeds its content: only a detached signature over drop.json is accepted"};
inline constexpr Reason k_sig_signer_count{"signature.signer_count", Errc::rejected, "the SignedData does not hold exactly one signer"};
inline constexpr Reason k_sig_signer_cert_missing{"signature.signer_certificate_missing", Errc::rejected, "the signer's certificate is not in the SignedData"};
inline constexpr Reason k_sig_content_mismatch{"signature.content_mismatch", Errc::rejected, "the signature is over other bytes than drop.json (or, for a raw key, by another key)"};
inline constexpr Reason k_sig_invalid{"signature.invalid", Errc::rejected, "the signature value does not verify with the signer certificate's key"};
inline constexpr Reason k_sig_untrusted_root{"signature.untrusted_root", Errc::rejected, "the certificate chain does not lead to a root pinned for the drop's vendor"};
inline constexpr Reason k_sig_not_code_signing{"signature.not_code_signing", Errc::rejected, "the signing certificate lacks the codeSigning extended key usage or the digitalSignature key usage"};
inline constexpr Reason k_sig_expired{"signature.certificate_expired", Errc::rejected, "a certificate of the chain has expired at verification time"};
inline constexpr Reason k_sig_not_yet_valid{"signature.certificate_not_yet_valid", Errc::rejected, "a certificate of the chain is not yet valid at verification time"};
inline constexpr Reason k_sig_weak_digest{"signature.weak_digest", Errc::rejected, "the signature or a certificate uses a digest the algorithm policy refuses (MD5, SHA-1, …)"};
inline constexpr Reason k_sig_weak_key{"signature.weak_key", Errc::rejected, "the signer's or a chain certificate's key is refused by the algorithm policy (RSA under 2048 bits, other curves, …)"};
inline constexpr Reason k_sig_algorithm{"signature.algorithm_not_allowed", Errc::rejected, "the signature algorithm or RSA padding is not allowed by the algorithm policy"};
inline constexpr Reason k_sig_revoked{"signature.revoked", Errc::rejected, "a pinned CRL revokes the signing certificate or an intermediate"};
// Verify stage: vendor trust, versions.
inline constexpr Reason k_verify_unknown_vendor{"verify.unknown_vendor", Errc::rejected, "no trust is pinned for the drop's vendor (ecluse trust add-vendor)"};
inline constexpr Reason k_verify_rollback{"verify.rollback", Errc::rejected, "the version is lower than the highest accepted one of the same vendor, product and channel"};
inline constexpr Reason k_verify_version_reuse{"verify.version_reuse", Errc::rejected, "the same vendor, product, channel and version was accepted before with different content"};
// Unpack stage: archive entries, limits, corrupt input, vendor listings.
inline constexpr Reason k_unpack_path_absolute{"unpack.path_absolute", Errc::rejected, "an archive entry's path is absolute or starts with a drive letter"};
inline constexpr Reason k_unpack_path_traversal{"unpack.path_traversal", Errc::rejected, "an archive entry's path has a '..' component"};
inline constexpr Reason k_unpack_path_backslash{"unpack.path_backslash", Errc::rejected, "an archive entry's path or link target holds a backslash (a Windows separator trick)"};
inline constexpr Reason k_unpack_bad_name{"unpack.bad_name", Errc::rejected, "an archive entry's path is empty or has an empty or '.' component"};
inline constexpr Reason k_unpack_symlink_escape{"unpack.symlink_escape", Errc::rejected, "a symlink's target is absolute or leads outside the archive's tree"};
inline constexpr Reason k_unpack_write_through_symlink{"unpack.write_through_symlink", Errc::rejected, "an archive entry lies under a path that is a symlink"};
inline constexpr Reason k_unpack_hardlink_escape{"unpack.hardlink_escape", Errc::rejected, "a hardlink points outside the tree, at an entry not seen before it, or at something other than a regular file"};
inline constexpr Reason k_unpack_special_file{"unpack.special_file", Errc::rejected, "an archive entry is a device node, fifo or socket"};
inline constexpr Reason k_unpack_type_conflict{"unpack.type_conflict", Errc::rejected, "an archive entry lies under a path that is a file, or replaces a directory by another type"};
inline constexpr Reason k_unpack_name_invalid_utf8{"unpack.name_invalid_utf8", Errc::rejected, "an archive entry's name is not valid UTF-8 (finding)"};
inline constexpr Reason k_unpack_name_control_char{"unpack.name_control_char", Errc::rejected, "an archive entry's name holds a control character (finding)"};
inline constexpr Reason k_unpack_name_collision{"unpack.name_collision", Errc::rejected, "two entries' names are equal under case folding or Unicode normalisation (NFKC casefold) (finding)"};
inline constexpr Reason k_unpack_duplicate_entry{"unpack.duplicate_entry", Errc::rejected, "an archive holds the same path twice with different content, type, mode or target (finding)"};
inline constexpr Reason k_unpack_git_path{"unpack.git_path", Errc::rejected, "an entry's path has a '.git' or '.gitmodules' component, in any case (finding)"};
inline constexpr Reason k_unpack_setuid{"unpack.setuid", Errc::rejected, "an entry has the setuid or setgid bit (recorded, never materialised) (finding)"};
inline constexpr Reason k_unpack_world_writable{"unpack.world_writable", Errc::rejected, "a file or directory entry is world-writable (recorded, never materialised) (finding)"};
inline constexpr Reason k_unpack_total_too_large{"unpack.total_too_large", Errc::resource_exhausted, "the drop's unpacked bytes exceed unpack.max_total_bytes"};
inline constexpr Reason k_unpack_entry_too_large{"unpack.entry_too_large", Errc::resource_exhausted, "an entry's unpacked bytes exceed unpack.max_entry_bytes"};
inline constexpr Reason k_unpack_too_many_entries{"unpack.too_many_entries", Errc::resource_exhausted, "the drop's archives hold more entries than unpack.max_entries"};
inline constexpr Reason k_unpack_entry_ratio{"unpack.entry_ratio", Errc::resource_exhausted, "an entry expands more than unpack.max_entry_ratio times its compressed bytes"};
inline constexpr Reason k_unpack_archive_ratio{"unpack.archive_ratio", Errc::resource_exhausted, "an archive expands more than unpack.max_archive_ratio times its size"};
inline constexpr Reason k_unpack_path_too_long{"unpack.path_too_long", Errc::resource_exhausted, "an entry's path is longer than unpack.max_path_bytes"};
inline constexpr Reason k_unpack_name_too_long{"unpack.name_too_long", Errc::resource_exhausted, "a component of an entry's path is longer than unpack.max_name_bytes"};
inline constexpr Reason k_unpack_nesting_too_deep{"unpack.nesting_too_deep", Errc::resource_exhausted, "archives are nested deeper than unpack.max_depth"};
inline constexpr Reason k_unpack_zip_overlap{"unpack.zip_overlap", Errc::rejected, "zip entries overlap each other or the central directory (a non-recursive zip bomb)"};
inline constexpr Reason k_unpack_zip_name_mismatch{"unpack.zip_name_mismatch", Errc::rejected, "a zip entry's local header and central directory disagree (name, sizes or method)"};
inline constexpr Reason k_unpack_truncated{"unpack.truncated", Errc::rejected, "an archive or compressed stream ends early"};
inline constexpr Reason k_unpack_checksum{"unpack.checksum", Errc::rejected, "a CRC or checksum in an archive or compressed stream does not match its data"};
inline constexpr Reason k_unpack_corrupt{"unpack.corrupt", Errc::rejected, "an archive's headers are inconsistent or damaged, or the reader warned about it"};
inline constexpr Reason k_unpack_encrypted{"unpack.encrypted", Errc::rejected, "an archive entry is encrypted"};
inline constexpr Reason k_unpack_trailing_data{"unpack.trailing_data", Errc::rejected, "bytes follow the end of an archive or compressed stream"};
inline constexpr Reason k_unpack_empty_archive{"unpack.empty_archive", Errc::rejected, "an archive holds no entry"};
inline constexpr Reason k_unpack_format_mismatch{"unpack.format_mismatch", Errc::rejected, "an artifact's name or vendor listing declares an archive format its content does not have"};
inline constexpr Reason k_unpack_listing_malformed{"unpack.listing_malformed", Errc::rejected, "an artifact's 'contents' in drop.json is malformed"};
inline constexpr Reason k_unpack_listing_missing{"unpack.listing_missing", Errc::rejected, "an entry the vendor listed is not in the archive"};
inline constexpr Reason k_unpack_listing_unlisted{"unpack.listing_unlisted", Errc::rejected, "the archive holds an entry the vendor did not list"};
inline constexpr Reason k_unpack_listing_digest{"unpack.listing_digest", Errc::rejected, "an entry's SHA-256 differs from the vendor's listing"};
inline constexpr Reason k_unpack_listing_size{"unpack.listing_size", Errc::rejected, "an entry's size differs from the vendor's listing"};
inline constexpr Reason k_unpack_listing_type{"unpack.listing_type", Errc::rejected, "an entry's type differs from the vendor's listing"};
inline constexpr Reason k_unpack_listing_mode{"unpack.listing_mode", Errc::rejected, "an entry's mode differs from the vendor's listing"};
inline constexpr Reason k_unpack_listing_target{"unpack.listing_target", Errc::rejected, "a link's target differs from the vendor's listing"};
// Findings that only the policy turns into a verdict (verify, diff) and the policy itself.
inline constexpr Reason k_verify_downgrade_used{"verify.downgrade_used", Errc::rejected, "the drop went below the highest accepted version under an engineer's downgrade allowance (finding)"};
inline constexpr Reason k_verify_crl_gap{"verify.crl_gap", Errc::rejected, "a certificate of the vendor's chain is covered by no pinned CRL, so its revocation was not checked (finding)"};
inline constexpr Reason k_diff_first_release{"diff.first_release", Errc::rejected, "no earlier accepted release of the product and channel: the drop is diffed against nothing (finding)"};
inline constexpr Reason k_diff_new_executable{"diff.new_executable", Errc::rejected, "an added file is an executable (ELF, PE, Mach-O or script), or a changed file became one (finding)"};
inline constexpr Reason k_diff_became_executable{"diff.became_executable", Errc::rejected, "a file's mode gained an execute bit (finding)"};
inline constexpr Reason k_diff_executable_modified{"diff.executable_modified", Errc::rejected, "an executable's content changed (finding)"};
inline constexpr Reason k_diff_new_endpoint{"diff.new_endpoint", Errc::rejected, "added or modified content names a URL, host or IP address the baseline did not, and the policy's allow-list does not cover (finding)"};
inline constexpr Reason k_diff_type_changed{"diff.type_changed", Errc::rejected, "an entry changed type (file, directory, symlink, hardlink) (finding)"};
inline constexpr Reason k_diff_link_retargeted{"diff.link_retargeted", Errc::rejected, "a symlink or hardlink points somewhere else (finding)"};
inline constexpr Reason k_diff_pe_unsigned{"diff.pe_unsigned", Errc::rejected, "an added or modified PE file carries no Authenticode signature (finding)"};
inline constexpr Reason k_policy_changed_share{"policy.max_changed_share", Errc::rejected, "the share of changed entries exceeds the policy's thresholds.max_changed_share"};
inline constexpr Reason k_policy_size_growth{"policy.max_size_growth", Errc::rejected, "the unpacked size grew more than the policy's thresholds.max_size_growth"};
inline constexpr Reason k_policy_always_review{"policy.always_review", Errc::rejected, "the policy reviews every drop of the channel (always_review)"};
inline constexpr Reason k_policy_invalid{"policy.invalid", Errc::invalid_argument, "policy.json is malformed or a field is invalid (the message names it): nothing was evaluated"};
inline constexpr Reason k_policy_missing{"policy.missing", Errc::failed_precondition, "the workspace has no policy.json (ecluse policy init writes the default)"};
inline constexpr Reason k_diff_baseline_unreadable{"diff.baseline_unreadable", Errc::unavailable, "the baseline's tree manifest or endpoint index cannot be read or does not match its recorded digest: fix the store, then retry"};
inline constexpr Reason k_diff_bad_baseline{"diff.bad_baseline", Errc::invalid_argument, "--baseline names a drop of another vendor or product, or one not unpacked"};
// Human review of held drops.
inline constexpr Reason k_review_rejected{"review.rejected", Errc::rejected, "an engineer rejected the held drop"};
inline constexpr Reason k_review_not_held{"review.not_held", Errc::failed_precondition, "the drop is not waiting for review"};
// Sandbox testing (stage 5): findings the policy judges, and environment errors.
inline constexpr Reason k_test_no_suite{"test.no_suite", Errc::rejected, "the product has no test suite in the workspace's sandbox/suites/ (finding)"};
inline constexpr Reason k_test_failed{"test.failed", Errc::rejected, "a suite command exited with another status than the suite expects, or was killed (finding)"};
inline constexpr Reason k_test_timeout{"test.timeout", Errc::rejected, "a suite command ran past its wall-clock limit: its whole process tree was killed (finding)"};
inline constexpr Reason k_test_fails_in_future{"test.fails_in_future", Errc::rejected, "a suite command passes now but fails with the clock shifted forward: a time bomb or an expiring licence (finding)"};
inline constexpr Reason k_test_egress_attempt{"test.egress_attempt", Errc::rejected, "code under test tried to resolve a name or open a connection (recorded in the sandbox's own network namespace; nothing left the machine) (finding)"};
inline constexpr Reason k_test_output_truncated{"test.output_truncated", Errc::rejected, "a suite command wrote more output than the profile's cap: the rest was discarded (finding)"};
inline constexpr Reason k_test_not_run{"test.not_run", Errc::rejected, "the sandbox could not run here and the policy allows drops untested (test.not_run: allow) (finding)"};
inline constexpr Reason k_sandbox_bwrap_missing{"sandbox.bwrap_missing", Errc::unavailable, "bubblewrap (bwrap) is not installed: apt-get install bubblewrap, then retry"};
inline constexpr Reason k_sandbox_userns_unavailable{"sandbox.userns_unavailable", Errc::unavailable, "user namespaces are unavailable (kernel.unprivileged_userns_clone, user.max_user_namespaces, a container policy): enable them, then retry"};
inline constexpr Reason k_sandbox_seccomp_unsupported{"sandbox.seccomp_unsupported", Errc::unavailable, "the kernel has no seccomp filter support (CONFIG_SECCOMP_FILTER): the sandbox refuses to run without it"};
inline constexpr Reason k_sandbox_faketime_missing{"sandbox.faketime_missing", Errc::unavailable, "libfaketime is not installed (apt-get install faketime): the time-shifted run cannot happen"};
inline constexpr Reason k_sandbox_egress_unavailable{"sandbox.egress_unavailable", Errc::unavailable, "the sandbox's network namespace cannot be observed (needs root: CAP_SYS_ADMIN and CAP_NET_ADMIN): egress would go unrecorded, so nothing runs"};
inline constexpr Reason k_sandbox_failed{"sandbox.failed", Errc::unavailable, "the sandbox could not be started or observed (bwrap, a pipe, the network namespace): the message says which"};
inline constexpr Reason k_sandbox_bad_profile{"sandbox.bad_profile", Errc::invalid_argument, "a sandbox profile is malformed or a field is out of range (the message names it): nothing ran"};
inline constexpr Reason k_sandbox_bad_suite{"sandbox.bad_suite", Errc::invalid_argument, "a test suite manifest is malformed (the message names the field): nothing ran"};
// Trust store and downgrade decisions (operator side: never the vendor's fault).
inline constexpr Reason k_trust_broken{"trust.store_broken", Errc::unavailable, "the workspace trust store is unreadable or damaged (root, CRL, key or vendor.json): fix it, then retry"};
inline constexpr Reason k_trust_root_expired{"trust.root_expired", Errc::unavailable, "the root pinned for the vendor is expired (or not yet valid): pin the vendor's current root, then retry"};
inline constexpr Reason k_trust_crl_stale{"trust.crl_stale", Errc::unavailable, "a pinned CRL is past its nextUpdate (or not yet valid): import a fresh one, then retry"};
inline constexpr Reason k_trust_bad_material{"trust.bad_material", Errc::invalid_argument, "trust add-vendor: a root, intermediate, CRL or key file is malformed or unsuitable"};
inline constexpr Reason k_trust_vendor_conflict{"trust.vendor_conflict", Errc::failed_precondition, "trust add-vendor: the vendor is already pinned with the other kind of trust (X.509 or raw key)"};
inline constexpr Reason k_trust_unknown_vendor{"trust.unknown_vendor", Errc::not_found, "trust remove: no trust is pinned for this vendor or fingerprint"};
// Operator keys (keys/): generation, loading, the signed key list.
inline constexpr Reason k_keys_loose_permissions{"keys.loose_permissions", Errc::permission_denied, "a private key file is not a regular file of mode 0600 (or 0400) owned by this user: fix its mode, then retry"};
inline constexpr Reason k_keys_unreadable{"keys.unreadable", Errc::unavailable, "a key file or key reference could not be read"};
inline constexpr Reason k_keys_bad_key_file{"keys.bad_key_file", Errc::invalid_argument, "a key file does not hold one valid private or public key"};
inline constexpr Reason k_keys_passphrase_missing{"keys.passphrase_missing", Errc::failed_precondition, "the private key is encrypted and the environment variable naming its passphrase is unset or empty"};
inline constexpr Reason k_keys_bad_passphrase{"keys.bad_passphrase", Errc::permission_denied, "the passphrase does not decrypt the private key"};
inline constexpr Reason k_keys_unsupported_type{"keys.unsupported_type", Errc::invalid_argument, "the key is not Ed25519, ECDSA P-256 or RSA of at least 3072 bits, or its type cannot do what is asked (Ed25519 cannot make CMS signatures in OpenSSL 3.0, so it cannot be a release key)"};
inline constexpr Reason k_keys_pkcs11_unavailable{"keys.pkcs11_unavailable", Errc::unavailable, "the PKCS#11 engine (libengine-pkcs11-openssl) or the token's module cannot be loaded"};
inline constexpr Reason k_keys_token_absent{"keys.token_absent", Errc::unavailable, "the PKCS#11 token or key object named by the URI is not present, or the PIN is refused"};
inline constexpr Reason k_keys_no_key{"keys.no_key", Errc::failed_precondition, "no active key of the role (or engineer name) is in the key list: ecluse keys generate --role ROLE"};
inline constexpr Reason k_keys_private_missing{"keys.private_missing", Errc::failed_precondition, "the key list names the key but its private part is not in keys/private/ (an offline key)"};
inline constexpr Reason k_keys_unknown_key{"keys.unknown_key", Errc::not_found, "no key with that id (or id prefix) is in the key list"};
inline constexpr Reason k_keys_bad_keylist{"keys.bad_keylist", Errc::corrupt, "keys/keylist.json (or a version in keys/history/) is malformed, unsigned by its root keys or does not follow the previous version"};
inline constexpr Reason k_keys_already_revoked{"keys.already_revoked", Errc::failed_precondition, "the key is revoked already"};
inline constexpr Reason k_keys_no_ca{"keys.no_ca", Errc::failed_precondition, "no operator CA and release certificate for the active release key: ecluse keys init-ca (or keys import-ca)"};
inline constexpr Reason k_keys_certificate_mismatch{"keys.certificate_mismatch", Errc::invalid_argument, "the release certificate does not certify the active release key, or is not issued by the operator CA"};
// Attestations (DSSE envelopes, in-toto Statements) and their verification.
inline constexpr Reason k_attest_bad_envelope{"attest.bad_envelope", Errc::rejected, "the file is not a DSSE envelope (JSON with base64 payload, payloadType and signatures)"};
inline constexpr Reason k_attest_payload_type{"attest.payload_type", Errc::rejected, "the envelope's payloadType is not the one expected (application/vnd.in-toto+json)"};
inline constexpr Reason k_attest_signature_invalid{"attest.signature_invalid", Errc::rejected, "no signature verifies over the envelope's payload and payloadType (tampered payload, type or signature)"};
inline constexpr Reason k_attest_unknown_key{"attest.unknown_key", Errc::rejected, "the envelope is signed only by keys the key list does not hold (for the role)"};
inline constexpr Reason k_attest_revoked_key{"attest.revoked_key", Errc::rejected, "the envelope's valid signatures are by revoked keys, which do not count"};
inline constexpr Reason k_attest_threshold{"attest.threshold", Errc::rejected, "fewer distinct trusted keys signed than the role's threshold (a key signing twice counts once)"};
inline constexpr Reason k_attest_bad_statement{"attest.bad_statement", Errc::rejected, "the payload is not an in-toto Statement v1 (_type, subject with sha256 digests, predicateType, predicate)"};
inline constexpr Reason k_attest_subject_mismatch{"attest.subject_mismatch", Errc::rejected, "an artifact's SHA-256 matches no subject of the Statement"};
inline constexpr Reason k_attest_approval_invalid{"attest.approval_invalid", Errc::rejected, "a signed approval is over another drop or verdict, by a key that is not an active engineer key, or does not verify"};
inline constexpr Reason k_journal_checkpoint_invalid{"journal.checkpoint_invalid", Errc::corrupt, "a journal checkpoint's signature does not verify with an unrevoked journal key, or it names another head than the chain has at its seq"};
// Promotion: SSH signatures, TUF metadata, the isolated git repositories, channels, transfer.
inline constexpr Reason k_sshsig_malformed{"sshsig.malformed", Errc::rejected, "an SSH signature is not an armored SSHSIG blob (magic, version 1, key, namespace, hash sha512 or sha256, signature)"};
inline constexpr Reason k_sshsig_invalid{"sshsig.invalid", Errc::rejected, "an SSH signature does not verify over the data with its key and namespace"};
inline constexpr Reason k_tuf_bad_metadata{"tuf.bad_metadata", Errc::rejected, "a TUF metadata file is not valid JSON of its role (_type, spec_version, version, expires, keys, roles, meta, targets)"};
inline constexpr Reason k_tuf_metadata_missing{"tuf.metadata_missing", Errc::rejected, "a TUF metadata file the chain needs is not in the repository"};
inline constexpr Reason k_tuf_threshold{"tuf.threshold", Errc::rejected, "fewer distinct keys of the role signed the TUF metadata than its threshold"};
inline constexpr Reason k_tuf_expired{"tuf.expired", Errc::rejected, "a TUF metadata file's expiry has passed (freeze attack or a timestamp not refreshed)"};
inline constexpr Reason k_tuf_rollback{"tuf.rollback", Errc::rejected, "a TUF metadata version is lower than one seen before (rollback attack)"};
inline constexpr Reason k_tuf_version_mismatch{"tuf.version_mismatch", Errc::rejected, "TUF metadata is not the version the referring metadata names (mix-and-match)"};
inline constexpr Reason k_tuf_hash_mismatch{"tuf.hash_mismatch", Errc::rejected, "TUF metadata's length or hash differs from what the referring metadata names"};
inline constexpr Reason k_tuf_target_mismatch{"tuf.target_mismatch", Errc::rejected, "a target file's length or SHA-256 differs from targets.json"};
inline constexpr Reason k_tuf_target_missing{"tuf.target_missing", Errc::rejected, "a target that targets.json lists is not in the repository"};
inline constexpr Reason k_tuf_target_unlisted{"tuf.target_unlisted", Errc::rejected, "a file under targets/ is not listed in targets.json (an added target)"};
inline constexpr Reason k_repo_io{"repo.io_error", Errc::unavailable, "a git repository could not be opened, read or written"};
inline constexpr Reason k_repo_not_found{"repo.not_found", Errc::not_found, "no such repository, branch, tag or object"};
inline constexpr Reason k_repo_bad_path{"repo.bad_path", Errc::rejected, "a path cannot go into a promoted git tree (.git alias, .gitmodules or .gitattributes, control character, case or Unicode collision)"};
inline constexpr Reason k_repo_ref_moved{"repo.ref_moved", Errc::failed_precondition, "the branch moved while a promotion was being written, or the update is not a fast-forward"};
inline constexpr Reason k_repo_commit_unsigned{"repo.commit_unsigned", Errc::rejected, "a commit of the repository's history carries no SSH signature"};
inline constexpr Reason k_repo_commit_signature{"repo.commit_signature", Errc::rejected, "a commit's SSH signature does not verify with a release key of the TUF root (a rewritten or forged commit)"};
inline constexpr Reason k_repo_tag_invalid{"repo.tag_invalid", Errc::rejected, "a release tag is missing, unsigned, signed by an unknown key, names another release, or points at another commit than the one that promoted it (a moved tag)"};
inline constexpr Reason k_repo_bad_bundle{"repo.bad_bundle", Errc::rejected, "a git bundle is malformed, lacks a prerequisite commit or holds objects that do not index"};
inline constexpr Reason k_promote_not_signed{"promote.not_signed", Errc::failed_precondition, "only a drop whose verdict passed and which the operator signed can be promoted"};
inline constexpr Reason k_promote_unknown_channel{"promote.unknown_channel", Errc::invalid_argument, "the channel is not configured in ecluse.json"};
inline constexpr Reason k_promote_rollback{"promote.rollback", Errc::rejected, "the version is not greater than the channel's last promoted version of the product"};
inline constexpr Reason k_promote_already{"promote.already_promoted", Errc::failed_precondition, "the release is in the channel already"};
inline constexpr Reason k_promote_not_in_channel{"promote.not_in_channel", Errc::not_found, "the release is not (or no longer) in the source channel"};
inline constexpr Reason k_promote_gate_approvals{"promote.gate_approvals", Errc::failed_precondition, "the release has fewer signed approvals than the target channel requires"};
inline constexpr Reason k_promote_gate_soak{"promote.gate_soak", Errc::failed_precondition, "the release has not been in the source channel for the target channel's minimum soak time"};
inline constexpr Reason k_promote_gate_source{"promote.gate_source", Errc::failed_precondition, "the channel takes releases only from the channel its gate names (policy.json promotion.CHANNEL.from)"};
inline constexpr Reason k_promote_evidence{"promote.evidence_invalid", Errc::rejected, "the release's evidence no longer verifies (an artifact, signature or attestation changed, or its keys are revoked)"};
inline constexpr Reason k_transfer_bad_index{"transfer.bad_index", Errc::rejected, "an export's index is missing, malformed, or not signed by a release key of the trusted root"};
inline constexpr Reason k_transfer_mismatch{"transfer.mismatch", Errc::rejected, "an export's bundle or metadata differs from what its signed index names"};
// Triggers: the watcher, leases, graceful stops and scheduled re-verification.
inline constexpr Reason k_pipeline_interrupted{"pipeline.interrupted", Errc::unavailable, "a stop was asked for (SIGTERM or SIGINT): the drop resumes from its last committed stage on the next run"};
inline constexpr Reason k_pipeline_yielded{"pipeline.yielded", Errc::unavailable, "the run did the stages it was given (a queue job is one stage): the next stage is the chain's next job"};
inline constexpr Reason k_state_lease_held{"state.lease_held", Errc::unavailable, "another process holds the lease on this drop or run (it is being processed)"};
inline constexpr Reason k_state_lease_lost{"state.lease_lost", Errc::unavailable, "this process's lease expired and another process took it over: it stopped at its last commit point"};
inline constexpr Reason k_watch_failed{"watch.failed", Errc::unavailable, "the watcher cannot watch staging/incoming/ or start a worker"};
inline constexpr Reason k_reverify_history_rewritten{"reverify.history_rewritten", Errc::corrupt, "a channel's branch no longer descends from the head remembered at the last re-verification (history rewritten or rolled back)"};
inline constexpr Reason k_reverify_key_revoked{"reverify.key_revoked", Errc::corrupt, "a promoted release is signed by a key the operator's key list now revokes or no longer lists"};
inline constexpr Reason k_reverify_cms_invalid{"reverify.cms_invalid", Errc::corrupt, "an artifact's operator CMS signature no longer verifies against the operator CA (signature, chain or certificate expiry)"};
inline constexpr Reason k_reverify_vendor_untrusted{"reverify.vendor_untrusted", Errc::corrupt, "the vendor's signature of a promoted release no longer verifies against the vendor trust store (certificate revoked or expired, root removed)"};
inline constexpr Reason k_reverify_refresh_failed{"reverify.refresh_failed", Errc::unavailable, "the TUF timestamp and snapshot could not be re-signed before they expire"};
// Internal.
inline constexpr Reason k_internal{"internal.error", Errc::internal, "an unexpected internal failure (a bug: please report it)"};
inline constexpr Reason k_internal_crypto{"internal.crypto", Errc::internal, "OpenSSL failed unexpectedly (allocation, a missing algorithm provider)"};
// clang-format on
}  // namespace reason

// Every catalogued reason, in documentation order.
std::span<const Reason* const> all_reasons();

}  // namespace ecluse
