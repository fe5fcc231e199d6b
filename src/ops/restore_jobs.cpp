// How many pg_restore jobs a restore runs: a server shared with live applications must keep
// answering them, so the jobs stay within this machine's cores and leave a configured share of the
// server's connections free ([restore] free_connections_percent, docs/configuration.md).
#include <sched.h>

#include <algorithm>
#include <thread>

#include "src/error.h"
#include "src/ops/restore_internal.h"

namespace auditpitr::ops {
namespace detail {
namespace {

constexpr int kAutomaticMaximum = 4;

// The cores this process may run on (a container's or taskset's limit included).
int usable_cores() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

AdminSession::ConnectionSlots AdminSession::connection_slots() {
  try {
    pqxx::nontransaction tx(conn_.raw());
    pqxx::result r = tx.exec(
        "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int, "
        "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int");
    return {r[0][0].as<int>(), r[0][1].as<int>()};
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "counting the server's free connections", conn_);
  }
}

int pg_restore_jobs(const Config& config, const RestoreRequest& request, AdminSession& admin,
                    const Reporter& reporter) {
  int cores = usable_cores();
  int wanted = request.jobs > 0 ? request.jobs : std::min(cores, kAutomaticMaximum);
  if (wanted == 1) return 1;
  if (!config.pg_exec.empty()) {  // through a container, the archive arrives on stdin: no seeking, one job
    if (request.jobs > 1)
      reporter.warning("pg_restore runs with one job: through [tools] exec it reads the dump from stdin");
    return 1;
  }
  auto slots = admin.connection_slots();
  int kept_free = (slots.usable * config.free_connections_percent + 99) / 100;
  int allowed = slots.usable - slots.in_use - kept_free;
  int jobs = std::max(1, std::min({wanted, cores, allowed}));
  if (request.jobs > 0 && jobs < wanted) {
    std::string why = cores <= allowed
                          ? "this machine has " + std::to_string(cores) + " core(s)"
                          : "the server has " + std::to_string(slots.usable - slots.in_use) + " of its " +
                                std::to_string(slots.usable) + " connections free and keeps " +
                                std::to_string(kept_free) + " of them for the applications ([restore] " +
                                "free_connections_percent = " + std::to_string(config.free_connections_percent) + ")";
    reporter.warning("pg_restore runs with --jobs=" + std::to_string(jobs) + " instead of " + std::to_string(wanted) +
                     ": " + why);
  }
  return jobs;
}

}  // namespace detail
}  // namespace auditpitr::ops
