# libcnv.so (cnv::cnv) and libcnv.a (cnv::cnv_static): the aggregate of the library modules
# (CNV_LIBRARY_MODULES), with install rules, cnvConfig.cmake for find_package(cnv) and cnv.pc
# for pkg-config. What they link is the union of those modules' LIBS, nothing written twice.
set(cnv_obj_exprs)
set(cnv_used_libs)
foreach(m IN LISTS CNV_LIBRARY_MODULES)
  if(TARGET cnv_mod_${m})
    list(APPEND cnv_obj_exprs $<TARGET_OBJECTS:cnv_mod_${m}>)
    get_target_property(libs cnv_mod_${m} CNV_LIBS)
    list(APPEND cnv_used_libs ${libs})
  endif()
endforeach()
# In declaration order (CnvDeps.cmake); a -l name that appears twice keeps its last place.
get_property(cnv_externals GLOBAL PROPERTY CNV_EXTERNALS)
set(cnv_ext_targets)
set(CNV_LINK_NAMES)
foreach(e IN LISTS cnv_externals)
  if(e IN_LIST cnv_used_libs)
    list(APPEND cnv_ext_targets cnv_ext_${e})
    get_target_property(names cnv_ext_${e} CNV_LINK_NAMES)
    list(APPEND CNV_LINK_NAMES ${names})
  endif()
endforeach()
list(REVERSE CNV_LINK_NAMES)
list(REMOVE_DUPLICATES CNV_LINK_NAMES)
list(REVERSE CNV_LINK_NAMES)

add_library(cnv SHARED ${cnv_obj_exprs})
add_library(cnv_static STATIC ${cnv_obj_exprs})
set_target_properties(cnv PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
set_target_properties(cnv_static PROPERTIES OUTPUT_NAME cnv)
target_link_libraries(cnv PRIVATE ${cnv_ext_targets})
target_link_libraries(cnv_static INTERFACE "$<BUILD_INTERFACE:${cnv_ext_targets}>"
  "$<INSTALL_INTERFACE:${CNV_LINK_NAMES}>")
foreach(t cnv cnv_static)
  target_link_libraries(${t} INTERFACE $<BUILD_INTERFACE:cnv_headers>)
  target_include_directories(${t} INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()
add_library(cnv::cnv ALIAS cnv)
add_library(cnv::cnv_static ALIAS cnv_static)

install(TARGETS cnv cnv_static EXPORT cnvTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/ ${PROJECT_BINARY_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT cnvTargets NAMESPACE cnv:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cnv)
install(FILES LICENSE CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

include(CMakePackageConfigHelpers)
configure_package_config_file(cmake/cnvConfig.cmake.in ${PROJECT_BINARY_DIR}/cnvConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cnv)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cnvConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cnvConfig.cmake ${PROJECT_BINARY_DIR}/cnvConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cnv)

list(TRANSFORM CNV_LINK_NAMES PREPEND "-l" OUTPUT_VARIABLE cnv_pc_libs)
list(JOIN cnv_pc_libs " " CNV_PC_PRIVATE_LIBS)
# Relocatable: the prefix is found from the .pc file's own folder, so `cmake --install build
# --prefix DIR` works whatever CMAKE_INSTALL_PREFIX was at configure time.
file(RELATIVE_PATH CNV_PC_PREFIX_FROM_PCDIR /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" CNV_PC_PREFIX_FROM_PCDIR "${CNV_PC_PREFIX_FROM_PCDIR}")
configure_file(cmake/cnv.pc.in ${PROJECT_BINARY_DIR}/cnv.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cnv.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
