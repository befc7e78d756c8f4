# Writes the systemd unit for this install (run by `cmake --install` and by
# cpack, from an install(CODE) in CMakeLists.txt): the unit must start the
# binary where this install puts it, and that is only known now
# (CMAKE_INSTALL_PREFIX is /usr/local for cmake --install, /usr for the
# Debian package). Debian 12 keeps packaged units in /lib/systemd/system.
#   in: CALLGATE_UNIT_TEMPLATE, CALLGATE_UNIT_STAGING, CALLGATE_SBINDIR,
#       CALLGATE_CONFIG_DIR, CALLGATE_UNIT_DIR (empty: derived)
if(IS_ABSOLUTE "${CALLGATE_SBINDIR}")
  set(binary "${CALLGATE_SBINDIR}/callgated")
else()
  set(binary "${CMAKE_INSTALL_PREFIX}/${CALLGATE_SBINDIR}/callgated")
endif()
set(unit_dir "${CALLGATE_UNIT_DIR}")
if(unit_dir STREQUAL "")
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(unit_dir "/lib/systemd/system")
  else()
    set(unit_dir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
  endif()
endif()

file(READ "${CALLGATE_UNIT_TEMPLATE}" unit)
string(REPLACE "/usr/local/sbin/callgated" "${binary}" unit "${unit}")
string(REPLACE "/etc/callgate" "${CALLGATE_CONFIG_DIR}" unit "${unit}")
# Written, then installed: file(INSTALL) adds DESTDIR and records the file in
# the install manifest. One staging folder per destination, so a cpack and a
# cmake --install running at once (the tests do) never trade units.
string(MD5 destination "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
set(staging "${CALLGATE_UNIT_STAGING}/${destination}")
file(MAKE_DIRECTORY "${staging}")
file(WRITE "${staging}/callgate.service" "${unit}")
file(INSTALL "${staging}/callgate.service" DESTINATION "${unit_dir}"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
