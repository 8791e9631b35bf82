// Operator signing keys inside PKCS#11 tokens, loaded through libp11's "pkcs11" engine.
// Invariant: OpenSSL never prompts (a PIN comes from the reference or not at all), no PIN reaches
// a message, every failure drains OpenSSL's error queue, the engine stays initialised as long as
// a key from it, and one process uses one PKCS#11 module (a different one is refused, never
// silently replaced by the loaded one).
//
// This file alone uses OpenSSL's deprecated ENGINE API, so src/CMakeLists.txt builds it without
// OPENSSL_NO_DEPRECATED: OpenSSL 3.0 has no PKCS#11 support of its own, and Debian 12 reaches
// tokens through the engine (libengine-pkcs11-openssl, libp11 0.4.12).
//
// What libp11 0.4.12 does, checked with SoftHSM2 2.6.1 (tests/unit/crypto/pkcs11_test.cpp):
// - ECDSA P-256 and RSA-3072 keys load and sign through EVP_DigestSign: OpenSSL hashes, the
//   token signs the digest with CKM_ECDSA, or CKM_RSA_PKCS_PSS with SHA-256, MGF1-SHA-256 and a
//   32-byte salt (seen through OpenSC's pkcs11-spy).
// - Ed25519 keys do not load: libp11 0.4.12 has no EdDSA keys, and a token holding one fails
//   its whole private-key enumeration, so no key on that token loads (keys.token_absent).
// - OpenSSL 3.0 binds a dynamic engine library once per process (a second ENGINE from the same
//   library fails to bind), so the process shares one engine, and libp11 keeps its module
//   loaded, its tokens logged in and its last PIN after ENGINE_finish: a later load from a
//   logged-in token does not check its PIN again, and a later reference without a PIN has the
//   last PIN tried on its token.
#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/ui.h>

#include <dlfcn.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "signing_impl.hpp"

