# etl_warnings: an interface target every project target links for its warning flags.
# ETL_WERROR (CI sets it) turns warnings into errors.
add_library(etl_warnings INTERFACE)
# Clang (only the fuzzer's build, tests/fuzz) has no -Wshadow=local: -Wshadow-uncaptured-local.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(etl_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow=local
                                                -Wno-missing-field-initializers)
else()
  target_compile_options(etl_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow-uncaptured-local
                                                -Wno-missing-field-initializers)
endif()
# GCC 12 reports Asio's coroutine frame allocator (awaitable_frame_base's sized operator
# delete) as mismatched once coroutines are inlined at -O2: a false positive.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(etl_warnings INTERFACE -Wno-mismatched-new-delete)
endif()
if(ETL_WERROR)
  target_compile_options(etl_warnings INTERFACE -Werror)
endif()
