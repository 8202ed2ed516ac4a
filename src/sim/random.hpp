// SPDX-License-Identifier: Apache-2.0
// Portable random numbers. std::mt19937_64 is specified bit for bit by the standard, but the
// std distributions are not, so the same seed would give different people on another standard
// library. Everything the simulation samples goes through this file instead.
#pragma once

#include <cstdint>
#include <random>

namespace vigil::sim {

// A 64-bit mixer (SplitMix64 finaliser): derives independent stream seeds from one seed.
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream);

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t next() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform01();
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }
  // Uniform integer in [0, n); n > 0. Unbiased (rejection).
  std::uint64_t below(std::uint64_t n);
  // Standard normal (Marsaglia polar method).
  double normal();

 private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace vigil::sim
