// SPDX-License-Identifier: Apache-2.0
// exp(x) as plain arithmetic that the compiler can vectorise (the library exp is a call per
// value): x = k ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor series to degree 11 (relative
// error below 1e-14), 2^k put into the exponent bits. For -700 <= x <= 700 (clamped there).
// The same input gives the same output in a vector lane and in scalar code.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>

namespace vigil::sim {

inline double fast_exp(double x) {
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln 2 split for an exact k ln 2
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShifter = 0x1.8p52;  // adding it rounds to an integer kept in the low bits
  x = x < -700.0 ? -700.0 : x;
  x = x > 700.0 ? 700.0 : x;
  const double kd_shifted = x * kLog2e + kShifter;
  const auto k_bits = std::bit_cast<std::uint64_t>(kd_shifted);
  const double kd = kd_shifted - kShifter;
  const double r = (x - kd * kLn2Hi) - kd * kLn2Lo;
  double p = 1.0 / 39916800;  // 1/11!
  p = p * r + 1.0 / 3628800;
  p = p * r + 1.0 / 362880;
  p = p * r + 1.0 / 40320;
  p = p * r + 1.0 / 5040;
  p = p * r + 1.0 / 720;
  p = p * r + 1.0 / 120;
  p = p * r + 1.0 / 24;
  p = p * r + 1.0 / 6;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // k sits in the low bits of k_bits (two's complement); shifted into the exponent field it
  // multiplies p (in [0.7, 1.42]) by 2^k.
  return std::bit_cast<double>(std::bit_cast<std::uint64_t>(p) + (k_bits << 52));
}

}  // namespace vigil::sim
