// Raw signatures for vendors that sign without X.509: Ed25519 over the bytes, or ECDSA P-256
// over their SHA-256 (DER ECDSA-Sig-Value), base64 in drop.json.sig.
#include <ecluse/core/base64.hpp>
#include <ecluse/crypto/signature.hpp>

#include "openssl.hpp"

namespace ecluse::crypto {

namespace {

constexpr const char* k_sig_item = "drop.json.sig";

Result<std::string> raw_algorithm(const PublicKey& key, const AlgorithmPolicy& policy) {
  if (auto why = key_refusal(key.info(), policy)) {
    return fail(reason::k_sig_weak_key, "pinned raw key: " + *why, key.key_id());
  }
  if (key.info().type == "Ed25519") {
    return std::string("ed25519");
  }
  if (key.info().type == "EC" && key.info().curve == "P-256") {
    if (!digest_allowed("sha256", policy)) {
      return fail(reason::k_sig_weak_digest,
                  "the policy refuses sha256, which ECDSA P-256 uses",
                  key.key_id());
    }
    return std::string("ecdsa-sha256");
  }
  return fail(reason::k_sig_algorithm,
              "raw-key vendors sign with Ed25519 or ECDSA P-256, not " + key.info().type + " "
                  + key.info().curve,
              key.key_id());
}

}  // namespace

Result<RawReport> verify_raw(std::string_view signature_b64,
                             std::string_view content,
                             const PublicKey& key,
                             const AlgorithmPolicy& policy) {
  ECLUSE_TRY(algorithm, raw_algorithm(key, policy));
  const auto sig = base64_decode(signature_b64);
  if (!sig || sig->empty()) {
    return fail(reason::k_sig_malformed, "drop.json.sig is not base64 text", k_sig_item);
  }
  auto pkey = ossl::decode_der<ossl::PkeyPtr>(key.der(), d2i_PUBKEY);
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx) {
    return ossl::failure("cannot load the pinned raw key");
  }
  const EVP_MD* md = algorithm == "ed25519" ? nullptr : EVP_sha256();
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey.get()) != 1) {
    return ossl::failure("cannot initialise raw signature verification");
  }
  const int ok = EVP_DigestVerify(ctx.get(),
                                  reinterpret_cast<const unsigned char*>(sig->data()),
                                  sig->size(),
                                  reinterpret_cast<const unsigned char*>(content.data()),
                                  content.size());
  ERR_clear_error();
  if (ok != 1) {
    return fail(reason::k_sig_content_mismatch,
                "drop.json.sig does not verify over these drop.json bytes with the pinned "
                    + algorithm + " key " + key.key_id().substr(0, 16),
                "drop.json");
  }
  return RawReport{key.info(), key.key_id(), algorithm};
}

}  // namespace ecluse::crypto
