import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


def _header_version(root):
    """The version in include/joulesched/version.hpp, the one place it lives: "MAJOR.MINOR.PATCH"."""
    with open(os.path.join(root, "include", "joulesched", "version.hpp"), encoding="utf-8") as f:
        text = f.read()
    parts = [re.search(rf"#define JOULESCHED_VERSION_{p} (\d+)", text).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


class JouleschedConan(ConanFile):
    name = "joulesched"
    description = "Energy- and carbon-aware scheduling policies for LLM inference fleets"
    license = "MIT"
    topics = ("scheduling", "energy", "llm", "inference", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = "include/*", "LICENSE*"
    no_copy_source = True

    def set_version(self):
        # Only runs in the source tree (conan create/export); the cache keeps the exported version.
        self.version = self.version or _header_version(self.recipe_folder)

    def layout(self):
        basic_layout(self)

    def requirements(self):
        # Our public headers include theirs, so consumers need their include paths too.
        self.requires("boost/[>=1.74 <2]", transitive_headers=True)
        self.requires("range-v3/0.12.0", transitive_headers=True)

    def package_id(self):
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, 20)

    def package(self):
        copy(self, "LICENSE*", src=self.source_folder, dst=os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", src=os.path.join(self.source_folder, "include"),
             dst=os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "joulesched")
        self.cpp_info.set_property("cmake_target_name", "joulesched::joulesched")
        self.cpp_info.set_property("pkg_config_name", "joulesched")
        # Boost's headers only: none of its compiled libraries.
        self.cpp_info.requires = ["boost::headers", "range-v3::range-v3"]
