# What `cmake --install` puts beside the executables (installed by their own directories:
# ksmsim in tools/cli, the oracle's guest in tools/oracle, the man page and completions in
# tools/package), and CPack's Debian package (`cpack -G DEB`, README "Install").
#
# The documentation keeps the repository's layout under share/doc/ksmsim, so that the
# README's and the labs' links and commands (workloads/examples/...) work from there.
set(KSMSIM_DOC_DIR ${CMAKE_INSTALL_DOCDIR})
install(FILES README.md LICENSE DESTINATION ${KSMSIM_DOC_DIR})
install(DIRECTORY docs/ DESTINATION ${KSMSIM_DOC_DIR}/docs
        FILES_MATCHING PATTERN "*.md" PATTERN "*.json")
install(DIRECTORY workloads/examples workloads/labs DESTINATION ${KSMSIM_DOC_DIR}/workloads
        FILES_MATCHING PATTERN "*.json")

set(CPACK_PACKAGE_NAME ksmsim)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "simulator of Linux 6.1's kernel samepage merging (KSM)")
set(CPACK_PACKAGE_DESCRIPTION
    "ksmsim runs a JSON workload (processes, mappings, page contents, madvise, KSM knobs,\n"
    "waits) on a simulated MMU with a port of mm/ksm.c and reports what ksmd does and\n"
    "the counters the kernel shows in /sys/kernel/mm/ksm, /proc/PID/ksm_stat and\n"
    "/proc/vmstat. For kernel developers, memory researchers and teachers.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "ksmsim developers <ksmsim@users.invalid>")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: from the shared libraries ksmsim links (dpkg-shlibdeps: libabsl, libfmt,
# libxxhash, libstdc++, libc).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# `ksmsim oracle` boots a Linux 6.1 kernel under QEMU; `--dump-trees` draws SVG with dot.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "qemu-system-x86, graphviz")
include(CPack)
