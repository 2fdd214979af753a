# Helpers that keep the per-area CMake files short and uniform.
#
# Sources are picked up by directory: a compiled component owns every .cpp file
# under its source folders, and a test suite owns every *_test.cpp file in its
# folder. Adding a file needs a re-configure, which CONFIGURE_DEPENDS triggers.

# grove_add_component(NAME <name> DIRS <src dirs...> LINK <libraries...>)
# Defines the static library grove_<name>, exported as grove::<name>.
function(grove_add_component)
  cmake_parse_arguments(arg "" "NAME" "DIRS;LINK" ${ARGN})
  set(sources "")
  foreach(dir IN LISTS arg_DIRS)
    file(GLOB dir_sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/${dir}/*.cpp")
    list(APPEND sources ${dir_sources})
  endforeach()
  if(NOT sources)
    return()
  endif()

  set(target grove_${arg_NAME})
  add_library(${target} STATIC ${sources})
  add_library(grove::${arg_NAME} ALIAS ${target})
  set_target_properties(${target} PROPERTIES
    EXPORT_NAME ${arg_NAME}
    OUTPUT_NAME grove_${arg_NAME}
    POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} PUBLIC ${arg_LINK})
  grove_target_warnings(${target})
  set_property(GLOBAL APPEND PROPERTY GROVE_EXPORTED_TARGETS ${target})
endfunction()

# grove_add_test_suite(<area> LINK <libraries...>)
# One executable per area, grove_<area>_tests, from the *_test.cpp files in the
# calling folder. Every Catch2 test case becomes a ctest test labelled <area>.
function(grove_add_test_suite area)
  cmake_parse_arguments(arg "" "TIMEOUT" "LINK;SOURCES" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp")
  list(APPEND sources ${arg_SOURCES})
  if(NOT sources)
    return()
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()

  set(target grove_${area}_tests)
  add_executable(${target} ${sources})
  target_link_libraries(${target} PRIVATE grove_catch_main ${arg_LINK})
  grove_target_warnings(${target})
  catch_discover_tests(${target}
    TEST_PREFIX "${area}/"
    PROPERTIES LABELS ${area} TIMEOUT ${arg_TIMEOUT})
endfunction()

# grove_add_benchmark(<name> SOURCES <files...> LINK <libraries...>)
function(grove_add_benchmark name)
  cmake_parse_arguments(arg "" "" "SOURCES;LINK" ${ARGN})
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE benchmark::benchmark ${arg_LINK})
  grove_target_warnings(${name})
endfunction()
