# etl_text_entries(<out_var> <delimiter> <name_prefix> <file>...): the body of a C++ array of
# {name, text} pairs, one line `{"<name_prefix><file name>", R"<delimiter>(<text>)<delimiter>"},`
# per file, in the order given, so that binaries carry those files (the migrations, the pipeline
# specs). Editing a file re-runs the configure step. A file holding `)<delimiter>"` is an error.
function(etl_text_entries out_var delimiter name_prefix)
  set(entries "")
  foreach(file IN LISTS ARGN)
    get_filename_component(name ${file} NAME)
    file(READ ${file} text)
    if(text MATCHES "\\)${delimiter}\"")
      message(FATAL_ERROR "${name} contains the raw-string delimiter )${delimiter}\"")
    endif()
    string(APPEND entries "    {\"${name_prefix}${name}\", R\"${delimiter}(${text})${delimiter}\"},\n")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
  endforeach()
  set(${out_var} "${entries}" PARENT_SCOPE)
endfunction()
