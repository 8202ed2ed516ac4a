// SPDX-License-Identifier: Apache-2.0
// The verification cases (RiMEA guideline 3.0 numbering, NIST TN 1822; figures and criteria in
// /work/shared/ref/verification.md), each defined once: the set-up, the run, the measured figures
// and the verdict against the acceptance criterion. The gtest suite (verification_tests) asserts
// each verdict; verification_report writes the same outcomes into docs/verification.md.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace vigil::sim::verification {

// A curve for the report's plots.
struct Series {
  std::string label;
  std::vector<double> x;
  std::vector<double> y;
};

struct Outcome {
  std::string id;         // "RiMEA 9", "NIST 2.8", ...
  std::string setup;      // one line
  std::string criterion;  // the acceptance criterion, with its tolerance
  std::string measured;   // the figures measured, one line
  bool pass = false;
  // Evacuation curves (x: time in s, y: people out), or for RiMEA 4 the fundamental diagram.
  std::vector<Series> curves;
};

// Weidmann (1993): v(rho) = 1.34 (1 - exp(-1.913 (1/rho - 1/5.4))) m/s, 0 at and above 5.4 /m^2.
double weidmann_speed(double density_p_m2);

// One point of the fundamental diagram measured in the periodic corridor.
struct DiagramPoint {
  double density_p_m2 = 0;     // set (people / corridor area)
  double speed_m_s = 0;        // mean speed along the corridor over the measuring period
  double flow_p_m_s = 0;       // specific flow at a line across the corridor (crossings / (s m))
  double weidmann_m_s = 0;
};
// The periodic corridor (cached: computed once per process).
const std::vector<DiagramPoint>& fundamental_diagram();

Outcome rimea1();
Outcome rimea2();
Outcome rimea3();
Outcome rimea4();
Outcome rimea5();
Outcome rimea6();
Outcome rimea7();
Outcome rimea8();
Outcome rimea9();
Outcome rimea10();
Outcome rimea11();
Outcome rimea12();
Outcome rimea13();
Outcome rimea14();
Outcome rimea15();
Outcome nist2_1();
Outcome nist2_5();
Outcome nist2_8();
// The same, with the figures a test asserts beyond `pass` (NIST 2.8 is a known failure of CFSM).
struct CounterflowFigures {
  int cfsm_arrived = 0;
  int sfm_arrived = 0;
  double sfm_last_s = 0;
  double bound_s = 0;
};
Outcome nist2_8(CounterflowFigures& figures);
Outcome nist5_2();
Outcome time_step_stability();
// The same, with the relative change of each case (by its name in the outcome's setup).
Outcome time_step_stability(std::map<std::string, double>& change_by_case);
Outcome corners_and_door_posts();
Outcome walls_stress();

// Every case in the order of the report's table.
struct Case {
  const char* name;
  Outcome (*run)();
};
const std::vector<Case>& all_cases();

}  // namespace vigil::sim::verification
