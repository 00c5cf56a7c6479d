# Debian packages. In the build directory, `cpack -G DEB` makes one package
# per install component:
#   tether-agent  (COMPONENT agent) tether-agent, its systemd unit and udev
#                 rule, /etc/tether/agent.conf (a conffile), /etc/tether/host-halt.d/
#   tether-host   (COMPONENT host)  libtether.so.N, tetherctl, host units
#   tether-dev    (COMPONENT dev)   headers, libtether.so, the static proto
#                 library, CMake package and pkg-config files
#   python3-tether (COMPONENT python) the tether Python package (tether/*.py,
#                 the _tether extension, .pyi stubs) and its dist-info, in
#                 /usr/lib/python3/dist-packages
# A new file goes into a package by giving its install() rule that COMPONENT;
# a rule without one stops the configure step below, so nothing is silently
# left out. Files under /etc become conffiles (cmake/deb-conffiles.cmake).
# Maintainer scripts are in packaging/debian/<component>/.
# Included last from the top-level CMakeLists.txt, after every install().

set(TETHER_PACKAGE_COMPONENTS)
if(TETHER_BUILD_AGENT)
  list(APPEND TETHER_PACKAGE_COMPONENTS agent)
endif()
if(TETHER_BUILD_HOST)
  list(APPEND TETHER_PACKAGE_COMPONENTS host dev)
endif()
if(TARGET tether_python)
  list(APPEND TETHER_PACKAGE_COMPONENTS python)
endif()

get_cmake_property(_tether_install_components COMPONENTS)
foreach(_c IN LISTS _tether_install_components)
  if(NOT _c IN_LIST TETHER_PACKAGE_COMPONENTS)
    message(FATAL_ERROR "An install() rule uses component '${_c}' (or none: 'Unspecified'), which no "
                        "package ships. Give it COMPONENT agent, host, dev or python (see cmake/packaging.cmake).")
  endif()
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tether)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "tether maintainers <tether@localhost>")
set(CPACK_PACKAGE_VENDOR tether)
# Empty: each package's summary is the first line of its component's
# DESCRIPTION below (CPack would prepend a project-wide one to all three).
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL ${TETHER_PACKAGE_COMPONENTS})

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # tether-agent_0.1.0-1_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)   # Depends on the libraries the ELF files need
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)  # dev: tether-host (= same version)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Files under /etc become conffiles (of whichever package ships them).
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/deb-conffiles.cmake)

set(_deb ${PROJECT_SOURCE_DIR}/packaging/debian)

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME tether-agent)
set(CPACK_DEBIAN_AGENT_PACKAGE_SECTION admin)
# The agent runs without them (e.g. in an initramfs), but its unit and rule
# are what start it on a normal system.
set(CPACK_DEBIAN_AGENT_PACKAGE_RECOMMENDS "systemd, udev")
# Beside qemu-guest-agent, not instead of it: with [qga] enabled = auto the
# agent leaves QGA's port to an installed qemu-ga, and the trigger on
# /usr/sbin/qemu-ga restarts it when qemu-guest-agent comes or goes (README,
# "Replacing qemu-guest-agent").
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_EXTRA
    ${_deb}/agent/postinst ${_deb}/agent/prerm ${_deb}/agent/postrm ${_deb}/agent/triggers)

set(CPACK_DEBIAN_HOST_PACKAGE_NAME tether-host)
set(CPACK_DEBIAN_HOST_PACKAGE_SECTION net)
# A shlibs file (only tether-host has a shared library), so packages built
# against libtether depend on tether-host.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_HOST_PACKAGE_CONTROL_EXTRA ${_deb}/host/postinst ${_deb}/host/postrm ${_deb}/host/triggers)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME tether-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# What the headers, tetherConfig.cmake and tether.pc pull in.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libprotobuf-dev, libboost1.81-dev")

set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-tether)
set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
# python3 of the version the extension is built for (python/CMakeLists.txt);
# libtether comes from tether-host (component dependency, same version).
set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "${TETHER_PYTHON_DEB_DEPENDS}")
set(CPACK_DEBIAN_PYTHON_PACKAGE_CONTROL_EXTRA ${_deb}/python/postinst ${_deb}/python/prerm)
if(TARGET tether_python)
  # dpkg-shlibdeps must find libtether (another package's file) to read the
  # extension's other needs; the build tree's copy serves.
  get_target_property(_tether_lib_dir tether BINARY_DIR)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${_tether_lib_dir})
endif()

include(CPack)

# Descriptions: the first line is the Debian summary.
cpack_add_component(agent DISPLAY_NAME "tether guest agent"
  DESCRIPTION "tether guest agent (host RPC over virtio-serial)
tether-agent serves the host over the virtio-serial port org.tether.agent.0:
command execution, file transfer, statistics, udev device events and power
control, without a guest network. udev starts it when the port appears.")
cpack_add_component(host DISPLAY_NAME "tether host tools"
  DESCRIPTION "tether host library and tetherctl
libtether talks to tether guest agents through the QEMU chardev socket of
their virtio-serial port. tetherctl is its command-line front end.")
cpack_add_component(dev DISPLAY_NAME "tether development files" DEPENDS host
  DESCRIPTION "tether host library: development files
Headers, CMake package (find_package(tether)) and pkg-config file for
programs that use libtether.")
cpack_add_component(python DISPLAY_NAME "tether Python package" DEPENDS host
  DESCRIPTION "tether host library: Python 3 package
import tether: run commands (subprocess semantics), move files and wait for
udev devices in QEMU guests through their tether-agent. Includes the type
stubs and a pytest plugin (fixtures tether_guest, tether_vm).")
