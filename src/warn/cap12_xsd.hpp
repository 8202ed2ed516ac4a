// SPDX-License-Identifier: Apache-2.0
// The CAP 1.2 XML Schema (OASIS, unmodified), compiled into the library.
#pragma once

#include <string_view>

namespace vigil::warn {

// The exact bytes of src/warn/schema/cap12.xsd (10098 bytes, OASIS CAP-v1.2.xsd).
std::string_view cap12_xsd();

}  // namespace vigil::warn
