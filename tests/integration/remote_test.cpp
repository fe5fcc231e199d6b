// push, pull, list --remote and prune --remote through the built binary and the real rclone.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "src/pg/process_runner.h"
#include "src/util/fs.h"
#include "src/util/sha256.h"
#include "tests/integration/backup_support.h"

using namespace auditpitr;

namespace {

pg::ProcessResult run_program(const std::string& program, std::vector<std::string> args) {
  pg::Command c;
  c.program = program;
  c.args = std::move(args);
  c.capture_stdout = true;
  pg::PosixProcessRunner runner;
  return runner.run(c);
}

bool have_rclone() { return !pg::find_program("rclone").empty(); }

void flip_byte_in_middle(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  auto size = f.tellg();
  f.seekg(size / 2);
  char c;
  f.get(c);
  f.seekp(size / 2);
  f.put(static_cast<char>(c ^ 0x5a));
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  if (!path_exists(dir)) return names;
  std::string out = run_program("ls", {"-A", dir}).stdout_text;
  for (std::size_t start = 0; start < out.size();) {
    std::size_t end = out.find('\n', start);
    names.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  return names;
}

void remove_tree(const std::string& dir) { REQUIRE(run_program("rm", {"-rf", dir}).ok()); }

std::string obscured(const std::string& password) {
  std::string out = run_program("rclone", {"obscure", password}).stdout_text;
  return out.substr(0, out.find('\n'));
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// `rclone serve KIND FOLDER` on 127.0.0.1, stopped with the object.
class RcloneServer {
 public:
  RcloneServer(const std::string& kind, const std::string& folder, const std::string& cache, int port) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv("XDG_CACHE_HOME", cache.c_str(), 1);  // serve sftp keeps its host keys there
      std::string log = cache + ".log";              // its notices stay out of the test's output
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) ::dup2(fd, 2);
      std::string addr = "127.0.0.1:" + std::to_string(port);
      ::execlp("rclone", "rclone", "serve", kind.c_str(), folder.c_str(), "--addr", addr.c_str(), "--user", "u",
               "--pass", "secret-pw", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !port_open(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~RcloneServer() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }

 private:
  pid_t pid_ = -1;
};

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element e;
  INFO(text);
  REQUIRE(parser.parse(text).get(e) == simdjson::SUCCESS);
  return e;
}

std::string remote_section(const std::string& rclone, const std::string& config, const std::string& extra = "") {
  return "[[remotes]]\nname = \"offsite\"\nrclone = \"" + rclone + "\"\nconfig = \"" + config + "\"\n" + extra;
}

// The keys documented in docs/push.md's tables under the '## ' heading that starts with `heading`.
std::set<std::string> documented_keys(const std::string& heading) {
  std::set<std::string> keys;
  std::istringstream lines(test::read_text(test::source_path("docs/push.md")));
  bool in = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("## ", 0) == 0) in = line.rfind("## `" + heading, 0) == 0;
    if (!in || line.rfind("| `", 0) != 0) continue;
    std::string cell = line.substr(1, line.find('|', 1) - 1);
    for (std::size_t open = cell.find('`'); open != std::string::npos; open = cell.find('`', open)) {
      std::size_t close = cell.find('`', open + 1);
      keys.insert(cell.substr(open + 1, close - open - 1));
      open = close + 1;
    }
  }
  return keys;
}

std::set<std::string> keys_of(simdjson::dom::element e) {
  std::set<std::string> keys;
  for (auto field : e.get_object()) keys.insert(std::string(field.key));
  keys.erase("format");
  return keys;
}

}  // namespace

