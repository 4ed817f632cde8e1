# test_layering: every include in a module (its src/<m>/ files and include/cnv/<m>.h) matches
# the module's DEPENDS as CMake has them (GRAPH, written by cnv_write_module_graph):
#   - a public header <cnv/X.h> of module X only where X is the module itself or in DEPENDS
#     (<cnv/core.h>, <cnv/status.h>, <cnv/version.h>, status_codes/ and "core/atomic.h" are
#     core's); never the umbrella <cnv.h>;
#   - no path into another folder ("delegation/deleg.h", "../x.h"): private headers only by
#     plain name, from the module's own folder;
#   - every DEPENDS edge is used by some include, so the edges are the real dependencies.
# Run with -DROOT=<source dir> -DGRAPH=<build dir>/cnv_module_graph.cmake.
cmake_minimum_required(VERSION 3.25)
include(${GRAPH})

# Known violations, each to be removed by the named work; a listed line that no longer
# exists fails the test, so the list cannot go stale. Entries: "<file>|<include text>".
set(known_violations
  # issue 11 item 3: the scenario and its token forger leave the runtime.
  "src/runtime/scenario_tokens.c|#include \"../delegation/deleg.h\"")

set(errors "")
set(seen_known "")
foreach(m IN LISTS cnv_modules)
  file(GLOB_RECURSE srcs ${ROOT}/src/${m}/*.c ${ROOT}/src/${m}/*.h)
  if(EXISTS ${ROOT}/include/cnv/${m}.h)
    list(APPEND srcs ${ROOT}/include/cnv/${m}.h)
  endif()
  set(used "")
  foreach(f IN LISTS srcs)
    file(RELATIVE_PATH rel ${ROOT} ${f})
    set(public_header OFF)
    if(rel MATCHES "^include/cnv/")
      set(public_header ON)
    endif()
    file(STRINGS ${f} incs REGEX "^#[ \t]*include[ \t]*[<\"]")
    foreach(inc IN LISTS incs)
      string(STRIP "${inc}" inc)
      set(target "")
      if("${rel}|${inc}" IN_LIST known_violations)
        list(APPEND seen_known "${rel}|${inc}")
        continue()
      endif()
      if(inc MATCHES "[<\"]cnv\\.h[>\"]")
        string(APPEND errors "${rel}: includes the umbrella <cnv.h>\n")
      elseif(inc MATCHES "[<\"](cnv/)?status_codes/")
        set(target core)
      elseif(inc MATCHES "[<\"]cnv/([a-z_]+)\\.h[>\"]")
        set(target ${CMAKE_MATCH_1})
      elseif(public_header AND inc MATCHES "\"([a-z_]+)\\.h\"")
        set(target ${CMAKE_MATCH_1})
      elseif(inc MATCHES "\"core/atomic\\.h\"")
        set(target core)
      elseif(inc MATCHES "\"[^\"]*/[^\"]*\"")
        string(APPEND errors "${rel} (module ${m}): ${inc} reaches outside the module's folder\n")
      endif()
      if(target MATCHES "^(status|version)$")
        set(target core)
      endif()
      if(target AND target IN_LIST cnv_modules AND NOT target STREQUAL m)
        if(NOT target IN_LIST cnv_depends_${m})
          string(APPEND errors "${rel} (module ${m}): ${inc} uses ${target}, not in DEPENDS (${cnv_depends_${m}})\n")
        endif()
        list(APPEND used ${target})
      endif()
    endforeach()
  endforeach()
  foreach(d IN LISTS cnv_depends_${m})
    if(NOT d IN_LIST used)
      string(APPEND errors "module ${m}: DEPENDS ${d}, but no include of ${m} uses it\n")
    endif()
  endforeach()
endforeach()
foreach(k IN LISTS known_violations)
  if(NOT k IN_LIST seen_known)
    string(APPEND errors "known violation gone, remove it from check_layers.cmake: ${k}\n")
  endif()
endforeach()
if(errors)
  message(FATAL_ERROR "layering:\n${errors}")
endif()
message(STATUS "layering matches the CMake edges of: ${cnv_modules}")
