cmake_minimum_required(VERSION 3.22)
# Reads every #include "…" under src/ and fails on one that reaches a layer
# its file's layer may not use (CALLGATE_LAYER_USES_* in CMakeLists.txt,
# passed in as LAYERS and USES_<layer>). The build's per-layer include views
# already refuse such an include; this names every one at once, with file
# and line, including those in headers no source of the layer compiles.
# Lists come comma-separated.
string(REPLACE "," ";" LAYERS "${LAYERS}")
foreach(layer IN LISTS LAYERS)
  string(REPLACE "," ";" USES_${layer} "${USES_${layer}}")
endforeach()
file(GLOB_RECURSE sources RELATIVE ${SOURCE_DIR}/src ${SOURCE_DIR}/src/*.hpp ${SOURCE_DIR}/src/*.cpp
     ${SOURCE_DIR}/src/*.in)
set(violations "")
set(checked 0)
foreach(source IN LISTS sources)
  string(REGEX MATCH "^[^/]+" layer "${source}")
  if(NOT layer IN_LIST LAYERS)
    continue()  # main.cpp: the program itself, above every layer
  endif()
  set(allowed ${layer} ${USES_${layer}})
  file(STRINGS ${SOURCE_DIR}/src/${source} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS lines)
    math(EXPR checked "${checked} + 1")
    if(line MATCHES "#[ \t]*include[ \t]*\"([^/\"]+)/")
      set(target_layer ${CMAKE_MATCH_1})
      if(target_layer IN_LIST LAYERS AND NOT target_layer IN_LIST allowed)
        string(STRIP "${line}" line)
        list(APPEND violations "src/${source}: ${line}  (${layer} may use: ${allowed})")
      endif()
    endif()
  endforeach()
endforeach()
if(violations)
  list(JOIN violations "\n  " listed)
  message(FATAL_ERROR "includes that reach a higher layer:\n  ${listed}")
endif()
message(STATUS "${checked} includes checked: none reaches a higher layer")
