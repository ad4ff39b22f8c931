# etl_warnings: an interface target every project target links for its warning flags.
# ETL_WERROR (CI sets it) turns warnings into errors.
add_library(etl_warnings INTERFACE)
target_compile_options(etl_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow=local
                                              -Wno-missing-field-initializers)
if(ETL_WERROR)
  target_compile_options(etl_warnings INTERFACE -Werror)
endif()
