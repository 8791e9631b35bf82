// Detached CMS verification with OpenSSL 3.0, without its S/MIME defaults
// (SECURITY-NOTES.md section 7): the SignedData structure is checked first, then the
// signature's algorithms, then the signature over the exact content bytes, then the chain to
// the vendor's pinned roots only (at our clock's time), the chain's algorithms, the
// code-signing usage of the leaf, and revocation by the vendor's pinned CRLs.
#include <ecluse/crypto/signature.hpp>

#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>

#include "openssl.hpp"

namespace ecluse::crypto {

namespace {

constexpr const char* k_sig_item = "drop.json.sig";

struct ParsedCms {
  ossl::CmsPtr cms;
  std::string encoding;
};

Result<ParsedCms> parse_cms(std::string_view bytes) {
  std::string der(bytes);
  std::string encoding = "der";
  if (ossl::looks_pem(bytes)) {
    ECLUSE_TRY(blocks, ossl::pem_blocks(bytes, reason::k_sig_malformed, k_sig_item));
    if (blocks.size() != 1 || (blocks[0].label != "CMS" && blocks[0].label != "PKCS7")) {
      return fail(reason::k_sig_malformed,
                  "drop.json.sig: PEM must hold exactly one CMS or PKCS7 block",
                  k_sig_item);
    }
    der = std::move(blocks[0].der);
    encoding = "pem";
  }
  auto cms = ossl::decode_der<ossl::CmsPtr>(der, d2i_CMS_ContentInfo);
  if (!cms) {
    return fail(reason::k_sig_malformed,
                "drop.json.sig: not a CMS ContentInfo (" + encoding + ")",
                k_sig_item);
  }
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    return fail(
        reason::k_sig_malformed, "drop.json.sig: CMS content is not SignedData", k_sig_item);
  }
  return ParsedCms{std::move(cms), std::move(encoding)};
}

Result<CMS_SignerInfo*> only_signer(CMS_ContentInfo* cms) {
  if (CMS_is_detached(cms) != 1) {
    return fail(reason::k_sig_attached,
                "drop.json.sig embeds its own content: a detached signature over drop.json is "
                "required",
                k_sig_item);
  }
  auto* infos = CMS_get0_SignerInfos(cms);
  const int n = infos == nullptr ? 0 : sk_CMS_SignerInfo_num(infos);
  if (n != 1) {
    return fail(reason::k_sig_signer_count,
                "drop.json.sig holds " + std::to_string(n) + " signers, exactly 1 is required",
                k_sig_item);
  }
  return sk_CMS_SignerInfo_value(infos, 0);
}

// The signer's certificate, from the SignedData's own certificate set.
Result<ossl::X509Ptr> signer_certificate(CMS_ContentInfo* cms, CMS_SignerInfo* si) {
  ossl::X509Stack certs(CMS_get1_certs(cms));
  ERR_clear_error();
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
    X509* x = sk_X509_value(certs.get(), i);
    if (CMS_SignerInfo_cert_cmp(si, x) == 0) {
      if (X509_up_ref(x) != 1) {
        return ossl::failure("cannot reference the signer certificate");
      }
      ossl::X509Ptr signer(x);
      CMS_SignerInfo_set1_signer_cert(si, signer.get());
      return signer;
    }
  }
  return fail(reason::k_sig_signer_cert_missing,
              "drop.json.sig does not carry its signer's certificate",
              k_sig_item);
}

int algor_nid(const X509_ALGOR* alg) {
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  return obj == nullptr ? NID_undef : OBJ_obj2nid(obj);
}

Status check_digest(const std::string& digest, const AlgorithmPolicy& policy, const char* what) {
  if (!digest_allowed(digest, policy)) {
    return fail(reason::k_sig_weak_digest,
                std::string(what) + " uses digest " + digest + ", which the policy refuses",
                k_sig_item);
  }
  return {};
}

