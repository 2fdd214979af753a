// The one translation unit that holds Catch2's main(). Every test suite links it,
// so it is compiled once per build rather than once per suite.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
