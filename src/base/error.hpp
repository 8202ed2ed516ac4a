// SPDX-License-Identifier: Apache-2.0
// Error values that say what went wrong and where.
#pragma once

#include <string>
#include <vector>

#include "base/expected.hpp"

namespace vigil {

// One problem with an input. `where` locates it inside the input in the input's own terms:
// a JSON path (`population[2].zone`), a feature (`features[12] (exit "E3")`), an XML element
// with its line, or empty when the whole input is concerned.
struct Error {
  std::string where;
  std::string message;

  std::string to_string() const { return where.empty() ? message : where + ": " + message; }
};

template <class T>
using Result = Expected<T, Error>;

}  // namespace vigil