namespace ecluse::crypto {

namespace {

using EnginePtr = CHandle<ENGINE, ENGINE_free>;
using UiMethodPtr = CHandle<UI_METHOD, UI_destroy_method>;
using ModuleHandle = CHandle<void, dlclose>;

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

// The URI as messages show it: the value of any pin-value attribute (RFC 7512 section 2.3)
// replaced, since an operator may have put the PIN there.
std::string shown_uri(std::string_view uri) {
  constexpr std::string_view k_attr = "pin-value=";
  std::string out(uri);
  for (auto at = lowercase(out).find(k_attr); at != std::string::npos;
       at = lowercase(out).find(k_attr, at + 1)) {
    const auto begin = at + k_attr.size();
    const auto end = std::min(out.find_first_of(";?&", begin), out.size());
    out.replace(begin, end - begin, "(redacted)");
  }
  return out;
}

// The URI asked of the engine: ";type=private" added unless the path names a type already.
// Another type is refused: libp11 would hand back the private key of the same label anyway.
Result<std::string> engine_uri(std::string_view uri, const std::string& shown) {
  if (!lowercase(uri).starts_with("pkcs11:")) {
    return fail(reason::k_keys_token_absent,
                shown + ": not a PKCS#11 URI (RFC 7512: pkcs11:token=…;object=…)",
                shown);
  }
  const auto query = std::min(uri.find('?'), uri.size());
  const std::string path(uri.substr(0, query));
  const std::string lower = ";" + lowercase(path.substr(path.find(':') + 1)) + ";";
  if (const auto at = lower.find(";type="); at != std::string::npos) {
    if (lower.find(";type=private;") != at) {
      return fail(reason::k_keys_token_absent, shown + ": names no private key (type=)", shown);
    }
    return std::string(uri);
  }
  const bool open = path.ends_with(':') || path.ends_with(';');
  return path + (open ? "" : ";") + "type=private" + std::string(uri.substr(query));
}

// The module opened here first, so a missing or foreign file is reported before libp11 prints
// its own complaint on stderr; held open while the engine loads it too.
Result<ModuleHandle> open_module(const std::string& module) {
  if (module.empty()) {
    return ModuleHandle{};
  }
  ModuleHandle handle(::dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!handle) {
    const char* why = ::dlerror();  // NOLINT(concurrency-mt-unsafe): keys load on one thread
    return fail(reason::k_keys_pkcs11_unavailable,
                "cannot load the PKCS#11 module " + module + ": " + (why ? why : "unknown"),
                module);
  }
  if (::dlsym(handle.get(), "C_GetFunctionList") == nullptr) {
    return fail(reason::k_keys_pkcs11_unavailable,
                module + ": not a PKCS#11 module (it exports no C_GetFunctionList)",
                module);
  }
  return handle;
}

// The module libp11 loaded in this process; nullopt until a load got that far.
struct ModuleRecord {
  std::mutex mutex;
  std::optional<std::string> module;
};

ModuleRecord& module_record() {
  static ModuleRecord k_record;
  return k_record;
}

Status check_same_module(const ModuleRecord& record, const std::string& module) {
  if (record.module && *record.module != module) {
    const std::string used = record.module->empty() ? "the engine's default" : *record.module;
    return fail(reason::k_keys_pkcs11_unavailable,
                "the pkcs11 engine of this process already uses module " + used + ", not "
                    + (module.empty() ? "the engine's default" : module)
                    + " (one PKCS#11 module per process)",
                module);
  }
  return {};
}

void release_engine(ENGINE* e) {
  ENGINE_finish(e);
  ENGINE_free(e);
}

// The process's pkcs11 engine, configured for ref and initialised: released by the last holder.
Result<std::shared_ptr<ENGINE>> open_engine(const Pkcs11Ref& ref) {
  EnginePtr e(ENGINE_by_id("pkcs11"));
  if (!e) {
    return fail(reason::k_keys_pkcs11_unavailable,
                "cannot load OpenSSL's pkcs11 engine (package libengine-pkcs11-openssl): "
                    + ossl::drain_errors());
  }
  // QUIET is optional (older libp11 lacks it): without it libp11 prints diagnostics, the URI
  // among them, on stderr.
  if (ENGINE_ctrl_cmd_string(e.get(), "QUIET", nullptr, 1) != 1
      || (!ref.module.empty()
          && ENGINE_ctrl_cmd_string(e.get(), "MODULE_PATH", ref.module.c_str(), 0) != 1)
      || (!ref.pin.empty() && ENGINE_ctrl_cmd_string(e.get(), "PIN", ref.pin.c_str(), 0) != 1)) {
    return fail(reason::k_keys_pkcs11_unavailable,
                "the pkcs11 engine refuses its settings: " + ossl::drain_errors());
  }
  if (ENGINE_init(e.get()) != 1) {
    return fail(reason::k_keys_pkcs11_unavailable,
                "cannot initialise the pkcs11 engine: " + ossl::drain_errors());
  }
  return std::shared_ptr<ENGINE>(e.release(), release_engine);
}

// Whether libp11 asked for a PIN: it does only when the token needs one and none was given.
struct PromptState {
  bool asked = false;
};

// Answers every prompt with a failure: OpenSSL's default UI would read the terminal.
int refuse_prompt(UI* ui, UI_STRING* /*uis*/) {
  if (auto* st = static_cast<PromptState*>(UI_get0_user_data(ui))) {
    st->asked = true;
  }
  return 0;
}

tl::unexpected<Error> load_failure(const Pkcs11Ref& ref, const PromptState& prompt) {
  const std::string detail = ossl::drain_errors();
  const std::string uri = shown_uri(ref.uri);
  if (lowercase(detail).find("load pkcs#11 module") != std::string::npos) {
    return fail(reason::k_keys_pkcs11_unavailable,
                "cannot load the PKCS#11 module for " + uri + ": " + detail,
                ref.module);
  }
  if (prompt.asked) {
    return fail(
        reason::k_keys_token_absent, uri + ": the token asks for a PIN and none was given", uri);
  }
  return fail(reason::k_keys_token_absent,
              uri + ": no such token or private key, or the PIN is refused (" + detail + ")",
              uri);
}

Result<ossl::PkeyPtr> load_key(ENGINE* e, const std::string& uri, const Pkcs11Ref& ref) {
  UiMethodPtr ui(UI_create_method("ecluse: no prompt"));
  // UI_method_set_reader is the exception to "== 1": it returns 0 on success.
  if (!ui || UI_method_set_reader(ui.get(), refuse_prompt) != 0) {
    return ossl::failure("cannot make the no-prompt UI method");
  }
  PromptState prompt;
  ossl::PkeyPtr pkey(ENGINE_load_private_key(e, uri.c_str(), ui.get(), &prompt));
  if (!pkey) {
    return load_failure(ref, prompt);
  }
  // libp11 leaves notes on the queue while it searches slots.
  ERR_clear_error();
  return pkey;
}

}  // namespace

// libp11 and the engine keep process-lifetime state (RSA and EC methods, slot lists) that they
// never free (and allocate again at exit): under LeakSanitizer (the ASan build) that is not
// reported.
struct EngineStateIsNotALeak {
#if defined(__SANITIZE_ADDRESS__)
  EngineStateIsNotALeak() {
    __lsan_disable();
    // The engine's destroy callback allocates again inside OPENSSL_cleanup at exit; this
    // handler, registered after OpenSSL's (initialised first), runs before it.
    static const int k_registered = [] {
      (void)OPENSSL_init_crypto(0, nullptr);
      return std::atexit([] {
        __lsan_disable();
        OPENSSL_cleanup();
      });
    }();
    (void)k_registered;
  }

  ~EngineStateIsNotALeak() {
    __lsan_enable();
  }

  EngineStateIsNotALeak(const EngineStateIsNotALeak&) = delete;
  EngineStateIsNotALeak& operator=(const EngineStateIsNotALeak&) = delete;
#endif
};

Result<SigningKey> load_pkcs11_key(const Pkcs11Ref& ref) {
  [[maybe_unused]] const EngineStateIsNotALeak lsan_scope;
  ECLUSE_TRY(uri, engine_uri(ref.uri, shown_uri(ref.uri)));
  ECLUSE_TRY(module, open_module(ref.module));
  auto& record = module_record();
  const std::lock_guard lock(record.mutex);
  ECLUSE_CHECK(check_same_module(record, ref.module));
  ECLUSE_TRY(engine, open_engine(ref));
  auto pkey = load_key(engine.get(), uri, ref);
  if (pkey || pkey.error().reason != reason::k_keys_pkcs11_unavailable.code) {
    record.module = ref.module;
  }
  if (!pkey) {
    return fail(std::move(pkey).error());
  }
  // engine, held here too, outlives make_signing_key's copy on its failure path.
  return make_signing_key(std::move(*pkey), "pkcs11", engine);
}

}  // namespace ecluse::crypto
