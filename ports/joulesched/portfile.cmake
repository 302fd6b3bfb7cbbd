# Overlay port for joulesched, a header-only library:
#   vcpkg install joulesched --overlay-ports=<joulesched>/ports
# It builds the checkout it lies in. For a registry, replace SOURCE_PATH with vcpkg_from_github(...).
set(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../..")
set(VCPKG_BUILD_TYPE release)  # header-only: one configuration is enough

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DJOULESCHED_BUILD_TESTS=OFF
        -DJOULESCHED_BUILD_EXAMPLES=OFF
        -DJOULESCHED_BUILD_BENCHMARKS=OFF
        -DJOULESCHED_INSTALL=ON
        -DJOULESCHED_WITH_GLPK=OFF  # the optional GLPK adapter is not packaged: the port stays solver-free
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/joulesched)
vcpkg_fixup_pkgconfig()

# Header-only: nothing goes to debug/ or lib/.
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug" "${CURRENT_PACKAGES_DIR}/lib")

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
