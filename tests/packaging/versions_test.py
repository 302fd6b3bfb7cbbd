"""Checks the package recipes against include/joulesched/version.hpp, without Conan or vcpkg installed.

usage: versions_test.py <source dir> [<version CMake read>]

- conanfile.py and test_package/conanfile.py are valid Python that import nothing beyond conan and the
  standard library;
- the Conan recipe (imported with a stub `conan` module, its set_version() called), ports/joulesched/vcpkg.json,
  vcpkg.json and CMake's project version all equal the header's version;
- the recipe is a header-library with no_copy_source.
"""
import ast
import json
import pathlib
import re
import sys
import types
import importlib.util

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree


def header_version(root):
    text = (root / "include/joulesched/version.hpp").read_text(encoding="utf-8")
    return ".".join(re.search(rf"#define JOULESCHED_VERSION_{p} (\d+)", text).group(1)
                    for p in ("MAJOR", "MINOR", "PATCH"))


def imported_modules(path):
    """Top-level names of every module the file imports; compile() also proves it is valid Python."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    compile(tree, str(path), "exec")
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path}: relative import")
            names.add(node.module)
    return names


class _StubModule(types.ModuleType):
    """Stands in for any conan module: every name it is asked for is an empty class."""
    def __getattr__(self, name):
        return type(name, (), {})


def conan_recipe_version(path, modules):
    for name in sorted(m for m in modules if m.split(".")[0] == "conan"):
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            sys.modules.setdefault(".".join(parts[:i]), _StubModule(".".join(parts[:i])))
    spec = importlib.util.spec_from_file_location("joulesched_conanfile", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    recipe_class = module.JouleschedConan
    assert recipe_class.package_type == "header-library", recipe_class.package_type
    assert recipe_class.no_copy_source is True
    assert recipe_class.name == "joulesched", recipe_class.name
    recipe = recipe_class.__new__(recipe_class)
    recipe.recipe_folder = str(path.parent)
    recipe.version = None
    recipe.set_version()
    return recipe.version


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    expected = header_version(root)
    failures = []

    def check(what, got):
        status = "ok" if got == expected else "MISMATCH"
        print(f"{status:8} {what}: {got}")
        if got != expected:
            failures.append(what)

    print(f"version.hpp: {expected}")
    if len(sys.argv) > 2:
        check("CMake project version", sys.argv[2])

    recipe_modules = None
    for recipe in ("conanfile.py", "test_package/conanfile.py"):
        modules = imported_modules(root / recipe)
        foreign = sorted(m for m in modules
                         if m.split(".")[0] != "conan" and m.split(".")[0] not in sys.stdlib_module_names)
        print(f"{'ok' if not foreign else 'FOREIGN':8} {recipe} imports: {', '.join(sorted(modules))}")
        if foreign:
            failures.append(f"{recipe} imports {', '.join(foreign)}")
        if recipe == "conanfile.py":
            recipe_modules = modules

    check("conanfile.py", conan_recipe_version(root / "conanfile.py", recipe_modules))
    for manifest in ("ports/joulesched/vcpkg.json", "vcpkg.json"):
        check(manifest, json.loads((root / manifest).read_text(encoding="utf-8"))["version"])

    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
