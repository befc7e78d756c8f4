# What a Debian administrator expects beside the binary, and the package
# itself: `cpack -G DEB` in the build directory (scripts/package) writes
# callgate_<version>_<arch>.deb from the install rules of CMakeLists.txt,
# with /etc/callgate's two files as conffiles (an upgrade keeps an edited
# one) and the maintainer scripts of this folder. tests/packaging builds,
# lints, installs, runs and purges it.

# The manual page (its version filled in) and the changelog, compressed as
# Debian wants them (gzip -9n: no name or time stamp, so the same input
# gives the same bytes).
find_program(CALLGATE_GZIP gzip REQUIRED)
configure_file(${CMAKE_CURRENT_LIST_DIR}/callgated.8 ${CMAKE_BINARY_DIR}/packaging/callgated.8 @ONLY)
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/packaging/callgated.8.gz
  COMMAND ${CALLGATE_GZIP} -9nf -k ${CMAKE_BINARY_DIR}/packaging/callgated.8
  DEPENDS ${CMAKE_BINARY_DIR}/packaging/callgated.8
  COMMENT "Compressing the manual page")
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/packaging/changelog.gz
  COMMAND ${CALLGATE_GZIP} -9n -c ${CMAKE_CURRENT_LIST_DIR}/changelog > ${CMAKE_BINARY_DIR}/packaging/changelog.gz
  DEPENDS ${CMAKE_CURRENT_LIST_DIR}/changelog
  COMMENT "Compressing the changelog")
add_custom_target(callgate_package_docs ALL DEPENDS ${CMAKE_BINARY_DIR}/packaging/callgated.8.gz
                                                    ${CMAKE_BINARY_DIR}/packaging/changelog.gz)

# The package's version is the project's, and its changelog must say so.
file(STRINGS ${CMAKE_CURRENT_LIST_DIR}/changelog changelog_head LIMIT_COUNT 1)
if(NOT changelog_head MATCHES "^callgate \\(${PROJECT_VERSION}\\) ")
  message(FATAL_ERROR "packaging/changelog's first entry is not version ${PROJECT_VERSION}: ${changelog_head}")
endif()

install(FILES ${CMAKE_BINARY_DIR}/packaging/callgated.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
# The two lintian notes that stay, each with its reason (lintian reads them from here).
install(FILES ${CMAKE_CURRENT_LIST_DIR}/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
        RENAME callgate)
install(FILES ${CMAKE_BINARY_DIR}/packaging/changelog.gz ${CMAKE_CURRENT_LIST_DIR}/copyright README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME callgate)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The callgate authors")
set(CPACK_PACKAGE_CONTACT "callgate maintainers <maintainers@callgate.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "telephony callback gateway for web enquiries")
# One line each as it reads in `apt show` (cpack keeps the line breaks; lintian wants under 80 columns).
string(CONCAT CPACK_PACKAGE_DESCRIPTION
  "callgated takes enquiries from a web form, stores each as a lead, has a\n"
  "telephony provider (Twilio or Exotel) ring the visitor back within seconds,\n"
  "serves the call flow and keeps the lead's status and history from the\n"
  "provider's signed webhooks. Leads are kept in an embedded journal on disk,\n"
  "in Redis or in DynamoDB; retries survive restarts and never ring a\n"
  "customer twice. Live call audio can be bridged to an AI voice agent.")
# cpack installs into its staging folder through DESTDIR with the prefix /usr, so the
# absolute /etc/callgate and the unit land in the package, not on this machine.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages (Boost 1.81, yaml-cpp, hiredis, OpenSSL, jemalloc) from dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/conffiles ${CMAKE_CURRENT_LIST_DIR}/postinst ${CMAKE_CURRENT_LIST_DIR}/prerm
    ${CMAKE_CURRENT_LIST_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
