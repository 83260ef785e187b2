# merge-static.cmake - run by the build (cmake -P) after the two Swift
# static libraries are built:
#  1. merge them into one libdaxmodel.a (members are renamed
#     <archive>-<index>-<name>: sources in different folders, or in both
#     modules, may share a file name);
#  2. ask swift-autolink-extract which runtime libraries the archive needs;
#  3. fill %SWIFT_LIBS% (space-separated) and %SWIFT_LIBS_LIST% (a CMake
#     list) in the TEMPLATES, writing OUTPUTS.
# Inputs: AR OUTPUT INPUTS AUTOLINK_EXTRACT TEMPLATES OUTPUTS
cmake_minimum_required(VERSION 3.25)
foreach(v AR OUTPUT INPUTS AUTOLINK_EXTRACT TEMPLATES OUTPUTS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "merge-static.cmake: ${v} is not set")
  endif()
endforeach()

set(work "${OUTPUT}.d")
file(REMOVE_RECURSE "${work}")
file(REMOVE "${OUTPUT}")
set(objects "")
set(n 0)
foreach(archive IN LISTS INPUTS)
  math(EXPR n "${n} + 1")
  execute_process(COMMAND "${AR}" t "${archive}"
    OUTPUT_VARIABLE members RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${AR} t ${archive} failed")
  endif()
  string(REGEX REPLACE "\n$" "" members "${members}")
  string(REPLACE "\n" ";" members "${members}")
  # One member at a time, by name and instance (ar xN): two sources of
  # the same name in different folders give two members of the same name.
  set(i 0)
  set(seen "")
  foreach(m IN LISTS members)
    math(EXPR i "${i} + 1")
    list(APPEND seen "${m}")
    set(k 0)
    foreach(s IN LISTS seen)
      if(s STREQUAL m)
        math(EXPR k "${k} + 1")
      endif()
    endforeach()
    file(MAKE_DIRECTORY "${work}/x")
    execute_process(COMMAND "${AR}" xN ${k} "${archive}" "${m}"
      WORKING_DIRECTORY "${work}/x" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0 OR NOT EXISTS "${work}/x/${m}")
      message(FATAL_ERROR "${AR} xN ${k} ${archive} ${m} failed")
    endif()
    set(obj "${n}-${i}-${m}")
    file(RENAME "${work}/x/${m}" "${work}/${obj}")
    list(APPEND objects "${obj}")
  endforeach()
endforeach()
if(NOT objects)
  message(FATAL_ERROR "merge-static.cmake: no objects in ${INPUTS}")
endif()
execute_process(COMMAND "${AR}" qcs "${OUTPUT}" ${objects}
  WORKING_DIRECTORY "${work}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${AR} qcs ${OUTPUT} failed")
endif()
file(REMOVE_RECURSE "${work}")

execute_process(COMMAND "${AUTOLINK_EXTRACT}" "${OUTPUT}" -o -
  OUTPUT_VARIABLE autolink RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${AUTOLINK_EXTRACT} ${OUTPUT} failed")
endif()
string(REGEX REPLACE "[\r\n]+" ";" autolink "${autolink}")
set(libs "")
foreach(l IN LISTS autolink)
  string(STRIP "${l}" l)
  if(l STREQUAL "" OR l MATCHES "^-ldaxmodel")
    continue()
  endif()
  list(APPEND libs "${l}")
endforeach()
list(REMOVE_DUPLICATES libs)
list(JOIN libs " " libs_spaced)

foreach(tmpl out IN ZIP_LISTS TEMPLATES OUTPUTS)
  file(READ "${tmpl}" text)
  string(REPLACE "%SWIFT_LIBS_LIST%" "${libs}" text "${text}")
  string(REPLACE "%SWIFT_LIBS%" "${libs_spaced}" text "${text}")
  file(WRITE "${out}" "${text}")
endforeach()