// The hash inside an MGF1 AlgorithmIdentifier (absent: the RFC 4055 default, SHA-1).
Result<int> mgf1_hash(const X509_ALGOR* mgf) {
  if (mgf == nullptr) {
    return NID_sha1;
  }
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(nullptr, &ptype, &pval, mgf);
  if (algor_nid(mgf) != NID_mgf1 || ptype != V_ASN1_SEQUENCE) {
    return fail(reason::k_sig_algorithm,
                "drop.json.sig: RSASSA-PSS with a mask generation other than MGF1",
                k_sig_item);
  }
  CHandle<X509_ALGOR, X509_ALGOR_free> inner(static_cast<X509_ALGOR*>(
      ASN1_item_unpack(static_cast<const ASN1_STRING*>(pval), ASN1_ITEM_rptr(X509_ALGOR))));
  if (!inner) {
    ERR_clear_error();
    return fail(reason::k_sig_malformed, "drop.json.sig: unreadable MGF1 parameters", k_sig_item);
  }
  return algor_nid(inner.get());
}

// PSS parameters: the message hash and the MGF1 hash (both default to SHA-1).
Status check_pss(const X509_ALGOR* psig, const AlgorithmPolicy& policy) {
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(nullptr, &ptype, &pval, psig);
  if (ptype != V_ASN1_SEQUENCE) {
    return fail(
        reason::k_sig_algorithm, "drop.json.sig: RSASSA-PSS without parameters", k_sig_item);
  }
  CHandle<RSA_PSS_PARAMS, RSA_PSS_PARAMS_free> pss(static_cast<RSA_PSS_PARAMS*>(
      ASN1_item_unpack(static_cast<const ASN1_STRING*>(pval), ASN1_ITEM_rptr(RSA_PSS_PARAMS))));
  if (!pss) {
    ERR_clear_error();
    return fail(
        reason::k_sig_malformed, "drop.json.sig: unreadable RSASSA-PSS parameters", k_sig_item);
  }
  const int hash = pss->hashAlgorithm == nullptr ? NID_sha1 : algor_nid(pss->hashAlgorithm);
  ECLUSE_TRY(mgf_hash, mgf1_hash(pss->maskGenAlgorithm));
  ECLUSE_CHECK(check_digest(ossl::digest_name(hash), policy, "the RSASSA-PSS signature"));
  return check_digest(ossl::digest_name(mgf_hash), policy, "the RSASSA-PSS mask generation");
}

// The signer's digest, signature algorithm and padding, checked against the policy.
// The signature algorithm: its digest (or PSS hashes) and its RSA padding, if any.
Status check_signature_scheme(const X509_ALGOR* psig,
                              const AlgorithmPolicy& policy,
                              CmsReport& report) {
  const int sig_nid = algor_nid(psig);
  report.signature_algorithm = sig_nid == NID_undef ? "unknown" : OBJ_nid2ln(sig_nid);
  if (sig_nid == NID_rsassaPss) {
    report.padding = "pss";
    return check_pss(psig, policy);
  }
  int md_nid = NID_undef;
  int pk_nid = NID_undef;
  if (sig_nid != NID_rsaEncryption && OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid) != 1) {
    return fail(
        reason::k_sig_algorithm,
        "drop.json.sig: signature algorithm " + report.signature_algorithm + " is not supported",
        k_sig_item);
  }
  if (sig_nid == NID_rsaEncryption || pk_nid == NID_rsaEncryption) {
    report.padding = "pkcs1";
  }
  return md_nid == NID_undef
             ? Status{}
             : check_digest(ossl::digest_name(md_nid), policy, "the signature algorithm");
}

// The signer's digest, signature algorithm and padding, checked against the policy.
Status check_signer_algorithms(CMS_SignerInfo* si,
                               const AlgorithmPolicy& policy,
                               CmsReport& report) {
  X509_ALGOR* pdig = nullptr;
  X509_ALGOR* psig = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &pdig, &psig);
  report.digest = ossl::digest_name(algor_nid(pdig));
  ECLUSE_CHECK(check_digest(report.digest, policy, "the CMS signature"));
  ECLUSE_CHECK(check_signature_scheme(psig, policy, report));
  if (!report.padding.empty()
      && std::find(policy.rsa_padding.begin(), policy.rsa_padding.end(), report.padding)
             == policy.rsa_padding.end()) {
    return fail(reason::k_sig_algorithm,
                "drop.json.sig: RSA padding " + report.padding + " is not allowed by the policy",
                k_sig_item);
  }
  return {};
}

