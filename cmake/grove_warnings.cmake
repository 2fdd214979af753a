# Warning flags for grove's own targets. Third-party headers come in as system
# includes, so -Werror applies to our code only.

function(grove_target_warnings target)
  get_target_property(target_type ${target} TYPE)
  if(target_type STREQUAL "INTERFACE_LIBRARY")
    return()
  endif()
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(GROVE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()

  # Known false positives of g++ 12 in instrumented builds: libstdc++ <regex>
  # (pulled in by Catch's main) trips -Wmaybe-uninitialized, inline xxHash
  # trips -Warray-bounds, both sanitizers make g++ report the sized operator
  # delete of Asio's coroutine frames as mismatched (-Wmismatched-new-delete;
  # the frames do pair it with their own operator new), and TSan warns about
  # every atomic fence Asio uses.
  if(GROVE_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE
      -Wno-maybe-uninitialized -Wno-array-bounds -Wno-mismatched-new-delete)
    if(GROVE_SANITIZE MATCHES "thread")
      target_compile_options(${target} PRIVATE -Wno-tsan)
    endif()
  endif()
endfunction()
