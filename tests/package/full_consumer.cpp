// Links grove::grove from the installed package and uses the umbrella header,
// so every public header must be installed and every dependency found.
#include <cstdio>

#include "grove/grove.hpp"

int main() {
  grove::result<int> answer = 42;
  if (!answer || *answer != 42) {
    std::fprintf(stderr, "full_consumer: grove::result does not hold its value\n");
    return 1;
  }
  std::printf("full_consumer: linked grove::grove\n");
  return 0;
}