std::optional<TimePoint> claimed_signing_time(CMS_SignerInfo* si) {
  const int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  if (idx < 0) {
    return std::nullopt;
  }
  X509_ATTRIBUTE* attr = CMS_signed_get_attr(si, idx);
  const auto* t =
      static_cast<const ASN1_TIME*>(X509_ATTRIBUTE_get0_data(attr, 0, V_ASN1_UTCTIME, nullptr));
  if (t == nullptr) {
    t = static_cast<const ASN1_TIME*>(
        X509_ATTRIBUTE_get0_data(attr, 0, V_ASN1_GENERALIZEDTIME, nullptr));
  }
  ERR_clear_error();
  return t == nullptr ? std::nullopt : ossl::to_time_point(t);
}

// Digests content exactly as given (binary: no MIME canonicalisation) through the SignedData's
// digest BIOs and checks the signer's messageDigest (or, without signed attributes, the
// signature itself). Done by hand rather than with CMS_verify, which in OpenSSL 3.0 leaks a
// memory BIO when CMS_dataInit fails on hostile input (found by tests/fuzz/signature_fuzz).
Result<bool> content_digest_matches(CMS_ContentInfo* cms,
                                    CMS_SignerInfo* si,
                                    std::string_view content) {
  auto source = ossl::mem_bio(content);
  if (!source) {
    return ossl::failure("cannot create a memory BIO");
  }
  BIO* chain = CMS_dataInit(cms, source.get());
  if (chain == nullptr) {
    return fail(reason::k_sig_malformed,
                "drop.json.sig: cannot digest the content (" + ossl::drain_errors() + ")",
                k_sig_item);
  }
  std::array<char, 4096> buf{};
  while (BIO_read(chain, buf.data(), static_cast<int>(buf.size())) > 0) {
  }
  const bool ok = CMS_SignerInfo_verify_content(si, chain) == 1;
  while (chain != nullptr && chain != source.get()) {  // the digest BIOs CMS_dataInit pushed
    BIO* next = BIO_pop(chain);
    BIO_free(chain);
    chain = next;
  }
  return ok;
}

// What the signature must be over: the exact bytes, or content whose SHA-256 is known (an
// artifact streamed and hashed elsewhere: checked against the signed messageDigest).
struct Content {
  std::string_view bytes;
  const std::string* sha256_hex = nullptr;
};

// The signed messageDigest attribute equals the content's known SHA-256.
Status check_message_digest(CMS_SignerInfo* si,
                            const std::string& sha256_hex,
                            const CmsReport& report) {
  const auto* md = static_cast<const ASN1_OCTET_STRING*>(CMS_signed_get0_data_by_OBJ(
      si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING));
  std::string hex;
  if (md != nullptr) {
    static constexpr std::string_view k_hex = "0123456789abcdef";
    for (int i = 0; i < ASN1_STRING_length(md); ++i) {
      const auto b =
          ASN1_STRING_get0_data(md)[i];  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
      hex += k_hex[b >> 4U];
      hex += k_hex[b & 0xfU];
    }
  }
  if (CMS_signed_get_attr_count(si) <= 0 || report.digest != "sha256" || hex != sha256_hex) {
    return fail(reason::k_sig_content_mismatch,
                "the signature's signed message digest is not the content's SHA-256",
                "messageDigest");
  }
  return {};
}

// The signature value over the signed attributes, then the content digest over the exact
// bytes of content.
Status check_signature_value(CMS_ContentInfo* cms,
                             CMS_SignerInfo* si,
                             const Content& content,
                             const CmsReport& report) {
  if (CMS_signed_get_attr_count(si) > 0 && CMS_SignerInfo_verify(si) != 1) {
    const auto detail = ossl::drain_errors();
    return fail(
        reason::k_sig_invalid,
        "drop.json.sig: the signature does not verify with its signer's key (" + detail + ")",
        k_sig_item);
  }
  if (content.sha256_hex != nullptr) {
    return check_message_digest(si, *content.sha256_hex, report);
  }
  ECLUSE_TRY(digested, content_digest_matches(cms, si, content.bytes));
  if (!digested) {
    const auto detail = ossl::drain_errors();
    return fail(reason::k_sig_content_mismatch,
                "drop.json.sig was not made over these drop.json bytes (" + detail + ")",
                "drop.json");
  }
  return {};
}

