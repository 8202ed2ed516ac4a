// SPDX-License-Identifier: Apache-2.0
// Evacuation simulations of stored venues, run by the server for the dashboard (docs/api.md,
// "Simulations"): a scenario in the scenario format without `venue` is validated at once, queued,
// and run on this object's single worker thread; its progress, results (summary, evacuation
// curve, flow per exit) and a downsampled playback are kept in memory for the last few runs.
//
// Limits, so that one request cannot take the server down: one simulation runs at a time, a few
// wait (else 503), the people, `max_time_s` and the wall time of a run are capped, `runs` must be
// 1. stop() cancels what waits and what runs (checked every simulated second).
//
// Threads: every public method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "api/auth.hpp"
#include "api/service.hpp"

namespace vigil::api {

struct SimulationJobsOptions {
  std::size_t max_waiting = 4;      // queued behind the running one; more: 503
  std::size_t keep_finished = 8;    // finished runs (done, failed, cancelled) kept in memory
  std::size_t max_agents = 20000;   // people per simulation
  double max_time_s = 3600;         // the largest `max_time_s` a scenario may ask for
  double max_wall_s = 600;          // a run computing longer than this fails
  int threads = 1;                  // threads of one run (0: all cores)
  double frame_dt_s = 0.5;          // playback recording: one frame per this many simulated s
  std::size_t max_frame_agents = 5000;     // people recorded (1 in n by id above this)
  std::size_t max_frame_points = 2000000;  // positions recorded per run; later frames dropped
  double exit_bin_s = 5;            // flow per exit: bins of this many seconds
};

class SimulationJobs {
 public:
  // `service` (venues, audit log) must outlive this object or its stop().
  explicit SimulationJobs(Service& service, SimulationJobsOptions options = {});
  ~SimulationJobs();  // stop()s
  SimulationJobs(const SimulationJobs&) = delete;
  SimulationJobs& operator=(const SimulationJobs&) = delete;

  // Starts the worker thread. Idempotent.
  void start();
  // Cancels waiting runs and the running one (it ends within a simulated second), joins the
  // worker. Later submissions get 503. Idempotent.
  void stop();

  // Validates `body` (a scenario without `venue`) against the stored venue `venue`, queues it
  // and audits `simulation.start`. Answer: the new job (state "queued"); errors: 400 with every
  // problem and its path, 404 for an unknown venue, 503 when the queue is full or stopping.
  // REQUIRES: `by` may Action::simulate on `venue` (the route checks it).
  Answer submit(const Principal& by, const std::string& venue, std::string_view body);

  // The venue of a simulation (for authorization), or nullopt when unknown or forgotten.
  std::optional<std::string> venue_of(std::string_view id) const;
  // The job: state, progress, and once done the summary, curve and flow per exit.
  Answer get(const std::string& id) const;
  // The recorded positions, downsampled to `fps` frames per simulated second (at most the
  // recording's rate), of one `level` or of all. Query values as given in the URL.
  Answer frames(const std::string& id, std::optional<std::string_view> fps,
                std::optional<std::string_view> level) const;
  // The jobs kept (without results) of the venues `who` sees, newest first; of `venue` if given.
  Answer list(const Principal& who, std::optional<std::string_view> venue) const;

  struct Job;  // internal (simulations.cpp)

 private:
  void worker_loop();
  void run(const std::shared_ptr<Job>& job);
  void forget_old();  // REQUIRES: mu_ held

  Service& service_;
  const SimulationJobsOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Job>, std::less<>> jobs_;  // GUARDED_BY(mu_)
  std::deque<std::shared_ptr<Job>> waiting_;                      // GUARDED_BY(mu_)
  std::deque<std::string> finished_;  // GUARDED_BY(mu_): ids, oldest first
  bool started_ = false;              // GUARDED_BY(mu_)
  bool stopping_ = false;             // GUARDED_BY(mu_)
  std::thread worker_;
};

}  // namespace vigil::api
