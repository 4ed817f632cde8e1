# test_format: every C/C++ source of the tree is laid out as .clang-format says.
# clang-format --dry-run --Werror prints each place that differs and fails; fix with
# `clang-format -i FILE`. ROOT: the source tree; FORMAT: the clang-format program.
cmake_minimum_required(VERSION 3.25)
set(files)
foreach(dir src include tests bench fuzz examples)
  file(GLOB_RECURSE found ${ROOT}/${dir}/*.c ${ROOT}/${dir}/*.h ${ROOT}/${dir}/*.cc)
  list(APPEND files ${found})
endforeach()
list(LENGTH files n)
if(n EQUAL 0)
  message(FATAL_ERROR "test_format: no source files under ${ROOT}")
endif()
execute_process(COMMAND ${FORMAT} --style=file --dry-run --Werror ${files}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "test_format: files differ from .clang-format (clang-format -i FILE):\n${err}")
endif()
message(STATUS "test_format: ${n} files follow .clang-format")
