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
  // It reserves what the request costs there: on device 1 or 2, 255 decode tokens (the prefill yields the
  // first) at 200 tok/s, 1.275 s.
  if (!a || a->device >= f.size() || a->work_ns != reserved_work_ns(f.params(a->device), req) || a->work_ns == 0 ||
      f.load(a->device).reserved_ns != a->work_ns)
    return 1;
  std::printf("joulesched %d.%d.%d: %u tokens -> device %u of %zu, %llu ns reserved\n", JOULESCHED_VERSION_MAJOR,
              JOULESCHED_VERSION_MINOR, JOULESCHED_VERSION_PATCH, req.work_tok, a->device, f.size(),
              static_cast<unsigned long long>(a->work_ns));
  r.release(*a);
  return f.load(a->device).reserved_ns == 0 ? 0 : 1;
}
