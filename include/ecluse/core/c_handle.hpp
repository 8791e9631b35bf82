// Owning smart pointers for C library handles, chosen by their free function.
#pragma once

#include <memory>

namespace ecluse {

template <auto FreeFn>
struct CFree {
  template <class T>
  void operator()(T* p) const noexcept {
    if (p != nullptr) {
      FreeFn(p);
    }
  }
};

template <class T, auto FreeFn>
using CHandle = std::unique_ptr<T, CFree<FreeFn>>;

}  // namespace ecluse
