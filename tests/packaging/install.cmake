# cmake -DBUILD_DIR=<build tree> -DPREFIX=<scratch prefix> -P install.cmake
# A fresh copy each run, so that a header deleted from the tree does not linger in the prefix.
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed (${_rc})")
endif()
