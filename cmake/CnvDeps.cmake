# External dependencies, all from Debian 12's packages (scripts/deps installs them).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
# liburcu: the read-mostly tables use the bulletproof flavour (urcu-bp): a thread registers
# itself on its first read-side section and is unregistered when it exits.
pkg_check_modules(URCU REQUIRED IMPORTED_TARGET liburcu-bp liburcu-cds)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# concurrencykit: bench peers (ck_ring) and primitives (ck_pr) where they beat our own.
pkg_check_modules(CK REQUIRED IMPORTED_TARGET ck)

# Libraries libcnv itself links; exported by name so an installed static libcnv links too.
set(CNV_LINK_NAMES urcu-bp urcu-cds urcu-common ck sodium xxhash lz4 zstd m)
add_library(cnv_deps INTERFACE)
target_link_libraries(cnv_deps INTERFACE
  PkgConfig::URCU PkgConfig::CK PkgConfig::SODIUM PkgConfig::XXHASH PkgConfig::LZ4
  PkgConfig::ZSTD Threads::Threads m)

if(CNV_BUILD_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
if(CNV_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
