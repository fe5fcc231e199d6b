// [[remotes]] configuration and RcloneStore's argv: rclone's own config by RCLONE_CONFIG, never a
// secret on the command line; what its exit statuses mean.
#include <catch2/catch.hpp>

#include "src/config/config.h"
#include "src/error.h"
#include "src/remote/rclone_store.h"
#include "tests/support/recording_runner.h"

using namespace auditpitr;

namespace {

const std::string kBase = "[backup]\ndir = \"backups\"\n[[databases]]\nalias = \"app\"\ndbname = \"app_db\"\n";

}  // namespace

TEST_CASE("[[remotes]]: name, rclone path, config file relative to the configuration, retention", "[remote]") {
  Config c = parse_config(kBase +
                              "[[remotes]]\nname = \"offsite\"\nrclone = \"s3remote:bucket/portfolio\"\n"
                              "config = \"rclone.conf\"\nkeep_daily = 7\n"
                              "[[remotes]]\nname = \"nas\"\nrclone = \"nas-copy\"\n",
                          "/etc/auditpitr/auditpitr.toml");
  REQUIRE(c.remotes.size() == 2);
  CHECK(c.remote("offsite").rclone == "s3remote:bucket/portfolio");
  CHECK(c.remote("offsite").config_file == "/etc/auditpitr/rclone.conf");
  CHECK(c.remote("offsite").retention.keep_daily == 7);
  CHECK(c.remote("offsite").retention.retention_days == 0);    // a remote keeps forever unless told
  CHECK(c.remote("nas").rclone == "/etc/auditpitr/nas-copy");  // a local folder, relative to the file
  CHECK(c.remote("nas").config_file.empty());
  CHECK_THROWS_WITH(c.remote(""), Catch::Contains("several remotes"));
  CHECK_THROWS_WITH(c.remote("ofsite"), Catch::Contains("unknown remote 'ofsite'") && Catch::Contains("offsite"));
  CHECK_THROWS_WITH(parse_config(kBase, "/x/a.toml").remote(""), Catch::Contains("no remote is configured"));
  CHECK_THROWS_WITH(parse_config(kBase + "[[remotes]]\nname = \"a\"\nrclone = \"x:\"\npassword = \"p\"\n", "/x/a.toml"),
                    Catch::Contains("password"));
  CHECK_THROWS_WITH(parse_config(kBase + "[[remotes]]\nname = \"a\"\nrclone = \"-x\"\n", "/x/a.toml"),
                    Catch::Contains("not usable"));
}

TEST_CASE("RcloneStore: argv only, RCLONE_CONFIG in the environment, a missing folder is empty", "[remote]") {
  RemoteConfig remote;
  remote.name = "offsite";
  remote.rclone = "s3remote:bucket/portfolio";
  remote.config_file = "/etc/auditpitr/rclone.conf";
  test::RecordingProcessRunner runner;
  remote::RcloneStore store(remote, runner);

  runner.script("rclone", {0,
                           "[{\"Path\":\"a_20250123_140530.dump.gz\",\"Size\":12,\"IsDir\":false},"
                           "{\"Path\":\"pushed\",\"Size\":-1,\"IsDir\":true}]",
                           ""});
  auto objects = store.list("");
  REQUIRE(objects.size() == 1);
  CHECK(objects[0].size == 12);
  const pg::Command& list = runner.commands().back();
  CHECK(list.program == "rclone");
  CHECK(list.args == std::vector<std::string>{"lsjson", "--files-only", "--no-mimetype", "--no-modtime",
                                              "s3remote:bucket/portfolio"});
  CHECK(list.env.at("RCLONE_CONFIG") == "/etc/auditpitr/rclone.conf");

  runner.script("rclone", {0, "[{\"Path\":\"x\",\"Size\":3,\"IsDir\":false,\"Hashes\":{\"sha1\":\"abc\"}}]", ""});
  auto stat = store.stat("audit/x", "sha1");
  REQUIRE(stat);
  CHECK(stat->hash == "abc");
  CHECK(stat->path == "audit/x");
  CHECK(runner.commands().back().args == std::vector<std::string>{"lsjson", "--files-only", "--no-mimetype",
                                                                  "--no-modtime", "--hash-type", "sha1",
                                                                  "s3remote:bucket/portfolio/audit/x"});

  runner.script("rclone", {3, "", "directory not found"});  // rclone's "directory not found"
  CHECK(store.list("audit").empty());
  CHECK_FALSE(store.stat("nothing", ""));

  runner.script("rclone", {7, "", "Failed to copy: AccessDenied: Access Denied"});
  try {
    store.upload("/tmp/a", "a.tmp-abc123");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::runtime);
    CHECK_THAT(e.what(), Catch::Contains("'offsite'") && Catch::Contains("AccessDenied"));
  }
  CHECK(runner.commands().back().args ==
        std::vector<std::string>{"copyto", "/tmp/a", "s3remote:bucket/portfolio/a.tmp-abc123"});
}
