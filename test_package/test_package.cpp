#include <cstdio>
#include <vector>

#include <joulesched/joulesched.hpp>

int main() {
  joulesched::fleet f(std::vector<joulesched::device_params>{{100.0, 0.3}, {200.0, 0.1}, {200.0, 0.1}});
  joulesched::argmin_router<joulesched::joulesched_cost> r(f, joulesched::joulesched_cost{1.0});
  const auto a = r.route(joulesched::request_view{256, 512, 5.0, joulesched::tier::interactive});
  std::printf("joulesched %d: device %u\n", JOULESCHED_VERSION, a ? a->device : 99u);
  return a ? 0 : 1;
}
