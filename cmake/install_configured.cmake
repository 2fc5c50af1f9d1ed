# Runs at install time, from libwatch_install_configured() in ecosystem.cmake: writes one template
# with the prefix being installed to. That is the one given to `cmake --install --prefix P`, or
# /usr when cpack's DEB generator installs into its staging tree (through DESTDIR), not the prefix
# configured at build time (/usr/local by default), which would be wrong inside the package.
#
# Template variables: @LIBWATCH_PREFIX@, @LIBWATCH_VERSION@,
# @LIBWATCH_PC_LIBDIR@ and @LIBWATCH_PC_INCLUDEDIR@ (for a .pc file: relative to ${prefix} when
# they can be), @LIBWATCH_FULL_BINDIR@ (an absolute path), @LIBWATCH_PC_LIBS_EXTRA@.
set(LIBWATCH_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(dir BINDIR LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${LIBWATCH_${dir}}")
    set(LIBWATCH_PC_${dir} "${LIBWATCH_${dir}}")
    set(LIBWATCH_FULL_${dir} "${LIBWATCH_${dir}}")
  else()
    set(LIBWATCH_PC_${dir} "\${prefix}/${LIBWATCH_${dir}}")
    set(LIBWATCH_FULL_${dir} "${LIBWATCH_PREFIX}/${LIBWATCH_${dir}}")
  endif()
endforeach()

file(READ "${LIBWATCH_TEMPLATE}" libwatch_content)
string(CONFIGURE "${libwatch_content}" libwatch_content @ONLY)
if(IS_ABSOLUTE "${LIBWATCH_DESTINATION}")
  set(libwatch_out "$ENV{DESTDIR}${LIBWATCH_DESTINATION}/${LIBWATCH_NAME}")
else()
  set(libwatch_out "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/${LIBWATCH_DESTINATION}/${LIBWATCH_NAME}")
endif()
message(STATUS "Installing: ${libwatch_out}")
file(WRITE "${libwatch_out}" "${libwatch_content}")
file(CHMOD "${libwatch_out}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${libwatch_out}")
