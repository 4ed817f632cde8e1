# External libraries, all from Debian 12's packages (scripts/deps installs them).
# Each library that libcnv links is an interface target cnv_ext_<name>, linked only by the
# modules that use it (cnv_module's LIBS); its property CNV_LINK_NAMES holds the -l names it
# stands for, from which the installed libcnv.a's link interface and cnv.pc's Libs.private are
# made (CnvLibrary.cmake). Test and bench libraries are looked for only when those are built.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

# cnv_external(<name> [PKG <pkg-config modules...>] [TARGET <imported target>] [NAMES <-l names>])
# PKG: found with pkg-config (the -l names come from it); TARGET and NAMES: anything else.
# Declared so that a library comes before those it needs (the system ones last): that is the
# order of the static link line.
function(cnv_external name)
  cmake_parse_arguments(E "" "TARGET" "PKG;NAMES" ${ARGN})
  add_library(cnv_ext_${name} INTERFACE)
  set(names ${E_NAMES})
  if(E_PKG)
    string(TOUPPER "CNV_EXT_${name}" prefix)
    pkg_check_modules(${prefix} REQUIRED IMPORTED_TARGET GLOBAL ${E_PKG})
    target_link_libraries(cnv_ext_${name} INTERFACE PkgConfig::${prefix})
    list(APPEND names ${${prefix}_LIBRARIES})
  elseif(E_TARGET)
    target_link_libraries(cnv_ext_${name} INTERFACE ${E_TARGET})
  else()
    target_link_libraries(cnv_ext_${name} INTERFACE ${names})
  endif()
  set_target_properties(cnv_ext_${name} PROPERTIES CNV_LINK_NAMES "${names}")
  set_property(GLOBAL APPEND PROPERTY CNV_EXTERNALS ${name})
endfunction()

# liburcu, bulletproof flavour (urcu-bp): a thread registers itself on its first read-side
# section and is unregistered when it exits.
cnv_external(urcu PKG liburcu-bp liburcu-cds)
cnv_external(sodium PKG libsodium)
cnv_external(xxhash PKG libxxhash)
cnv_external(lz4 PKG liblz4)
cnv_external(zstd PKG libzstd)
# libuv: the server module's event loops.
cnv_external(uv PKG libuv)
# jansson: the mcp module's JSON (parses and writes every MCP message; docs/mcp.md).
cnv_external(jansson PKG jansson)
# libmicrohttpd: the mcp_http module's HTTP server (MCP's Streamable HTTP; docs/mcp-http.md).
cnv_external(microhttpd PKG libmicrohttpd)
# libnats (the NATS C client): the nats module's connections, queue groups, JetStream stream
# and key-value bucket (docs/nats.md).
cnv_external(nats PKG libnats)
cnv_external(threads TARGET Threads::Threads NAMES pthread)
cnv_external(m NAMES m)

# cnv_resolve_part(PART FOUND WHAT): turns CNV_BUILD_<PART> (ON, OFF or AUTO) into ON or OFF
# for the rest of the configure. ON with FOUND false is an error naming WHAT to install; AUTO
# is ON when libcnv is the top-level project and FOUND is true.
function(cnv_resolve_part part found what)
  set(v ${CNV_BUILD_${part}})
  if(v STREQUAL "AUTO")
    if(NOT PROJECT_IS_TOP_LEVEL)
      set(v OFF)
    elseif(found)
      set(v ON)
    else()
      message(STATUS "libcnv: ${part} left out: ${what} not found (-DCNV_BUILD_${part}=ON requires it)")
      set(v OFF)
    endif()
  elseif(v AND NOT found)
    message(FATAL_ERROR "CNV_BUILD_${part}=ON needs ${what} (scripts/deps --test installs it)")
  endif()
  if(v)
    set(CNV_BUILD_${part} ON PARENT_SCOPE)
  else()
    set(CNV_BUILD_${part} OFF PARENT_SCOPE)
  endif()
endfunction()

# Looked for only when the part may be built.
if(CNV_BUILD_TESTS)
  pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET cmocka)
endif()
cnv_resolve_part(TESTS "${CMOCKA_FOUND}" "cmocka (libcmocka-dev)")

# The bench: Google Benchmark (C++, so a C++ compiler), concurrencykit, cJSON, SQLite and igraph,
# the peer implementations it compares with (ck_ring; cJSON beside the mcp module's jansson;
# SQLite beside the ledger's durable appends; igraph beside the graph module's queries); nothing
# in the library links any of them.
set(cnv_bench_found FALSE)
if(CNV_BUILD_BENCH)
  include(CheckLanguage)
  check_language(CXX)
  if(CMAKE_CXX_COMPILER)
    enable_language(CXX)
    find_package(benchmark QUIET)
    pkg_check_modules(CK QUIET IMPORTED_TARGET ck)
    pkg_check_modules(CJSON QUIET IMPORTED_TARGET libcjson)
    pkg_check_modules(SQLITE3 QUIET IMPORTED_TARGET sqlite3)
    pkg_check_modules(IGRAPH QUIET IMPORTED_TARGET igraph)
    if(benchmark_FOUND AND CK_FOUND AND CJSON_FOUND AND SQLITE3_FOUND AND IGRAPH_FOUND)
      set(cnv_bench_found TRUE)
    endif()
  endif()
endif()
cnv_resolve_part(BENCH "${cnv_bench_found}"
  "a C++ compiler (g++), Google Benchmark (libbenchmark-dev), concurrencykit (libck-dev), cJSON (libcjson-dev), SQLite (libsqlite3-dev) and igraph (libigraph-dev)")

# Fuzz targets build as replay drivers with the C compiler alone; libFuzzer needs clang's C++.
if(CNV_FUZZ_ENGINE)
  enable_language(CXX)
endif()
cnv_resolve_part(FUZZ TRUE "nothing")
