# cnv_module(NAME <m> SOURCES <files...>): one module's code as an object library.
# Every module's objects go into both libcnv.so and libcnv.a (see CnvLibrary.cmake).
# Sources needing their own flags (SIMD) set them with set_source_files_properties in the
# module's folder: the object library lives there, so the properties apply.
function(cnv_module)
  cmake_parse_arguments(M "" "NAME" "SOURCES" ${ARGN})
  set(t cnv_mod_${M_NAME})
  add_library(${t} OBJECT ${M_SOURCES})
  target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(${t} PRIVATE CNV_BUILDING_LIBRARY _GNU_SOURCE)
  target_link_libraries(${t} PRIVATE cnv_deps cnv_warnings)
  set_property(GLOBAL APPEND PROPERTY CNV_MODULE_TARGETS ${t})
endfunction()