Result<ossl::StorePtr> anchor_store(const Anchors& anchors) {
  ossl::StorePtr store(X509_STORE_new());
  if (!store) {
    return ossl::failure("cannot create a certificate store");
  }
  for (const auto& root : anchors.roots) {
    ECLUSE_TRY(x, ossl::to_x509(root));
    if (X509_STORE_add_cert(store.get(), x.get()) != 1) {
      return ossl::failure("cannot add a pinned root to the store");
    }
  }
  return store;
}

Result<ossl::X509Stack> untrusted_pool(CMS_ContentInfo* cms, const Anchors& anchors) {
  ossl::X509Stack pool(CMS_get1_certs(cms));
  ERR_clear_error();
  if (!pool) {
    pool.reset(sk_X509_new_null());
  }
  if (!pool) {
    return ossl::failure("cannot create a certificate list");
  }
  for (const auto& c : anchors.intermediates) {
    ECLUSE_TRY(x, ossl::to_x509(c));
    if (sk_X509_push(pool.get(), x.get()) <= 0) {
      return ossl::failure("cannot add a pinned intermediate");
    }
    (void)x.release();
  }
  return pool;
}

tl::unexpected<Error> chain_failure(X509_STORE_CTX* ctx, const Anchors& anchors) {
  const int err = X509_STORE_CTX_get_error(ctx);
  const X509* at = X509_STORE_CTX_get_current_cert(ctx);
  const std::string subject =
      at == nullptr ? std::string("the signer") : ossl::name_text(X509_get_subject_name(at));
  const std::string why = X509_verify_cert_error_string(err);
  ERR_clear_error();
  const bool pinned =
      at != nullptr && std::any_of(anchors.roots.begin(), anchors.roots.end(), [&](const auto& r) {
        return r.der()
               == ossl::der_of(
                   const_cast<X509*>(at));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
      });
  if (pinned && (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID)) {
    return fail(reason::k_trust_root_expired,
                "the root pinned for vendor '" + anchors.vendor + "' ('" + subject + "') is "
                    + (err == X509_V_ERR_CERT_HAS_EXPIRED ? "expired" : "not yet valid")
                    + ": pin the vendor's current root",
                subject);
  }
  if (err == X509_V_ERR_CERT_HAS_EXPIRED) {
    return fail(reason::k_sig_expired, "certificate '" + subject + "' has expired", subject);
  }
  if (err == X509_V_ERR_CERT_NOT_YET_VALID) {
    return fail(
        reason::k_sig_not_yet_valid, "certificate '" + subject + "' is not yet valid", subject);
  }
  return fail(reason::k_sig_untrusted_root,
              "the signer's chain does not lead to a root pinned for vendor '" + anchors.vendor
                  + "': " + why + " at '" + subject + "'",
              subject);
}

// Builds and checks the chain from the signer to one of the pinned roots, at time `at`.
Result<std::vector<ossl::X509Ptr>> build_chain(CMS_ContentInfo* cms,
                                               X509* signer,
                                               const Anchors& anchors,
                                               TimePoint at) {
  ECLUSE_TRY(store, anchor_store(anchors));
  ECLUSE_TRY(pool, untrusted_pool(cms, anchors));
  ossl::StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), signer, pool.get()) != 1) {
    return ossl::failure("cannot initialise chain verification");
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(at.time_since_epoch().count()));
  X509_VERIFY_PARAM_set_depth(X509_STORE_CTX_get0_param(ctx.get()), 8);
  const int verified = X509_verify_cert(ctx.get());
  if (verified < 0) {
    return ossl::failure("chain verification failed internally");
  }
  if (verified != 1) {
    return chain_failure(ctx.get(), anchors);
  }
  std::vector<ossl::X509Ptr> chain;
  auto* built = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(built); ++i) {
    X509* x = sk_X509_value(built, i);
    if (X509_up_ref(x) != 1) {
      return ossl::failure("cannot reference a chain certificate");
    }
    chain.emplace_back(x);
  }
  return chain;
}

