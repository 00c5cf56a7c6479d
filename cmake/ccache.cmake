# Compiler cache: with Debian's ccache installed, every compile goes through
# it, so a fresh clone on a machine that built tether before recompiles in
# seconds (the test command builds twice: release and ASan).
#
# The cache lives outside the checkout (ccache's default, ~/.cache/ccache).
# Clones in other directories hit the same entries because paths under the
# source tree are hashed relative to it (CCACHE_BASEDIR) and the working
# directory is left out of the hash (CCACHE_NOHASHDIR); the price is that
# debug info may name the directory of the clone that filled the cache.
# Off with -DTETHER_CCACHE=OFF, or by setting CMAKE_CXX_COMPILER_LAUNCHER.
option(TETHER_CCACHE "Compile through ccache when it is installed" ON)
if(TETHER_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(TETHER_CCACHE_PROGRAM ccache)
  if(TETHER_CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER
        ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR} CCACHE_NOHASHDIR=1
        ${TETHER_CCACHE_PROGRAM})
    message(STATUS "Compiling through ${TETHER_CCACHE_PROGRAM}")
  endif()
endif()
