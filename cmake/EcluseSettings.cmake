# Compiler settings shared by ecluse's own targets: warnings, hardening, sanitizers.
add_library(ecluse_settings INTERFACE)
target_compile_features(ecluse_settings INTERFACE cxx_std_20)
target_compile_options(ecluse_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wformat=2
  -Wnon-virtual-dtor -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<CXX_COMPILER_ID:GNU>:-Wduplicated-cond -Wduplicated-branches -Wlogical-op>
  $<$<BOOL:${ECLUSE_WERROR}>:-Werror>
  # g++ 12 reports false -Wrestrict positives on `"literal" + std::string` at -O2 (GCC bug 105329).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  -fstack-protector-strong -fPIE)
target_compile_definitions(ecluse_settings INTERFACE
  OPENSSL_API_COMPAT=30000 OPENSSL_NO_DEPRECATED
  $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)
target_link_options(ecluse_settings INTERFACE -pie -Wl,-z,relro,-z,now)
if(NOT ECLUSE_SANITIZE)
  target_compile_definitions(ecluse_settings INTERFACE
    $<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
endif()
if(ECLUSE_SANITIZE)
  target_compile_options(ecluse_settings INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(ecluse_settings INTERFACE -fsanitize=address,undefined)
endif()
