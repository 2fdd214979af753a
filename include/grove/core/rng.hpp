// grove/core/rng.hpp: the engine's seeded random number generator.
//
// The engine and every domain draw from this generator only, never from a
// global one or from std::random_device, so the same seed gives the same tree
// on every run. The standard distributions are implementation-defined (libstdc++
// and libc++ map the same bits to different numbers), so the draws below are
// written out here to give the same numbers on every platform.
//
// Algorithm: xoshiro256** by Blackman and Vigna, seeded through splitmix64.
// https://prng.di.unimi.it/
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

namespace grove::core {

/// A small, fast, seeded pseudo-random generator (xoshiro256**).
///
/// Satisfies std::uniform_random_bit_generator, so it also works with the
/// standard algorithms (std::shuffle), though those are not portable.
/// Thread safety: none; give each thread or coroutine its own generator.
class rng {
 public:
  using result_type = std::uint64_t;

  /// Seeds the four words of state from one 64-bit seed with splitmix64, so
  /// nearby seeds give unrelated streams.
  explicit constexpr rng(std::uint64_t seed = 42) noexcept { reseed(seed); }

  constexpr void reseed(std::uint64_t seed) noexcept {
    for (auto& word : state_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
  }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  /// The next 64 random bits.
  constexpr result_type operator()() noexcept {
    const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t shifted = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= shifted;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

  /// A uniform integer in [0, bound). Requires: bound > 0.
  /// Lemire's multiply-and-reject method: unbiased, usually one multiplication.
  constexpr std::uint32_t uniform(std::uint32_t bound) noexcept {
    std::uint64_t product = static_cast<std::uint32_t>((*this)() >> 32) * std::uint64_t{bound};
    auto low = static_cast<std::uint32_t>(product);
    if (low < bound) {
      const std::uint32_t threshold = (0u - bound) % bound;
      while (low < threshold) {
        product = static_cast<std::uint32_t>((*this)() >> 32) * std::uint64_t{bound};
        low = static_cast<std::uint32_t>(product);
      }
    }
    return static_cast<std::uint32_t>(product >> 32);
  }

  /// A uniform double in [0, 1) with 53 random bits.
  constexpr double uniform01() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

  /// A new seed derived from this stream, for handing to a concurrent worker.
  constexpr std::uint64_t split() noexcept { return (*this)(); }

 private:
  std::array<std::uint64_t, 4> state_{};
};

/// A standard normal variate (Marsaglia's polar method), from r only.
inline double sample_normal(rng& r) noexcept {
  for (;;) {
    const double u = 2.0 * r.uniform01() - 1.0;
    const double v = 2.0 * r.uniform01() - 1.0;
    const double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) {
      return u * std::sqrt(-2.0 * std::log(s) / s);
    }
  }
}

/// A Gamma(shape, 1) variate. Marsaglia and Tsang's squeeze method for shape
/// >= 1; for shape < 1 the Gamma(shape + 1) draw is scaled by U^(1 / shape).
/// https://dl.acm.org/doi/10.1145/358407.358414
/// Requires: shape > 0.
inline double sample_gamma(double shape, rng& r) noexcept {
  double scale = 1.0;
  if (shape < 1.0) {
    // 1 - uniform01() is in (0, 1], so the power is never pow(0, ...).
    scale = std::pow(1.0 - r.uniform01(), 1.0 / shape);
    shape += 1.0;
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = sample_normal(r);
    double v = 1.0 + c * x;
    if (v <= 0.0) {
      continue;
    }
    v = v * v * v;
    const double u = 1.0 - r.uniform01();
    if (u < 1.0 - 0.0331 * (x * x) * (x * x) ||
        std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) {
      return scale * d * v;
    }
  }
}

/// Fills out with a Dirichlet(alpha, ..., alpha) sample (non-negative, sums to
/// 1). When every gamma draw underflows to 0 (tiny alpha) the sample is one-hot
/// on a uniformly chosen entry, which is the limit of that distribution.
/// Requires: alpha > 0.
inline void sample_dirichlet(double alpha, std::span<double> out, rng& r) noexcept {
  if (out.empty()) {
    return;
  }
  double sum = 0.0;
  for (double& x : out) {
    x = sample_gamma(alpha, r);
    sum += x;
  }
  if (sum > 0.0) {
    for (double& x : out) {
      x /= sum;
    }
    return;
  }
  const std::uint32_t pick = r.uniform(static_cast<std::uint32_t>(out.size()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = i == pick ? 1.0 : 0.0;
  }
}

}  // namespace grove::core