TEST_CASE("push, list --remote and pull against a local folder remote; a damaged copy is caught on pull",
          "[pg][remote]") {
  REQUIRE(have_rclone());  // scripts/install-deps installs it
  test::portfolio_database("rm_db");
  test::TempDir tmp;
  std::string remote = tmp / "remote";
  test::write_text(tmp / "rclone.conf", "");
  test::BackupSetup setup(
      {"rm_db"}, "[[files]]\nname = \"uploads\"\npath = \"uploads\"\n" + remote_section(remote, tmp / "rclone.conf"));
  ensure_directory(setup.dir / "uploads", 0700);
  test::write_text(setup.dir / "uploads/logo.png", "not really a picture");
  auto backup = setup.cli({"backup"});
  INFO(backup.out << backup.err);
  REQUIRE(backup.exit_code == 0);
  std::string stamp = test::newest_stamp(setup.backups());
  std::string dump = "rm_db_" + stamp + ".dump.gz";
  std::string manifest = "rm_db_" + stamp + ".manifest.json";
  std::string archive = "uploads_" + stamp + ".tar.gz";
  REQUIRE(path_exists(setup.backups() + "/" + archive));
  std::string local_sha = sha256_of_file(setup.backups() + "/" + dump);

  auto push = setup.cli({"push", "--json"});
  INFO(push.out << push.err);
  REQUIRE(push.exit_code == 0);
  simdjson::dom::parser parser;
  auto doc = parse(parser, push.out)["remotes"].at(0);
  CHECK(std::string(doc["verified_by"].get_string().value()) == "sha256");
  std::set<std::string> push_keys = keys_of(doc.value());
  push_keys.insert("remotes");
  CHECK(push_keys == documented_keys("auditpitr push"));
  REQUIRE(doc["pushed"].get_array().size() == 1);
  CHECK(std::string(doc["pushed"].at(0)["stamp"].get_string().value()) == stamp);
  CHECK(sha256_of_file(remote + "/" + dump) == local_sha);
  CHECK(path_exists(remote + "/" + manifest));
  CHECK(path_exists(remote + "/" + archive));
  CHECK(path_exists(remote + "/" + archive + ".manifest.json"));
  CHECK(path_exists(remote + "/pushed/" + stamp + ".json"));
  for (const auto& name : files_in(remote)) CHECK(temporary_file_target(name).empty());

  // What 'auditpitr status' shows as the last push.
  auto outcome = parse(parser, test::read_text(setup.backups() + "/.auditpitr/last-push.json"));
  CHECK(outcome["ok"].get_bool().value());
  CHECK(std::string(outcome["stamp"].get_string().value()) == stamp);
  CHECK_THAT(std::string(outcome["detail"].get_string().value()), Catch::Contains("remote 'offsite': 1 pushed"));

  auto again = setup.cli({"push", "--json"});
  REQUIRE(again.exit_code == 0);
  auto again_doc = parse(parser, again.out)["remotes"].at(0);
  CHECK(again_doc["pushed"].get_array().size() == 0);
  CHECK(std::string(again_doc["already_there"].at(0).get_string().value()) == stamp);

  auto list = setup.cli({"list", "--remote", "offsite", "--json"});
  REQUIRE(list.exit_code == 0);
  auto listed = parse(parser, list.out);
  CHECK(keys_of(listed) == documented_keys("auditpitr list --remote"));
  CHECK(std::string(listed["latest"].get_string().value()) == stamp);
  CHECK(listed["backups"].at(0)["complete"].get_bool().value());
  CHECK_THAT(setup.cli({"list", "--remote", "offsite"}).out, Catch::Contains(stamp) && Catch::Contains("complete"));

  SECTION("pull into an empty backup folder brings the set back, checked") {
    remove_tree(setup.backups());
    auto pull = setup.cli({"pull", "latest", "--json"});
    INFO(pull.out << pull.err);
    REQUIRE(pull.exit_code == 0);
    auto pulled = parse(parser, pull.out);
    CHECK(keys_of(pulled) == documented_keys("auditpitr pull"));
    CHECK(pulled["checked_dumps"].get_int64().value() == 1);
    CHECK(pulled["checked_archives"].get_int64().value() == 1);
    CHECK(path_exists(setup.backups() + "/" + archive));
    CHECK(sha256_of_file(setup.backups() + "/" + dump) == local_sha);
    CHECK(path_exists(setup.backups() + "/" + manifest));
    CHECK(setup.cli({"check", "latest"}).exit_code == 0);
    auto twice = setup.cli({"pull", stamp, "--json"});  // identical files: nothing to do
    REQUIRE(twice.exit_code == 0);
    CHECK(parse(parser, twice.out)["already_here"].get_array().size() == 4);
  }
  SECTION("a damaged remote copy: pull exits 3 naming the file and leaves nothing behind") {
    flip_byte_in_middle(remote + "/" + dump);
    remove_tree(setup.backups());
    auto pull = setup.cli({"pull", stamp});
    INFO(pull.out << pull.err);
    CHECK(pull.exit_code == 3);
    CHECK_THAT(pull.err, Catch::Contains("'" + dump + "'") && Catch::Contains("damaged"));
    CHECK(files_in(setup.backups()).size() <= 1);  // at most the lock file
    for (const auto& name : files_in(setup.backups())) CHECK(name == ".auditpitr.lock");
  }
  SECTION("a set whose push did not finish is listed as incomplete, refused by pull, and pushed again whole") {
    REQUIRE(std::remove((remote + "/pushed/" + stamp + ".json").c_str()) == 0);
    REQUIRE(std::remove((remote + "/" + manifest).c_str()) == 0);
    auto listed_now = parse(parser, setup.cli({"list", "--remote", "offsite", "--json"}).out);
    CHECK_FALSE(listed_now["backups"].at(0)["complete"].get_bool().value());
    CHECK_THAT(std::string(listed_now["backups"].at(0)["state"].get_string().value()), Catch::Contains("incomplete"));
    auto pull = setup.cli({"pull", stamp});
    CHECK(pull.exit_code == 3);
    CHECK_THAT(pull.err, Catch::Contains("incomplete"));
    auto repush = setup.cli({"push", "--json"});
    REQUIRE(repush.exit_code == 0);
    auto repushed = parse(parser, repush.out)["remotes"].at(0)["pushed"].at(0);
    CHECK(repushed["repaired"].get_bool().value());
    CHECK(path_exists(remote + "/" + manifest));
  }
  SECTION("a different file of the same name in the backup folder is refused, not replaced") {
    flip_byte_in_middle(setup.backups() + "/" + dump);
    auto pull = setup.cli({"pull", stamp});
    CHECK(pull.exit_code == 4);
    CHECK_THAT(pull.err, Catch::Contains(dump));
  }
}

