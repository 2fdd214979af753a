// grove/core/assert.hpp: GROVE_ASSERT, for internal invariants only.
//
// GROVE_ASSERT(cond, msg) checks a condition that can only fail through a bug
// in grove (a visit count gone negative, a node expanded twice, a virtual loss
// never reverted). It is on in builds without NDEBUG and in builds that define
// GROVE_ENABLE_ASSERTS (the sanitizer presets), and compiles to nothing
// otherwise. Never use it for user input or remote data: those get a
// grove::result or an exception with a message.
#pragma once

#include <cstdio>
#include <cstdlib>

#if !defined(NDEBUG) || defined(GROVE_ENABLE_ASSERTS)
#define GROVE_ASSERTS_ENABLED 1
#else
#define GROVE_ASSERTS_ENABLED 0
#endif

namespace grove::detail {

// Printing here is the one exception to "the library never prints": an
// assertion failure is a bug report, and the process ends on the next line.
[[noreturn]] inline void assertion_failed(const char* condition, const char* message,
                                          const char* file, int line) noexcept {
  std::fprintf(stderr, "%s:%d: grove assertion failed: %s (%s)\n", file, line, message, condition);
  std::abort();
}

}  // namespace grove::detail

#if GROVE_ASSERTS_ENABLED
#define GROVE_ASSERT(condition, message) \
  ((condition) ? static_cast<void>(0)    \
               : ::grove::detail::assertion_failed(#condition, message, __FILE__, __LINE__))
#else
#define GROVE_ASSERT(condition, message) static_cast<void>(0)
#endif
