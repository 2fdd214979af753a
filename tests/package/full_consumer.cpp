// Links grove::grove from the installed package through the umbrella header, so
// every public header must be installed and every dependency found, and calls
// into each compiled part so their libraries must link.
#include <cstdio>
#include <string>

#include "grove/grove.hpp"

int main() {
  grove::result<int> answer = 42;
  if (!answer || *answer != 42) {
    std::fprintf(stderr, "full_consumer: grove::result does not hold its value\n");
    return 1;
  }

  // grove::runtime (obs): a bearer token never survives redaction.
  const std::string line = grove::obs::redact("Authorization: Bearer sk-abcdefghijklmnop1234");
  if (line.find("sk-abcdefghijklmnop1234") != std::string::npos) {
    std::fprintf(stderr, "full_consumer: redaction left the key in: %s\n", line.c_str());
    return 1;
  }

  // grove::adapters (storage): SHA-256 of the empty string.
  const std::string empty_hash = grove::storage::sigv4::sha256_hex(std::string_view{});
  if (empty_hash != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") {
    std::fprintf(stderr, "full_consumer: unexpected SHA-256 %s\n", empty_hash.c_str());
    return 1;
  }

  // grove::agents: its error category is linked in.
  std::printf("full_consumer: linked grove::grove (%s)\n", grove::agents::agents_category().name());
  return 0;
}
