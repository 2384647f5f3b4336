# Install rules (cmake --install; debian/rules installs through them into
# debian/tmp). Layout of the packages (docs/operate.md):
#   /usr/bin/organtrack-*                 the programs
#   /usr/sbin/organtrack-broker-acl       mosquitto users and ACL from the configs
#   /usr/share/man/man1, man8             their man pages (docs/man/, roff)
#   /usr/share/organtrack/profiles        device register maps (sensors/profiles)
#   /usr/share/organtrack/scenarios       simulator scenarios (organtrack-sensors)
#   /usr/share/organtrack/web             the built dashboard (organtrack-api)
#   /usr/share/organtrack/preservation.json  the shipped limits (a copy goes to /etc)
# Configs under /etc/organtrack and the systemd units are Debian's
# (debian/config, debian/*.service).
include(GNUInstallDirs)
set(OT_DATADIR ${CMAKE_INSTALL_DATADIR}/organtrack)

foreach(prog sensors gateway collector api ledger)
  if(TARGET organtrack-${prog})
    install(TARGETS organtrack-${prog} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    install(FILES ${PROJECT_SOURCE_DIR}/docs/man/organtrack-${prog}.1
      DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  endif()
endforeach()

install(DIRECTORY ${PROJECT_SOURCE_DIR}/sensors/profiles/ DESTINATION ${OT_DATADIR}/profiles
  FILES_MATCHING PATTERN "*.json")
install(FILES ${PROJECT_SOURCE_DIR}/config/preservation.json DESTINATION ${OT_DATADIR})
if(TARGET organtrack-collector)
  configure_file(${PROJECT_SOURCE_DIR}/scripts/organtrack-broker-acl
    ${CMAKE_BINARY_DIR}/organtrack-broker-acl @ONLY)
  install(PROGRAMS ${CMAKE_BINARY_DIR}/organtrack-broker-acl DESTINATION ${CMAKE_INSTALL_SBINDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/docs/man/organtrack-broker-acl.8
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
endif()
if(TARGET organtrack-sensors)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/sensors/scenarios/ DESTINATION ${OT_DATADIR}/scenarios
    FILES_MATCHING PATTERN "*.json")
endif()
if(TARGET organtrack-api)
  # built by the `web` target (dashboard-api/web); a build without the npm
  # packages has no dashboard, and the package build refuses that (debian/rules)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/dashboard-api/web/dist/ DESTINATION ${OT_DATADIR}/web
    OPTIONAL)
endif()
