// The obs test program replaces the global operator new and delete (in
// allocation_counter.cpp) with versions that count allocations, so a test can
// show that a code path allocates nothing.
#pragma once

#include <cstddef>

namespace grove::obs::testing {

/// Calls to the global operator new (all forms) since the program started.
/// Thread-safe.
std::size_t allocation_count() noexcept;

}  // namespace grove::obs::testing
