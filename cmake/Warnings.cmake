# SPDX-License-Identifier: Apache-2.0
# vigil_target_warnings(TARGET): the project's warning set for its own code (never for deps,
# whose headers are included as SYSTEM).
function(vigil_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
    -Wimplicit-fallthrough)
  if(VIGIL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
