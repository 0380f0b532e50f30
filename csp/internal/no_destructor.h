#pragma once
// NoDestructor<T>: a T that is constructed in place and never destroyed, for process-lifetime
// singletons (csp's timer thread and network poller).
//
// Contract:
//  - The T is built by NoDestructor's constructor and lives until the process ends; its
//    destructor never runs, and NoDestructor's own destructor is trivial, so a function-local
//    `static NoDestructor<T>` registers nothing with atexit.
//  - Meant for function-local statics: their initialisation is thread-safe and happens before
//    any use through the returned reference.
//  - Why not absl::NoDestructor: it appeared in Abseil 2023-08; we build against the distro's
//    20220623, which lacks it. This is the same idea, kept to what csp needs.

#include <cstddef>
#include <new>
#include <utility>

namespace csp::internal {

template <class T>
class NoDestructor {
 public:
  template <class... Args>
  explicit NoDestructor(Args&&... args) {
    ::new (static_cast<void*>(storage_)) T(std::forward<Args>(args)...);
  }
  NoDestructor(const NoDestructor&) = delete;
  NoDestructor& operator=(const NoDestructor&) = delete;

  T& get() noexcept { return *std::launder(reinterpret_cast<T*>(storage_)); }
  T& operator*() noexcept { return get(); }
  T* operator->() noexcept { return &get(); }

 private:
  alignas(T) std::byte storage_[sizeof(T)];
};

}  // namespace csp::internal
