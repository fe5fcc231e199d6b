// LocalCluster: initdb + pg_ctl by argv, configuration written to postgresql.conf.
#include "src/pg/local_cluster.h"

#include <dirent.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "src/error.h"
#include "src/pg/connection.h"
#include "src/util/fs.h"

namespace auditpitr::pg {
namespace {

void remove_tree(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir) {
    while (struct dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      std::string child = join_path(path, name);
      if (entry->d_type == DT_DIR) {
        remove_tree(child);
      } else {
        ::unlink(child.c_str());
      }
    }
    ::closedir(dir);
  }
  ::rmdir(path.c_str());
}

void chown_to(const std::string& path, const std::string& user) {
  struct passwd* pw = ::getpwnam(user.c_str());
  if (!pw)
    throw runtime_error("user '" + user + "' does not exist", "install the postgresql package, which creates it");
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw system_error("unable to chown '" + path + "'", errno);
}

}  // namespace

std::string server_bin_dir() {
  if (const char* env = std::getenv("AUDITPITR_PG_BINDIR"); env && *env) return env;
  int best = 0;
  if (DIR* dir = ::opendir("/usr/lib/postgresql")) {
    while (struct dirent* entry = ::readdir(dir)) {
      int version = std::atoi(entry->d_name);
      if (version > best && path_exists("/usr/lib/postgresql/" + std::string(entry->d_name) + "/bin/initdb"))
        best = version;
    }
    ::closedir(dir);
  }
  if (best > 0) return "/usr/lib/postgresql/" + std::to_string(best) + "/bin";
  std::string initdb = find_program("initdb");
  return initdb.empty() ? "" : parent_path(initdb);
}

int find_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw system_error("unable to create a socket", errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int saved = errno;
    ::close(fd);
    throw system_error("unable to find a free port", saved);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

LocalCluster::LocalCluster(ProcessRunner& runner) : runner_(runner) {
  bin_dir_ = server_bin_dir();
  if (bin_dir_.empty())
    throw runtime_error("PostgreSQL server programs (initdb, pg_ctl) were not found",
                        "install them (apt-get install postgresql) or set AUDITPITR_PG_BINDIR");
  char pattern[] = "/tmp/auditpitr-pg-XXXXXX";
  if (!::mkdtemp(pattern)) throw system_error("unable to create a temporary folder", errno);
  folder_ = pattern;
  if (::geteuid() == 0) {
    run_as_ = "postgres";
    chown_to(folder_, run_as_);
  }
  try {
    port_ = find_free_port();
    run_tool("initdb", {"-D", folder_ + "/data", "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                        "--no-sync", "-E", "UTF8", "--locale=C"});
    std::ofstream conf(folder_ + "/data/postgresql.conf", std::ios::app);
    conf << "\nlisten_addresses = '127.0.0.1'\nport = " << port_ << "\nunix_socket_directories = '" << folder_
         << "'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 40\n";
    conf.close();
    start();
  } catch (...) {
    remove_tree(folder_);
    throw;
  }
}

LocalCluster::~LocalCluster() {
  try {
    if (running_) run_tool("pg_ctl", {"-D", folder_ + "/data", "-m", "immediate", "-w", "stop"});
  } catch (...) {
  }
  remove_tree(folder_);
}

void LocalCluster::start() {
  run_tool("pg_ctl", {"-D", folder_ + "/data", "-l", folder_ + "/server.log", "-w", "-t", "60", "start"});
  running_ = true;
}

void LocalCluster::stop() {
  run_tool("pg_ctl", {"-D", folder_ + "/data", "-m", "fast", "-w", "stop"});
  running_ = false;
}

void LocalCluster::run_tool(const std::string& tool, const std::vector<std::string>& args) {
  Command command;
  command.program = join_path(bin_dir_, tool);
  command.args = args;
  command.run_as_user = run_as_;
  command.working_dir = folder_;
  ProcessResult result = runner_.run(command);
  if (!result.ok()) {
    std::string log;
    try {
      log = read_small_file(folder_ + "/server.log");
    } catch (...) {
    }
    throw runtime_error(tool + " " + result.describe() + " in '" + folder_ + "'", {},
                        result.stderr_tail + (log.empty() ? "" : "\nserver log:\n" + log));
  }
}

ConnInfo LocalCluster::connect_info(const std::string& dbname) const {
  return ConnInfo::parse("host=" + folder_ + " port=" + std::to_string(port_) + " user=postgres", dbname);
}

ConnInfo LocalCluster::tcp_connect_info(const std::string& dbname, const std::string& user) const {
  return ConnInfo::parse("host=127.0.0.1 port=" + std::to_string(port_) + " user=" + user, dbname);
}

void LocalCluster::create_database(const std::string& name) {
  Connection conn(connect_info());
  pqxx::nontransaction tx(conn.raw());
  tx.exec("CREATE DATABASE " + quote_ident(name));
}

void LocalCluster::execute(const std::string& dbname, const std::string& sql) {
  Connection conn(connect_info(dbname));
  try {
    pqxx::nontransaction tx(conn.raw());
    tx.exec(sql);
  } catch (const std::exception& e) {
    rethrow_as_error(e, "loading SQL", conn);
  }
}

}  // namespace auditpitr::pg
