// [[remotes]] configuration; RcloneStore's argv (rclone's own config by RCLONE_CONFIG, never a secret on
// the command line); push and pull over an in-memory RemoteStore that damages what it receives.
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>

#include "src/catalog/catalog.h"
#include "src/config/config.h"
#include "src/error.h"
#include "src/ops/push.h"
#include "src/remote/rclone_store.h"
#include "src/util/fs.h"
#include "src/util/sha256.h"
#include "tests/support/recording_runner.h"
#include "tests/support/temp_dir.h"

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

namespace {

// A RemoteStore in memory: what push and pull do with a store, without rclone. It can damage what
// it receives (a bad link, a bad disk) and compute sha256 or no hash at all.
class MemoryStore : public remote::RemoteStore {
 public:
  std::map<std::string, std::string> files;
  std::vector<std::string> hashes = {"sha256"};
  bool damage_uploads = false;

  std::string describe() const override { return "'memory'"; }
  std::vector<remote::RemoteObject> list(const std::string& folder) override {
    std::vector<remote::RemoteObject> out;
    for (const auto& [path, content] : files) {
      std::string parent = path.find('/') == std::string::npos ? "" : path.substr(0, path.rfind('/'));
      if (parent == folder) out.push_back({path, content.size(), ""});
    }
    return out;
  }
  std::optional<remote::RemoteObject> stat(const std::string& path, const std::string& hash_type) override {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    remote::RemoteObject o{path, it->second.size(), ""};
    if (hash_type == "sha256") {
      Sha256 sha;
      sha.update(it->second.data(), it->second.size());
      o.hash = sha.hex_digest();
    }
    return o;
  }
  std::vector<std::string> hash_types() override { return hashes; }
  void upload(const std::string& local_path, const std::string& path) override {
    std::string content = test::read_text(local_path);
    if (damage_uploads && !content.empty()) content[content.size() / 2] ^= 0x5a;
    files[path] = content;
  }
  void write(const std::string& path, const std::string& content) override { files[path] = content; }
  void read(const std::string& path, const std::function<void(const char*, std::size_t)>& sink,
            const std::string& include) override {
    if (include.empty()) {
      const std::string& content = files.at(path);
      sink(content.data(), content.size());
      return;
    }
    for (const auto& [name, content] : files)
      if (name.rfind(path + "/", 0) == 0 && temporary_file_target(name).empty()) sink(content.data(), content.size());
  }
  void move(const std::string& from, const std::string& to) override {
    files[to] = files.at(from);
    files.erase(from);
  }
  void remove(const std::string& path) override { files.erase(path); }
};

struct LocalFolder {
  test::TempDir dir;
  Config config;
  RemoteConfig remote;
  LocalFolder() {
    ensure_directory(dir / "backups", 0700);
    config = parse_config(
        "[backup]\ndir = \"backups\"\n[[databases]]\nalias = \"app\"\ndbname = \"app_db\"\n"
        "[[remotes]]\nname = \"memory\"\nrclone = \"memory:\"\n",
        dir / "auditpitr.toml");
    remote = config.remote("memory");
    // An old script's dump as the catalog sees it: the content is what push copies.
    test::write_text(dir / "backups/app_db_20250101_120000.dump.gz", std::string(4096, 'x') + "tail");
  }
};

}  // namespace

TEST_CASE("push: each copy verified before its final name; a damaged copy stops the set, nothing left", "[remote]") {
  LocalFolder local;
  MemoryStore store;
  SECTION("a sound copy, verified by the store's sha256") {
    ops::PushResult r = ops::push_backups(local.config, local.remote, store, false, 0, ops::Reporter{});
    CHECK(r.verified_by == "sha256");
    REQUIRE(r.pushed.size() == 1);
    CHECK(store.files.count("app_db_20250101_120000.dump.gz"));
    CHECK(store.files.count("pushed/20250101_120000.json"));
    CHECK(store.files.size() == 2);  // no temporary name left
  }
  for (bool with_hash : {true, false}) {
    DYNAMIC_SECTION("damaged on the way, " << (with_hash ? "the store's sha256" : "no hash: read back")) {
      store.damage_uploads = true;
      if (!with_hash) store.hashes.clear();
      try {
        ops::push_backups(local.config, local.remote, store, false, 0, ops::Reporter{});
        FAIL("no error");
      } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::verification);
        CHECK_THAT(e.what(), Catch::Contains("'app_db_20250101_120000.dump.gz'") &&
                                 Catch::Contains(with_hash ? "sha256" : "read back"));
      }
      CHECK(store.files.empty());  // neither the final name, nor the temporary copy, nor a record
    }
  }
}

TEST_CASE("pull: a copy whose content differs from push's record is refused before anything is renamed", "[remote]") {
  LocalFolder local;
  MemoryStore store;
  ops::push_backups(local.config, local.remote, store, false, 0, ops::Reporter{});
  std::string& copy = store.files.at("app_db_20250101_120000.dump.gz");
  copy[10] ^= 1;  // same size: only the checksum can tell
  std::string dump = local.dir / "backups/app_db_20250101_120000.dump.gz";
  REQUIRE(std::remove(dump.c_str()) == 0);
  test::RecordingProcessRunner runner;  // no program may run: the record already refuses the copy
  try {
    ops::pull_backup(local.config, local.remote, store, "20250101_120000", runner, ops::Reporter{});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::verification);
    CHECK_THAT(e.what(), Catch::Contains("'app_db_20250101_120000.dump.gz'") && Catch::Contains("damaged"));
  }
  CHECK(runner.commands().empty());
  CHECK_FALSE(path_exists(dump));
  CHECK(Catalog::scan(local.dir / "backups").temporary_files().empty());
}