// Every key of the chain, and the digest every certificate below the root was signed with.
Status check_chain_algorithms(const std::vector<ossl::X509Ptr>& chain,
                              const AlgorithmPolicy& policy) {
  for (std::size_t i = 0; i < chain.size(); ++i) {
    X509* x = chain[i].get();
    const auto subject = ossl::name_text(X509_get_subject_name(x));
    if (auto why = key_refusal(ossl::key_info(X509_get0_pubkey(x)), policy)) {
      return fail(reason::k_sig_weak_key, "certificate '" + subject + "': " + *why, subject);
    }
    if (i + 1 == chain.size()) {
      break;  // the pinned root's self-signature carries no trust
    }
    int md_nid = NID_undef;
    if (X509_get_signature_info(x, &md_nid, nullptr, nullptr, nullptr) != 1) {
      ERR_clear_error();
      return fail(reason::k_sig_weak_digest,
                  "certificate '" + subject + "': its signature algorithm cannot be determined",
                  subject);
    }
    if (md_nid != NID_undef && !digest_allowed(ossl::digest_name(md_nid), policy)) {
      return fail(reason::k_sig_weak_digest,
                  "certificate '" + subject + "' is signed with " + ossl::digest_name(md_nid)
                      + ", which the policy refuses",
                  subject);
    }
  }
  ERR_clear_error();
  return {};
}

// The leaf must be for code signing; an intermediate that restricts its extended key usage
// must allow code signing (or any usage) too.
Status check_intermediate_usage(const std::vector<ossl::X509Ptr>& chain) {
  for (std::size_t i = 1; i + 1 < chain.size(); ++i) {
    X509* x = chain[i].get();
    if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) != 0U
        && (X509_get_extended_key_usage(x) & (XKU_CODE_SIGN | XKU_ANYEKU)) == 0U) {
      const auto subject = ossl::name_text(X509_get_subject_name(x));
      return fail(reason::k_sig_not_code_signing,
                  "intermediate '" + subject + "' restricts its extended key usage to exclude "
                      "codeSigning",
                  subject);
    }
  }
  return {};
}

Status check_code_signing(X509* leaf) {
  const auto subject = ossl::name_text(X509_get_subject_name(leaf));
  const auto flags = X509_get_extension_flags(leaf);
  if ((flags & EXFLAG_XKUSAGE) == 0U || (X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN) == 0U) {
    return fail(
        reason::k_sig_not_code_signing,
        "signing certificate '" + subject + "' does not carry the codeSigning extended key usage",
        subject);
  }
  if ((flags & EXFLAG_KUSAGE) != 0U && (X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE) == 0U) {
    return fail(reason::k_sig_not_code_signing,
                "signing certificate '" + subject + "' has a keyUsage without digitalSignature",
                subject);
  }
  return {};
}

// The newest pinned CRL issued by `issuer` (name and signature), if any; trust.crl_stale when
// it is outside its validity window at `at`.
Result<std::optional<std::pair<ossl::CrlPtr, const Crl*>>> crl_for(X509* issuer,
                                                                   const Anchors& anchors,
                                                                   TimePoint at) {
  std::optional<std::pair<ossl::CrlPtr, const Crl*>> best;
  for (const auto& crl : anchors.crls) {
    ECLUSE_TRY(c, ossl::to_crl(crl));
    if (X509_NAME_cmp(X509_CRL_get_issuer(c.get()), X509_get_subject_name(issuer)) != 0
        || X509_CRL_verify(c.get(), X509_get0_pubkey(issuer)) != 1) {
      ERR_clear_error();
      continue;
    }
    if (!best || crl.info().this_update > best->second->info().this_update) {
      best.emplace(std::move(c), &crl);
    }
  }
  if (best) {
    const auto& info = best->second->info();
    if (info.this_update > at || (info.next_update && *info.next_update <= at)) {
      return fail(reason::k_trust_crl_stale,
                  "pinned CRL of '" + info.issuer + "' (sha256 " + info.sha256
                      + ") is not valid at " + format_utc(at) + ": import a fresh CRL",
                  info.sha256);
    }
  }
  return best;
}

