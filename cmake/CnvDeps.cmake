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
cnv_external(threads TARGET Threads::Threads NAMES pthread)
cnv_external(m NAMES m)

if(CNV_BUILD_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
if(CNV_BUILD_BENCH)
  find_package(benchmark REQUIRED)
  # concurrencykit: the bench's peer implementations (ck_ring), nothing in the library.
  pkg_check_modules(CK REQUIRED IMPORTED_TARGET ck)
endif()
