// XXH3-64 state keys against the SHA-256 hex digests the Python system used,
// over the same bytes. Run: grove_core_bench --benchmark_filter=hash
//
// The baseline is as fast as OpenSSL allows: one EVP_MD_CTX and one fetched
// EVP_MD reused for every digest, then the 32 bytes written as 64 hex digits
// (what hashlib's hexdigest() returns). The inputs are 1,024 different states
// taken from random Connect Four games (16 bytes each), and 64- and 256-byte
// buffers for longer canonical encodings.
#include <openssl/evp.h>

#include <benchmark/benchmark.h>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "connect4/connect4.hpp"
#include "grove/core/hash.hpp"
#include "grove/core/rng.hpp"

namespace {

namespace c4 = grove::examples::connect4;

constexpr std::size_t input_count = 1024;

/// `input_count` byte strings of `size` bytes: Connect Four positions from
/// random games, repeated to fill longer sizes.
std::vector<std::string> make_inputs(std::size_t size) {
  grove::core::rng random(/*seed=*/1);
  const c4::game game(c4::playout_policy::uniform);
  std::vector<std::string> inputs;
  std::vector<c4::move> moves;
  while (inputs.size() < input_count) {
    c4::position board;
    while (!game.is_terminal(board) && inputs.size() < input_count) {
      std::string bytes;
      while (bytes.size() < size) {
        bytes.append(reinterpret_cast<const char*>(&board), sizeof(board));
      }
      bytes.resize(size);
      inputs.push_back(std::move(bytes));
      game.legal_actions(board, moves);
      game.apply(board, moves[random.uniform(static_cast<std::uint32_t>(moves.size()))]);
    }
  }
  return inputs;
}

void BM_hash_xxh3(benchmark::State& state) {
  const auto inputs = make_inputs(static_cast<std::size_t>(state.range(0)));
  std::size_t next = 0;
  for (auto _ : state) {
    const std::string& bytes = inputs[next++ % input_count];
    benchmark::DoNotOptimize(grove::core::hash_bytes(bytes.data(), bytes.size()));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_hash_sha256_hex(benchmark::State& state) {
  const auto inputs = make_inputs(static_cast<std::size_t>(state.range(0)));
  const std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> sha256(
      EVP_MD_fetch(nullptr, "SHA256", nullptr), &EVP_MD_free);
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                        &EVP_MD_CTX_free);
  if (!sha256 || !context) {
    state.SkipWithError("OpenSSL has no SHA-256");
    return;
  }
  constexpr char hex_digits[] = "0123456789abcdef";
  std::size_t next = 0;
  std::string hex(64, '0');
  for (auto _ : state) {
    const std::string& bytes = inputs[next++ % input_count];
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestInit_ex(context.get(), sha256.get(), nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), bytes.data(), bytes.size()) != 1 ||
        EVP_DigestFinal_ex(context.get(), digest, &length) != 1) {
      state.SkipWithError("EVP digest failed");
      break;
    }
    for (unsigned int at = 0; at < length; ++at) {
      hex[2 * at] = hex_digits[digest[at] >> 4];
      hex[2 * at + 1] = hex_digits[digest[at] & 15];
    }
    benchmark::DoNotOptimize(hex.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

}  // namespace

BENCHMARK(BM_hash_xxh3)->Arg(16)->Arg(64)->Arg(256);
BENCHMARK(BM_hash_sha256_hex)->Arg(16)->Arg(64)->Arg(256);
