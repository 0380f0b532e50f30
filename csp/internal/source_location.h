#pragma once
// csp::SourceLocation: std::source_location where the standard library has it, else the same
// from the compiler builtins (clang 14 with libstdc++ 12, the fuzz build, lacks the builtin that
// std::source_location needs). Only what the goroutine dump uses.

#include <cstdint>
#include <version>

#if defined(__cpp_lib_source_location)
#include <source_location>
namespace csp {
using SourceLocation = std::source_location;
}  // namespace csp
#else
namespace csp {
class SourceLocation {
 public:
  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          std::uint_least32_t line = __builtin_LINE(),
                                          const char* function = __builtin_FUNCTION()) noexcept {
    SourceLocation l;
    l.file_ = file;
    l.line_ = line;
    l.function_ = function;
    return l;
  }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr std::uint_least32_t line() const noexcept { return line_; }
  constexpr const char* function_name() const noexcept { return function_; }

 private:
  const char* file_ = "";
  std::uint_least32_t line_ = 0;
  const char* function_ = "";
};
}  // namespace csp
#endif
