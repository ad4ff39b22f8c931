# etl_add_layer(name SOURCES... [LINKS layers...] [PUBLIC_DEPS...] [PRIVATE_DEPS...]): one library
# of the layered build (docs/architecture.md, "Layers"):
#
#   etl_core      core helpers, logging, Asio and Beast compiled once
#   etl_http      URLs, the HTTP client engine, its retry policy           links core
#   etl_store     Postgres (pool, migrations, repositories) + Redis queue  links http
#   etl_metrics   registry, Prometheus text, the workers' counters         links store
#   etl_config    option parsing and the service's settings               links store
#   etl_pipelines spec loader and the domain (animals, audit)             links config, metrics
#
# Each layer's headers live in its own include/ folder, visible only to the layers that link it,
# so a header included from a layer above fails to compile instead of creating a hidden cycle.
# LINKS names the layers directly below (PUBLIC: their headers appear in this layer's headers).
# Every layer reuses etl_core's precompiled header.
function(etl_add_layer name)
  cmake_parse_arguments(arg "" "" "SOURCES;LINKS;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${arg_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(${name} PUBLIC ${arg_LINKS} ${arg_PUBLIC_DEPS}
                                PRIVATE ${arg_PRIVATE_DEPS} etl_warnings)
  if(NOT name STREQUAL "etl_core")
    target_precompile_headers(${name} REUSE_FROM etl_core)
  endif()
endfunction()