TEST_CASE("push --logs copies new and grown audit files only, rotated ones included", "[pg][remote]") {
  REQUIRE(have_rclone());  // scripts/install-deps installs it
  test::portfolio_database("rl_db");
  test::TempDir tmp;
  std::string remote = tmp / "remote";
  test::write_text(tmp / "rclone.conf", "");
  test::BackupSetup setup({"rl_db"}, "[audit]\ndir = \"audit\"\n" + remote_section(remote, tmp / "rclone.conf"));
  ensure_directory(setup.dir / "audit", 0700);
  test::write_text(setup.dir / "audit/create.log", "{\"level\":\"info\",\"operation\":\"CREATE_PORTFOLIO\"}\n");
  test::write_text(setup.dir / "audit/update.log", "");
  test::write_text(setup.dir / "audit/delete.log.1", "{\"level\":\"info\"}\n");
  simdjson::dom::parser parser;

  auto first = setup.cli({"push", "--logs", "--json"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  auto logs = parse(parser, first.out)["remotes"].at(0)["logs"];
  CHECK(logs["uploaded"].get_array().size() == 3);
  CHECK(test::read_text(remote + "/audit/create.log") == test::read_text(setup.dir / "audit/create.log"));

  auto second = setup.cli({"push", "--logs", "--json"});
  REQUIRE(second.exit_code == 0);
  auto unchanged = parse(parser, second.out)["remotes"].at(0)["logs"];
  CHECK(unchanged["uploaded"].get_array().size() == 0);
  CHECK(unchanged["unchanged"].get_uint64().value() == 3);

  std::ofstream(setup.dir / "audit/create.log", std::ios::app) << "{\"level\":\"info\",\"operation\":\"X\"}\n";
  test::write_text(setup.dir / "audit/create.log.2.gz", "not really gzip, but a rotated file all the same");
  auto third = setup.cli({"push", "--logs", "--json"});
  REQUIRE(third.exit_code == 0);
  auto grown = parse(parser, third.out)["remotes"].at(0)["logs"];
  REQUIRE(grown["uploaded"].get_array().size() == 2);
  CHECK(std::string(grown["uploaded"].at(0)["name"].get_string().value()) == "create.log");
  CHECK(std::string(grown["uploaded"].at(1)["name"].get_string().value()) == "create.log.2.gz");
  CHECK(test::read_text(remote + "/audit/create.log") == test::read_text(setup.dir / "audit/create.log"));
}

TEST_CASE("push and pull through rclone serve webdav and sftp on 127.0.0.1", "[pg][remote]") {
  REQUIRE(have_rclone());  // scripts/install-deps installs it
  test::portfolio_database("rs_db");
  for (std::string kind : {"webdav", "sftp"}) {
    DYNAMIC_SECTION(kind) {
      test::TempDir tmp;
      ensure_directory(tmp / "served", 0700);
      int port = free_port();
      RcloneServer server(kind, tmp / "served", tmp / "cache", port);
      std::string conf = kind == "webdav" ? "[box]\ntype = webdav\nurl = http://127.0.0.1:" + std::to_string(port) +
                                                "/\nvendor = other\nuser = u\npass = " + obscured("secret-pw") + "\n"
                                          : "[box]\ntype = sftp\nhost = 127.0.0.1\nport = " + std::to_string(port) +
                                                "\nuser = u\npass = " + obscured("secret-pw") + "\n";
      test::write_text(tmp / "rclone.conf", conf);
      test::BackupSetup setup({"rs_db"}, remote_section("box:portfolio", tmp / "rclone.conf"));
      REQUIRE(setup.cli({"backup"}).exit_code == 0);
      std::string stamp = test::newest_stamp(setup.backups());
      std::string dump = "rs_db_" + stamp + ".dump.gz";
      std::string local_sha = sha256_of_file(setup.backups() + "/" + dump);

      auto push = setup.cli({"push", "--remote", "offsite", "--json"});
      INFO(push.out << push.err);
      REQUIRE(push.exit_code == 0);
      CHECK_THAT(push.err + push.out, !Catch::Contains("secret-pw"));
      simdjson::dom::parser parser;
      auto doc = parse(parser, push.out)["remotes"].at(0);
      // rclone's WebDAV server offers no hash (each copy is read back); its SFTP server runs sha1sum/md5sum.
      CHECK(std::string(doc["verified_by"].get_string().value()) == (kind == "webdav" ? "download" : "sha1"));
      CHECK(sha256_of_file(tmp / ("served/portfolio/" + dump)) == local_sha);

      auto list = setup.cli({"list", "--remote", "offsite"});
      CHECK(list.exit_code == 0);
      CHECK_THAT(list.out, Catch::Contains(stamp) && Catch::Contains("complete"));

      remove_tree(setup.backups());
      auto pull = setup.cli({"pull", "latest"});
      INFO(pull.out << pull.err);
      REQUIRE(pull.exit_code == 0);
      CHECK(sha256_of_file(setup.backups() + "/" + dump) == local_sha);

      flip_byte_in_middle(tmp / ("served/portfolio/" + dump));
      remove_tree(setup.backups());
      auto damaged = setup.cli({"pull", stamp});
      CHECK(damaged.exit_code == 3);
      CHECK_THAT(damaged.err, Catch::Contains(dump));
    }
  }
}

TEST_CASE("a remote's own retention: push skips what it would delete, prune --remote deletes record last",
          "[pg][remote]") {
  REQUIRE(have_rclone());  // scripts/install-deps installs it
  test::portfolio_database("rr_db");
  test::TempDir tmp;
  std::string remote = tmp / "remote";
  test::write_text(tmp / "rclone.conf", "");
  test::BackupSetup setup({"rr_db"}, remote_section(remote, tmp / "rclone.conf"));
  ensure_directory(setup.backups(), 0700);
  for (const char* stamp : {"20250101_120000", "20250102_120000", "20250103_120000"})
    test::old_script_backup("rr_db", setup.backups(), stamp);
  simdjson::dom::parser parser;
  auto push = setup.cli({"push", "--json"});
  INFO(push.out << push.err);
  REQUIRE(push.exit_code == 0);
  CHECK(parse(parser, push.out)["remotes"].at(0)["pushed"].get_array().size() == 3);
  CHECK(parse(parser, push.out)["remotes"].at(0)["prune"].is_null());

  // The same remote with keep_daily = 1: only the newest set stays there.
  std::string text = test::read_text(setup.config);
  std::string kept = text;
  kept.insert(kept.find("[[databases]]"), "keep_daily = 1\n");
  test::write_text(setup.config, kept);
  auto dry = setup.cli({"prune", "--remote", "offsite", "--dry-run", "--json"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(parse(parser, dry.out)["would_delete_stamps"].get_array().size() == 2);
  std::set<std::string> dry_keys = keys_of(parse(parser, dry.out));
  dry_keys.insert({"deleted_stamps", "deleted_files"});  // documented beside their dry-run names
  dry_keys.erase("would_delete_stamps");
  dry_keys.erase("would_delete_files");
  CHECK(dry_keys == documented_keys("auditpitr prune --remote"));
  CHECK(path_exists(remote + "/rr_db_20250101_120000.dump.gz"));

  auto prune = setup.cli({"prune", "--remote", "offsite", "--json"});
  REQUIRE(prune.exit_code == 0);
  auto pruned = parse(parser, prune.out);
  REQUIRE(pruned["deleted_stamps"].get_array().size() == 2);
  auto files = pruned["deleted_files"].get_array();
  // Each set's record goes after its files: a prune stopped half-way leaves a set shown as damaged.
  CHECK(std::string(files.at(files.size() - 1).get_string().value()) == "pushed/20250101_120000.json");
  CHECK_FALSE(path_exists(remote + "/rr_db_20250101_120000.dump.gz"));
  CHECK_FALSE(path_exists(remote + "/pushed/20250101_120000.json"));
  CHECK(path_exists(remote + "/rr_db_20250103_120000.dump.gz"));

  // The local folder still holds the old sets: push leaves them off rather than upload and delete them.
  auto again = setup.cli({"push", "--json"});
  REQUIRE(again.exit_code == 0);
  auto doc = parse(parser, again.out)["remotes"].at(0);
  CHECK(doc["pushed"].get_array().size() == 0);
  CHECK(doc["not_pushed"].get_array().size() == 2);
  CHECK_THAT(std::string(doc["not_pushed"].at(0)["reason"].get_string().value()), Catch::Contains("retention"));
}

TEST_CASE("a remote rclone cannot reach: exit 1 naming the remote and rclone's own error", "[pg][remote]") {
  REQUIRE(have_rclone());
  test::TempDir tmp;
  test::write_text(tmp / "rclone.conf", "");
  test::BackupSetup setup({"ru_db"}, remote_section("nosuch:bucket/portfolio", tmp / "rclone.conf"));
  for (auto args :
       std::vector<std::vector<std::string>>{{"push"}, {"pull", "latest"}, {"list", "--remote", "offsite"}}) {
    auto r = setup.cli(args);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("remote 'offsite' (nosuch:bucket/portfolio)") && Catch::Contains("rclone"));
  }
  ensure_directory(setup.backups(), 0700);
  auto json = setup.cli({"push", "--json"});
  simdjson::dom::parser parser;
  CHECK(parse(parser, json.out)["error"]["exit_code"].get_int64().value() == 1);
  auto outcome = parse(parser, test::read_text(setup.backups() + "/.auditpitr/last-push.json"));
  CHECK_FALSE(outcome["ok"].get_bool().value());
  CHECK_THAT(std::string(outcome["detail"].get_string().value()), Catch::Contains("remote 'offsite' failed"));
}
