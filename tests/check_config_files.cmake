# The config files shipped in conf/ must pass callgated --check-config.
foreach(file callgate.yaml dev.yaml)
  execute_process(COMMAND ${CALLGATED} --check-config --config ${SOURCE_DIR}/conf/${file}
                  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "conf/${file} is not valid:\n${output}${errors}")
  endif()
  message(STATUS "conf/${file}: ${output}")
endforeach()
