# Finds every dependency from Debian packages; a missing one stops configuration with
# the apt package that provides it.

function(ksmsim_require found_var package)
  if(NOT ${found_var})
    message(FATAL_ERROR
      "ksmsim: missing dependency. Install it with:\n"
      "  sudo apt-get install ${package}\n"
      "(or run tools/setup.sh, which installs every dependency)")
  endif()
endfunction()

find_package(absl CONFIG QUIET)
ksmsim_require(absl_FOUND libabsl-dev)

find_package(nlohmann_json CONFIG QUIET)
ksmsim_require(nlohmann_json_FOUND nlohmann-json3-dev)

find_package(fmt CONFIG QUIET)
ksmsim_require(fmt_FOUND libfmt-dev)

find_package(CLI11 CONFIG QUIET)
ksmsim_require(CLI11_FOUND libcli11-dev)

find_package(PkgConfig QUIET)
ksmsim_require(PKG_CONFIG_FOUND pkg-config)
pkg_check_modules(XXHASH QUIET IMPORTED_TARGET libxxhash)
ksmsim_require(XXHASH_FOUND libxxhash-dev)

if(KSMSIM_BUILD_TESTS)
  find_package(GTest CONFIG QUIET)
  if(NOT GTest_FOUND)
    find_package(GTest QUIET)
  endif()
  ksmsim_require(GTest_FOUND libgtest-dev)
endif()

# The man page is made from the help texts at build time (tools/package/gen-manpage.sh).
find_program(KSMSIM_HELP2MAN help2man)
ksmsim_require(KSMSIM_HELP2MAN help2man)
