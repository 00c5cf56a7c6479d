# Install rules: binaries (in their own CMakeLists), the host library with its
# public headers, a CMake package (find_package(tether)) and pkg-config file.
# Every rule names its package component (cmake/packaging.cmake): agent, host
# (runtime library, tetherctl) or dev (headers, static proto lib, CMake and
# pkg-config files, the libtether.so link).
include(CMakePackageConfigHelpers)

if(TETHER_BUILD_HOST)
  install(DIRECTORY host-lib/include/tether DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
  install(DIRECTORY proto/include/tether DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
  install(DIRECTORY ${PROJECT_BINARY_DIR}/proto/gen/tether/v1
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tether COMPONENT dev FILES_MATCHING PATTERN "*.pb.h")
  install(DIRECTORY proto/tether/v1 DESTINATION ${CMAKE_INSTALL_DATADIR}/tether/proto/tether
          COMPONENT dev FILES_MATCHING PATTERN "*.proto")

  install(TARGETS tether tether_proto tether_asio EXPORT tetherTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT host NAMELINK_COMPONENT dev
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT tetherTargets NAMESPACE tether::
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tether COMPONENT dev)
  configure_package_config_file(cmake/tetherConfig.cmake.in
    ${PROJECT_BINARY_DIR}/tetherConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tether)
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/tetherConfigVersion.cmake
    COMPATIBILITY SameMajorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/tetherConfig.cmake ${PROJECT_BINARY_DIR}/tetherConfigVersion.cmake
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tether COMPONENT dev)

  configure_file(cmake/tether.pc.in ${PROJECT_BINARY_DIR}/tether.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/tether.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
endif()
