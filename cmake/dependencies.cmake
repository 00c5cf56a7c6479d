# All dependencies come from Debian 12 packages (scripts/install-deps.sh).
# Boost 1.81 (libboost1.81-dev) is required, not 1.74: we rely on Asio's
# per-operation cancellation, awaitable operators (timeouts as `op || timer`)
# and as_tuple, none of which 1.74 has.
# Boost.JSON (libboost-json1.81-dev) as a library for libtether's QMP client
# and tetherctl: compiling its header-only sources into libtether would clash
# with a program that links Boost.JSON itself.
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS headers json)
# tetherctl's command line (libcli11-dev, header-only).
find_package(CLI11 2.1 REQUIRED CONFIG)
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBUDEV REQUIRED IMPORTED_TARGET libudev)
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
find_package(OpenSSL 3 REQUIRED COMPONENTS Crypto)  # SHA-256 (transfer checks)
pkg_check_modules(LIBXXHASH REQUIRED IMPORTED_TARGET libxxhash)  # XXH64, XXH3
if(TETHER_BUILD_HOST)
  # libvirt domains by name (libvirt-dev); its XML through libxml2 (libxml2-dev, which libvirt-dev pulls in).
  pkg_check_modules(libvirt REQUIRED IMPORTED_TARGET libvirt)
  pkg_check_modules(libxml2 REQUIRED IMPORTED_TARGET libxml-2.0)
endif()

add_library(tether_asio INTERFACE)
target_link_libraries(tether_asio INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(tether_asio INTERFACE
  BOOST_ASIO_NO_DEPRECATED
  BOOST_ASIO_DISABLE_BOOST_COROUTINE)
