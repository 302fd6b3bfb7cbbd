/// @file version.hpp
/// @brief The one place the library's version lives. CMake, the Conan recipe and the vcpkg port read it.
#pragma once

#define JOULESCHED_VERSION_MAJOR 0
#define JOULESCHED_VERSION_MINOR 1
#define JOULESCHED_VERSION_PATCH 0

/// Encoded as MAJOR * 10000 + MINOR * 100 + PATCH.
#define JOULESCHED_VERSION \
  (JOULESCHED_VERSION_MAJOR * 10000 + JOULESCHED_VERSION_MINOR * 100 + JOULESCHED_VERSION_PATCH)
