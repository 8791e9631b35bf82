// The algorithm policy and the JSON forms of verification reports.
#include <ecluse/crypto/signature.hpp>

#include <algorithm>

namespace ecluse::crypto {

namespace {

bool listed(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace

json::Json AlgorithmPolicy::to_json() const {
  return {{"digests", digests},
          {"rsa_min_bits", rsa_min_bits},
          {"rsa_padding", rsa_padding},
          {"ec_curves", ec_curves},
          {"ed25519", ed25519}};
}

std::optional<std::string> key_refusal(const KeyInfo& key, const AlgorithmPolicy& policy) {
  if (key.type == "RSA" || key.type == "RSA-PSS") {
    if (key.bits < 0 || static_cast<unsigned>(key.bits) < policy.rsa_min_bits) {
      return "RSA key of " + std::to_string(key.bits) + " bits is under the policy minimum of "
             + std::to_string(policy.rsa_min_bits);
    }
    return std::nullopt;
  }
  if (key.type == "EC") {
    if (!listed(policy.ec_curves, key.curve)) {
      return "EC curve " + key.curve + " is not allowed by the policy";
    }
    return std::nullopt;
  }
  if (key.type == "Ed25519") {
    if (!policy.ed25519) {
      return "Ed25519 keys are not allowed by the policy";
    }
    return std::nullopt;
  }
  return "key type " + key.type + " is not allowed by the policy";
}

bool digest_allowed(const std::string& digest, const AlgorithmPolicy& policy) {
  return listed(policy.digests, digest);
}

json::Json CmsReport::to_json() const {
  auto chain_json = json::Json::array();
  for (const auto& c : chain) {
    chain_json.push_back(crypto::to_json(c));
  }
  auto crl_json = json::Json::array();
  for (const auto& u : crls) {
    auto j = crypto::to_json(u.crl);
    j["covers"] = u.covers;
    crl_json.push_back(std::move(j));
  }
  return {{"kind", "x509"},
          {"encoding", encoding},
          {"signer", crypto::to_json(signer)},
          {"chain", std::move(chain_json)},
          {"digest", digest},
          {"signature_algorithm", signature_algorithm},
          {"padding", padding},
          {"signing_time_claimed",
           signing_time ? json::Json(format_utc(*signing_time)) : json::Json(nullptr)},
          {"validated_at", format_utc(validated_at)},
          {"crls", std::move(crl_json)},
          {"crl_gaps", crl_gaps}};
}

json::Json RawReport::to_json() const {
  return {{"kind", "raw-key"},
          {"key", crypto::to_json(key)},
          {"key_id", key_id},
          {"algorithm", algorithm}};
}

}  // namespace ecluse::crypto
