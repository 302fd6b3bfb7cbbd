# cmake -DPKG_CONFIG=... -DPREFIX=... -DCXX=... -DCXX_FLAGS=... -DSOURCE=... -DWORK_DIR=...
#       -DEXPECTED_VERSION=... -P pkg_config.cmake
# Compiles and runs SOURCE with the flags `pkg-config --cflags joulesched` gives for the installed copy.
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig")

function(_run out)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _rc EQUAL 0)
    string(REPLACE ";" " " _cmd "${ARGN}")
    message(FATAL_ERROR "failed (${_rc}): ${_cmd}\n${_out}\n${_err}")
  endif()
  set(${out} "${_out}" PARENT_SCOPE)
endfunction()

_run(_version "${PKG_CONFIG}" --modversion joulesched)
if(NOT _version STREQUAL EXPECTED_VERSION)
  message(FATAL_ERROR "pkg-config says joulesched ${_version}, expected ${EXPECTED_VERSION}")
endif()
_run(_cflags "${PKG_CONFIG}" --cflags joulesched)
message(STATUS "pkg-config --cflags joulesched: ${_cflags}")
separate_arguments(_cflags UNIX_COMMAND "${_cflags}")
separate_arguments(_cxx_flags UNIX_COMMAND "${CXX_FLAGS}")

file(MAKE_DIRECTORY "${WORK_DIR}")
_run(_ "${CXX}" ${_cxx_flags} -std=c++20 ${_cflags} "${SOURCE}" -o "${WORK_DIR}/consumer")
_run(_output "${WORK_DIR}/consumer")
message(STATUS "${_output}")
