# Warnings for our own code (interface target `cnv_warnings`) and whole-build sanitizers.
add_library(cnv_warnings INTERFACE)
target_compile_options(cnv_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wvla -Wformat=2 -Wundef -Wcast-align>
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>
  $<$<BOOL:${CNV_WERROR}>:-Werror>)

if(CNV_SANITIZE)
  add_compile_options(-fsanitize=${CNV_SANITIZE} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${CNV_SANITIZE})
  if(CNV_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()

# Sanitized binaries run under `setarch -R`: high mmap ASLR entropy breaks ASan/TSan otherwise.
if(CNV_SANITIZE)
  set(CNV_TEST_LAUNCHER setarch ${CMAKE_SYSTEM_PROCESSOR} -R)
else()
  set(CNV_TEST_LAUNCHER)
endif()
