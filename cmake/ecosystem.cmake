# Fitting the distribution (issue 8): the pkg-config file, bash completions, the inotifysync@
# systemd template, the licence as the package's copyright file, and CPack's .deb. Included from
# the top-level CMakeLists.txt after the other install rules. Tests: tests/ecosystem.

set(LIBWATCH_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd unit goes (relative to the install prefix, or absolute)")

# Installs template (NAME.in) as DESTINATION/NAME, configured at install time with the prefix
# actually installed to (see install_configured.cmake).
function(libwatch_install_configured template destination)
  get_filename_component(name "${template}" NAME)
  string(REGEX REPLACE "\\.in$" "" name "${name}")
  # Libraries a consumer must link besides libwatch: with a static libwatch, those it uses.
  get_target_property(type libwatch TYPE)
  set(pc_libs_extra "")
  if(type STREQUAL "STATIC_LIBRARY")
    set(pc_libs_extra " -pthread")
  endif()
  if(LIBWATCH_SANITIZE)
    string(APPEND pc_libs_extra " -fsanitize=${LIBWATCH_SANITIZE}")
  endif()
  install(CODE "
    set(LIBWATCH_TEMPLATE [==[${template}]==])
    set(LIBWATCH_DESTINATION [==[${destination}]==])
    set(LIBWATCH_NAME [==[${name}]==])
    set(LIBWATCH_VERSION [==[${PROJECT_VERSION}]==])
    set(LIBWATCH_BINDIR [==[${CMAKE_INSTALL_BINDIR}]==])
    set(LIBWATCH_LIBDIR [==[${CMAKE_INSTALL_LIBDIR}]==])
    set(LIBWATCH_INCLUDEDIR [==[${CMAKE_INSTALL_INCLUDEDIR}]==])
    set(LIBWATCH_PC_LIBS_EXTRA [==[${pc_libs_extra}]==])
    include([==[${PROJECT_SOURCE_DIR}/cmake/install_configured.cmake]==])
  ")
endfunction()

# pkg-config: `pkg-config --cflags --libs libwatch`.
libwatch_install_configured(${PROJECT_SOURCE_DIR}/packaging/libwatch.pc.in ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# bash completion, loaded on demand by bash-completion from this directory.
install(FILES completions/inotifywait completions/inotifywatch completions/inotifysync completions/inotifybatch
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
# The fsnotify twins take the same options; bash-completion looks a file up by the command's name.
install(FILES completions/inotifywait DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME fsnotifywait)
install(FILES completions/inotifywatch DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME fsnotifywatch)

# systemd: inotifysync@NAME.service runs one instance per /etc/inotifysync/NAME.conf.
libwatch_install_configured(${PROJECT_SOURCE_DIR}/packaging/systemd/inotifysync@.service.in
                            ${LIBWATCH_SYSTEMD_UNIT_DIR})
install(FILES packaging/systemd/inotifysync.conf.example DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)

# The .deb: `cpack -G DEB` in a build tree. One package with everything, which can take the place
# of the distribution's inotify-tools (same program names and man pages, fsnotifywait and
# fsnotifywatch included). Debian's inotify-tools provides no virtual package: Provides names it.
set(CPACK_PACKAGE_NAME libwatch)
set(CPACK_PACKAGE_VENDOR "The libwatch authors")
set(CPACK_PACKAGE_CONTACT "libwatch maintainers <maintainers@users.noreply.b-seed-6a6217be.example>" CACHE STRING
    "Maintainer field of the .deb")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "inotify-tools compatible inotifywait/inotifywatch, inotifysync and libwatch")
set(CPACK_PACKAGE_DESCRIPTION
    "Drop-in replacements for inotify-tools' inotifywait and inotifywatch that follow renamed
directories and never miss entries created in a new directory, inotifysync (keeps rsync
targets in step with a directory tree, with a systemd template unit), and libwatch, the
recursive-inotify C++20 library they are built on (static library, headers, CMake and
pkg-config files).")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS rsync)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "openssh-client, bash-completion")
set(CPACK_DEBIAN_PACKAGE_PROVIDES inotify-tools)
set(CPACK_DEBIAN_PACKAGE_CONFLICTS inotify-tools)
set(CPACK_DEBIAN_PACKAGE_REPLACES inotify-tools)
# Depends: computed by dpkg-shlibdeps (dpkg-dev, and CPack needs file(1) to find the binaries)
# when they are here, with the versions the binaries need; else the libraries Debian 12 builds
# link against.
find_program(LIBWATCH_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(LIBWATCH_FILE file)
if(LIBWATCH_DPKG_SHLIBDEPS AND LIBWATCH_FILE)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  if(LIBWATCH_RUNTIME_LINKED_IN)
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6")  # the C++ runtime and fmt are linked in
  else()
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libfmt9, libgcc-s1, libstdc++6")
  endif()
endif()
include(CPack)
