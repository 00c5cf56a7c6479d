# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS): every regular file a
# package installs under /etc becomes one of its conffiles, as debhelper does,
# so dpkg keeps an admin's edits on upgrade. Runs after CPack staged each
# component in CPACK_TEMPORARY_DIRECTORY/<component>; the generated conffiles
# join the component's CPACK_DEBIAN_<COMPONENT>_PACKAGE_CONTROL_EXTRA.
file(GLOB components LIST_DIRECTORIES true RELATIVE "${CPACK_TEMPORARY_DIRECTORY}" "${CPACK_TEMPORARY_DIRECTORY}/*")
foreach(component IN LISTS components)
  set(root "${CPACK_TEMPORARY_DIRECTORY}/${component}")
  if(NOT IS_DIRECTORY "${root}/etc")
    continue()
  endif()
  file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${root}" "${root}/etc/*")
  list(SORT files)
  set(conffiles "")
  foreach(f IN LISTS files)
    if(NOT IS_SYMLINK "${root}/${f}")
      string(APPEND conffiles "/${f}\n")
    endif()
  endforeach()
  if(conffiles STREQUAL "")
    continue()
  endif()
  set(dir "${CPACK_TOPLEVEL_DIRECTORY}/conffiles/${component}")
  file(WRITE "${dir}/conffiles" "${conffiles}")
  string(TOUPPER "${component}" upper)
  list(APPEND CPACK_DEBIAN_${upper}_PACKAGE_CONTROL_EXTRA "${dir}/conffiles")
endforeach()
