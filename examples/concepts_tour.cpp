// The README's "concepts in forty lines", as a program that compiles and runs (so the README cannot rot).
#include <cstdio>
#include <optional>
#include <vector>

#include <joulesched/joulesched.hpp>

int main() {
  using namespace joulesched;
  // [tour]
  // A fleet is the routing state of a set of devices: parameters, reserved work (seconds), availability.
  std::vector<device_params> gpus{
      {/*rate_tok_s=*/2340.0, /*energy_j_per_tok=*/0.117},  // any type satisfying Device works too
      {1850.0, 0.106},
      {1850.0, 0.106},
      {400.0, 0.10}};
  for (auto& g : gpus) {  // optional: what a prompt costs (sim::params_at_batch derives all from a device model)
    g.prefill_s_per_tok = 0.1 / g.rate_tok_s;
    g.prefill_j_per_tok = 0.2 * g.energy_j_per_tok;
  }
  fleet f(gpus);

  // A cost model (CostModel) prices a device for a request: energy + lambda * seconds late (TTFT, end to end).
  argmin_router<joulesched_cost> router(f, joulesched_cost(/*lambda_j_per_s=*/50.0));  // a Router

  // The router sees a request_view: estimated output and prompt tokens, seconds left to the deadline, tier,
  // and optionally a TTFT budget, a pacing target and an SLO class.
  request_view v{/*work_tok=*/250, /*input_tok=*/800, /*budget_s=*/4.0, tier::interactive};
  v.ttft_budget_s = 1.0;
  std::optional<assignment> a = router.route(v);  // reserves the request's predicted device-seconds
  if (a) {
    router.correct(*a, a->work_ns / 2);  // the engine learned more (e.g. the prompt is done)
    router.release(*a);                  // on completion
  }

  f.set_available(2, false);  // drain a device: no router picks it until restored

  // Tiers: each tier its own router over the same fleet (so both see the same load).
  tiered_router tiered(slack_classifier(/*bulk_slack_s=*/600.0),
                       argmin_router<joulesched_cost>(f, joulesched_cost(500.0)),  // interactive
                       argmin_router<joulesched_cost>(f, joulesched_cost(0.01)));  // bulk: energy first

  // The PI controller tunes lambda to hold the deadline-miss rate at 1%.
  lambda_controller<> pi(lambda_controller_config{}, count_window(1000));
  pi.observe(/*now_s=*/12.0, /*missed=*/false);
  router.cost().set_lambda(pi.update(12.0));

  // Per-device queues order waiting requests by deadline (EDF) or least laxity (LLF).
  struct job {
    double input_tok, deadline_s, work_tok;
  };
  llf_queue<job> q(llf_key(/*rate_tok_s=*/1850.0));
  auto h = q.push(job{800, 30.0, 250});
  q.cancel(h);
  // [tour]
  const auto b = tiered.route(v);
  std::printf("routed to device %u; lambda now %.1f J/s; queue empty: %s\n", b ? b->device : 999u,
              router.cost().lambda(), q.empty() ? "yes" : "no");
  return b ? 0 : 1;
}
