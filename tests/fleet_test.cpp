#include <doctest/doctest.h>

#include <vector>

#include "joulesched/fleet.hpp"

using namespace joulesched;

TEST_CASE("fleet.classes.group_equal_params") {
  std::vector<device_params> ps{{100, 0.2}, {200, 0.1}, {100, 0.2}, {200, 0.1}, {50, 0.3}};
  fleet f(ps);
  CHECK(f.class_count() == 3);
  CHECK(f.class_of(0) == f.class_of(2));
  CHECK(f.class_of(1) == f.class_of(3));
  CHECK(f.class_of(4) != f.class_of(0));
}
