# Installation: headers, the exported targets, a CMake package config with a
# version file, and a pkg-config file.

include(CMakePackageConfigHelpers)

set(grove_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/grove)
get_property(grove_export_targets GLOBAL PROPERTY GROVE_EXPORTED_TARGETS)

install(DIRECTORY include/grove DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ${grove_export_targets}
  EXPORT grove-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT grove-targets
  NAMESPACE grove::
  DESTINATION ${grove_cmake_dir})

set(GROVE_INSTALLED_COMPILED_PARTS "")
foreach(target IN LISTS grove_export_targets)
  get_target_property(target_type ${target} TYPE)
  if(target_type STREQUAL "STATIC_LIBRARY")
    list(APPEND GROVE_INSTALLED_COMPILED_PARTS ${target})
  endif()
endforeach()

configure_package_config_file(cmake/grove-config.cmake.in
  ${PROJECT_BINARY_DIR}/grove-config.cmake
  INSTALL_DESTINATION ${grove_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/grove-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/grove-config.cmake
  ${PROJECT_BINARY_DIR}/grove-config-version.cmake
  DESTINATION ${grove_cmake_dir})

# pkg-config: the compiled parts in dependency order, users first.
set(grove_pc_libs "")
foreach(part agents adapters runtime)
  if(TARGET grove_${part})
    string(APPEND grove_pc_libs " -lgrove_${part}")
  endif()
endforeach()
# The compiled parts are static libraries, so their dependencies must be on
# the link line too (Boost is header-only here and needs no entry).
set(grove_pc_requires "")
if(grove_pc_libs)
  set(grove_pc_requires " spdlog fmt libcurl openssl zlib libzstd")
  string(APPEND grove_pc_libs " -pthread")
endif()
configure_file(cmake/grove.pc.in ${PROJECT_BINARY_DIR}/grove.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/grove.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
