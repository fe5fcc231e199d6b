// A throwaway PostgreSQL server in a temporary folder: used by the tests and by `auditpitr demo`.
// initdb with trust for the socket and scram for TCP, its own port and socket folder, fsync off.
// Run as root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
#pragma once

#include <string>

#include "src/pg/conninfo.h"
#include "src/pg/process_runner.h"

namespace auditpitr::pg {

class LocalCluster {
 public:
  /// Creates and starts the cluster under a new temporary folder. Throws a runtime Error when the
  /// server binaries are missing (see server_bin_dir) or initdb/pg_ctl fail (with their log).
  explicit LocalCluster(ProcessRunner& runner);
  /// Stops the server (immediately) and removes the folder.
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  /// Superuser connection over the Unix socket.
  ConnInfo connect_info(const std::string& dbname = "postgres") const;
  /// The same over TCP on 127.0.0.1, where passwords are checked (scram-sha-256).
  ConnInfo tcp_connect_info(const std::string& dbname, const std::string& user) const;
  int port() const { return port_; }
  const std::string& folder() const { return folder_; }

  void create_database(const std::string& name);
  /// Runs SQL text (fixtures only: never user input) in a database.
  void execute(const std::string& dbname, const std::string& sql);

  void stop();
  void start();

 private:
  ProcessRunner& runner_;
  std::string bin_dir_;
  std::string folder_;
  std::string run_as_;
  int port_ = 0;
  bool running_ = false;

  void run_tool(const std::string& tool, const std::vector<std::string>& args);
};

/// The folder holding initdb/pg_ctl: $AUDITPITR_PG_BINDIR, else the newest
/// /usr/lib/postgresql/N/bin, else the folder of initdb in PATH. Empty when none is found.
std::string server_bin_dir();

/// A TCP port on 127.0.0.1 that nothing listens on right now.
int find_free_port();

}  // namespace auditpitr::pg
