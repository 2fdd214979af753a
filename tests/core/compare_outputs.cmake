# Runs two programs and fails unless their standard outputs are identical.
# Usage: cmake -DFIRST=<exe> -DSECOND=<exe> -P compare_outputs.cmake
execute_process(COMMAND ${FIRST} OUTPUT_VARIABLE first_output RESULT_VARIABLE first_status)
execute_process(COMMAND ${SECOND} OUTPUT_VARIABLE second_output RESULT_VARIABLE second_status)
if(NOT first_status EQUAL 0 OR NOT second_status EQUAL 0)
  message(FATAL_ERROR "probe failed: ${first_status} / ${second_status}")
endif()
if(first_output STREQUAL "")
  message(FATAL_ERROR "probe printed nothing")
endif()
if(NOT first_output STREQUAL second_output)
  message(FATAL_ERROR "outputs differ:\n${FIRST}:\n${first_output}\n${SECOND}:\n${second_output}")
endif()
