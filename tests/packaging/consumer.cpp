// The program every packaging consumer builds: a fleet of 3 devices routes one request.
#include <cstdio>
#include <optional>
#include <vector>

#include <joulesched/joulesched.hpp>

int main() {
  using namespace joulesched;
  fleet f(std::vector<device_params>{{100.0, 0.30}, {200.0, 0.10}, {200.0, 0.10}});
  argmin_router<joulesched_cost> r(f, joulesched_cost{/*lambda_j_per_s=*/1.0});
  const request_view req{/*work_tok=*/256, /*input_tok=*/512, /*budget_s=*/5.0, tier::interactive};

  const std::optional<assignment> a = r.route(req);
  if (!a || a->device >= f.size() || f.load(a->device).queued_tok != req.work_tok) return 1;
  std::printf("joulesched %d.%d.%d: %u tokens -> device %u of %zu\n", JOULESCHED_VERSION_MAJOR,
              JOULESCHED_VERSION_MINOR, JOULESCHED_VERSION_PATCH, a->work_tok, a->device, f.size());
  r.release(*a);
  return f.load(a->device).queued_tok == 0 ? 0 : 1;
}
