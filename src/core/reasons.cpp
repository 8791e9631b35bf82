// The reason catalogue's index and the names of the error families.
#include <ecluse/core/reasons.hpp>

#include <array>

namespace ecluse {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::rejected:
      return "rejected";
    case Errc::corrupt:
      return "corrupt";
    case Errc::resource_exhausted:
      return "resource_exhausted";
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::not_found:
      return "not_found";
    case Errc::failed_precondition:
      return "failed_precondition";
    case Errc::permission_denied:
      return "permission_denied";
    case Errc::unavailable:
      return "unavailable";
    case Errc::internal:
      return "internal";
  }
  return "internal";
}

std::span<const Reason* const> all_reasons() {
  using namespace reason;  // NOLINT(google-build-using-namespace)
  static const auto k_all = std::to_array<const Reason*>({
      &k_usage,
      &k_workspace_not_found,
      &k_workspace_exists,
      &k_workspace_bad_config,
      &k_workspace_io,
      &k_store_io,
      &k_store_object_missing,
      &k_store_object_corrupt,
      &k_store_db,
      &k_store_schema_too_new,
      &k_state_illegal_transition,
      &k_state_conflict,
      &k_state_unknown_drop,
      &k_state_ambiguous_drop,
      &k_journal_io,
      &k_journal_tampered,
      &k_intake_unreadable,
      &k_intake_io,
      &k_intake_missing_drop_json,
      &k_intake_missing_payload,
      &k_intake_unexpected_entry,
      &k_intake_not_regular,
      &k_intake_artifact_missing,
      &k_intake_unlisted_file,
      &k_intake_size_mismatch,
      &k_intake_digest_mismatch,
      &k_intake_too_many_artifacts,
      &k_intake_artifact_too_large,
      &k_intake_drop_too_large,
      &k_intake_signature_too_large,
      &k_intake_replay,
      &k_drop_too_large,
      &k_drop_malformed,
      &k_drop_duplicate_key,
      &k_drop_not_object,
      &k_drop_missing_field,
      &k_drop_wrong_type,
      &k_drop_unknown_field,
      &k_drop_unknown_schema,
      &k_drop_bad_version,
      &k_drop_bad_name,
      &k_drop_unknown_channel,
      &k_drop_bad_timestamp,
      &k_drop_expired,
      &k_drop_bad_digest,
      &k_drop_path_outside,
      &k_drop_bad_path,
      &k_drop_duplicate_artifact,
      &k_drop_no_artifacts,
      &k_sig_missing,
      &k_sig_malformed,
      &k_sig_attached,
      &k_sig_signer_count,
      &k_sig_signer_cert_missing,
      &k_sig_content_mismatch,
      &k_sig_invalid,
      &k_sig_untrusted_root,
      &k_sig_not_code_signing,
      &k_sig_expired,
      &k_sig_not_yet_valid,
      &k_sig_weak_digest,
      &k_sig_weak_key,
      &k_sig_algorithm,
      &k_sig_revoked,
      &k_verify_unknown_vendor,
      &k_verify_rollback,
      &k_verify_version_reuse,
      &k_unpack_path_absolute,
      &k_unpack_path_traversal,
      &k_unpack_path_backslash,
      &k_unpack_bad_name,
      &k_unpack_symlink_escape,
      &k_unpack_write_through_symlink,
      &k_unpack_hardlink_escape,
      &k_unpack_special_file,
      &k_unpack_type_conflict,
      &k_unpack_name_invalid_utf8,
      &k_unpack_name_control_char,
      &k_unpack_name_collision,
      &k_unpack_duplicate_entry,
      &k_unpack_git_path,
      &k_unpack_setuid,
      &k_unpack_world_writable,
      &k_unpack_total_too_large,
      &k_unpack_entry_too_large,
      &k_unpack_too_many_entries,
      &k_unpack_entry_ratio,
      &k_unpack_archive_ratio,
      &k_unpack_path_too_long,
      &k_unpack_name_too_long,
      &k_unpack_nesting_too_deep,
      &k_unpack_zip_overlap,
      &k_unpack_zip_name_mismatch,
      &k_unpack_truncated,
      &k_unpack_checksum,
      &k_unpack_corrupt,
      &k_unpack_encrypted,
      &k_unpack_trailing_data,
      &k_unpack_empty_archive,
      &k_unpack_format_mismatch,
      &k_unpack_listing_malformed,
      &k_unpack_listing_missing,
      &k_unpack_listing_unlisted,
      &k_unpack_listing_digest,
      &k_unpack_listing_size,
      &k_unpack_listing_type,
      &k_unpack_listing_mode,
      &k_unpack_listing_target,
      &k_verify_downgrade_used,
      &k_verify_crl_gap,
      &k_diff_first_release,
      &k_diff_new_executable,
      &k_diff_became_executable,
      &k_diff_executable_modified,
      &k_diff_new_endpoint,
      &k_diff_type_changed,
      &k_diff_link_retargeted,
      &k_diff_pe_unsigned,
      &k_policy_changed_share,
      &k_policy_size_growth,
      &k_policy_always_review,
      &k_policy_invalid,
      &k_policy_missing,
      &k_diff_baseline_unreadable,
      &k_diff_bad_baseline,
      &k_review_rejected,
      &k_review_not_held,
      &k_test_no_suite,
      &k_test_failed,
      &k_test_timeout,
      &k_test_fails_in_future,
      &k_test_egress_attempt,
      &k_test_output_truncated,
      &k_test_not_run,
      &k_sandbox_bwrap_missing,
      &k_sandbox_userns_unavailable,
      &k_sandbox_seccomp_unsupported,
      &k_sandbox_faketime_missing,
      &k_sandbox_egress_unavailable,
      &k_sandbox_failed,
      &k_sandbox_bad_profile,
      &k_sandbox_bad_suite,
      &k_trust_broken,
      &k_trust_root_expired,
      &k_trust_crl_stale,
      &k_trust_bad_material,
      &k_trust_vendor_conflict,
      &k_trust_unknown_vendor,
      &k_internal,
      &k_internal_crypto,
  });
  return k_all;
}

}  // namespace ecluse