Status check_revocation(const std::vector<ossl::X509Ptr>& chain,
                        const Anchors& anchors,
                        TimePoint at,
                        CmsReport& report) {
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    X509* x = chain[i].get();
    const auto subject = ossl::name_text(X509_get_subject_name(x));
    ECLUSE_TRY(found, crl_for(chain[i + 1].get(), anchors, at));
    if (!found) {
      report.crl_gaps.push_back(subject);
      continue;
    }
    report.crls.push_back({found->second->info(), subject});
    X509_REVOKED* entry = nullptr;
    if (X509_CRL_get0_by_cert(found->first.get(), &entry, x) == 1) {
      return fail(reason::k_sig_revoked,
                  "certificate '" + subject + "' is revoked by the pinned CRL of '"
                      + found->second->info().issuer + "'",
                  subject);
    }
  }
  ERR_clear_error();
  return {};
}

// The signer as a key holder: its algorithms and key under the policy, and its signature over
// the exact content.
Status check_signer(CMS_ContentInfo* cms,
                    CMS_SignerInfo* si,
                    const Content& content,
                    const AlgorithmPolicy& policy,
                    CmsReport& report) {
  ECLUSE_CHECK(check_signer_algorithms(si, policy, report));
  if (auto why = key_refusal(report.signer.key, policy)) {
    return fail(reason::k_sig_weak_key,
                "signing certificate '" + report.signer.subject + "': " + *why,
                report.signer.subject);
  }
  if (report.signer.key.type == "Ed25519") {
    // OpenSSL 3.0 implements neither signing nor verifying RFC 8419 (EdDSA in CMS).
    return fail(reason::k_sig_algorithm,
                "Ed25519 CMS signers (RFC 8419) are not supported by OpenSSL 3.0: pin the vendor's "
                "Ed25519 key as a raw key, or have it sign with ECDSA or RSA",
                report.signer.subject);
  }
  return check_signature_value(cms, si, content, report);
}

// The signer's certificate as the vendor's: chain, chain algorithms, usage, revocation.
Status check_signer_chain(CMS_ContentInfo* cms,
                          X509* signer,
                          const Anchors& anchors,
                          const AlgorithmPolicy& policy,
                          CmsReport& report) {
  ECLUSE_TRY(chain, build_chain(cms, signer, anchors, report.validated_at));
  for (const auto& x : chain) {
    report.chain.push_back(ossl::cert_info(x.get(), ossl::der_of(x.get())));
  }
  ECLUSE_CHECK(check_chain_algorithms(chain, policy));
  ECLUSE_CHECK(check_code_signing(signer));
  ECLUSE_CHECK(check_intermediate_usage(chain));
  return check_revocation(chain, anchors, report.validated_at, report);
}

Result<CmsReport> verify_parsed(CMS_ContentInfo* cms,
                                const Content& content,
                                const Anchors& anchors,
                                const AlgorithmPolicy& policy,
                                TimePoint at) {
  CmsReport report;
  report.validated_at = at;
  ECLUSE_TRY(si, only_signer(cms));
  ECLUSE_TRY(signer, signer_certificate(cms, si));
  report.signer = ossl::cert_info(signer.get(), ossl::der_of(signer.get()));
  report.signing_time = claimed_signing_time(si);
  ECLUSE_CHECK(check_signer(cms, si, content, policy, report));
  ECLUSE_CHECK(check_signer_chain(cms, signer.get(), anchors, policy, report));
  return report;
}

}  // namespace

Result<CmsReport> verify_cms(std::string_view signature,
                             std::string_view content,
                             const Anchors& anchors,
                             const AlgorithmPolicy& policy,
                             TimePoint at) {
  ECLUSE_TRY(parsed, parse_cms(signature));
  auto report = verify_parsed(parsed.cms.get(), Content{content}, anchors, policy, at);
  ERR_clear_error();
  if (report) {
    report->encoding = parsed.encoding;
  }
  return report;
}

Result<CmsReport> verify_cms_digest(std::string_view signature,
                                    const std::string& content_sha256_hex,
                                    const Anchors& anchors,
                                    const AlgorithmPolicy& policy,
                                    TimePoint at) {
  ECLUSE_TRY(parsed, parse_cms(signature));
  auto report =
      verify_parsed(parsed.cms.get(), Content{{}, &content_sha256_hex}, anchors, policy, at);
  ERR_clear_error();
  if (report) {
    report->encoding = parsed.encoding;
  }
  return report;
}

}  // namespace ecluse::crypto
