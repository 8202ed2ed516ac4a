// SPDX-License-Identifier: Apache-2.0
// Where a byte offset lies in a text, for error messages about files people edit.
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>

namespace vigil {

// Line and column (both 1-based) of byte `offset` in `text` (clamped to its end).
inline std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace vigil
