// A consumer of the installed joulesched::glpk: solves the milp.hpp example and checks the optimum.
#include <joulesched/plan/glpk_solver.hpp>

#include <cstdio>
#include <string>

int main() {
  joulesched::plan::milp m;
  const std::size_t x = m.add_variable(0, 3, 2.0, "x");
  const std::size_t y = m.add_variable(0, 5, 1.0, "y");
  m.add_row({{x, 4.0}, {y, 1.0}}, joulesched::plan::row_sense::greater_equal, 6.0, "demand");
  const joulesched::plan::milp_result r = joulesched::plan::glpk_solver{}.solve(m);
  if (r.status != joulesched::plan::milp_status::optimal || r.objective != 4.0) {
    std::fprintf(stderr, "glpk_consumer: expected optimum 4, got %s %g\n",
                 std::string(joulesched::plan::to_string(r.status)).c_str(), r.objective);
    return 1;
  }
  std::printf("glpk_consumer: optimum 4 from the installed joulesched::glpk\n");
  return 0;
}
