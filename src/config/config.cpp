// Loading auditpitr.toml with toml++, with messages that point at file:line and the key.
#include "src/config/config.h"

#include <cctype>

#include "src/error.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/suggest.h"
#include "src/util/toml_reader.h"

namespace auditpitr {
namespace {

/// The configuration's typed keys, on top of the shared TOML reading.
class Reader : public TomlReader {
 public:
  explicit Reader(std::string path)
      : TomlReader("configuration", std::move(path), "see docs/configuration.md for the expected shape") {}

  std::string string_at(const toml::table& table, const char* key, const std::string& section, bool required = false,
                        const std::string& fallback = {}) const {
    const toml::node* node = table.get(key);
    if (!node) {
      if (required) fail(&table, "missing key '" + std::string(key) + "' in " + section);
      return fallback;
    }
    if (!node->is_string()) fail(node, "'" + std::string(key) + "' in " + section + " must be a string");
    return node->value<std::string>().value();
  }

  int int_at(const toml::table& table, const char* key, const std::string& section, int fallback, int min,
             int max) const {
    const toml::node* node = table.get(key);
    if (!node) return fallback;
    if (!node->is_integer()) fail(node, "'" + std::string(key) + "' in " + section + " must be a whole number");
    int64_t v = node->value<int64_t>().value();
    if (v < min || v > max)
      fail(node, "'" + std::string(key) + "' in " + section + " must be between " + std::to_string(min) + " and " +
                     std::to_string(max) + ", not " + std::to_string(v));
    return static_cast<int>(v);
  }

  std::vector<std::string> argv_at(const toml::table& table, const char* key, const std::string& section) const {
    std::vector<std::string> result;
    const toml::node* node = table.get(key);
    if (!node) return result;
    const toml::array* array = node->as_array();
    if (!array || array->empty())
      fail(node, "'" + std::string(key) + "' in " + section + " must be a non-empty list of strings (argv)",
           "e.g. " + std::string(key) + " = [\"systemctl\", \"stop\", \"portfolio\"]");
    for (const auto& item : *array) {
      if (!item.is_string()) fail(node, "'" + std::string(key) + "' in " + section + " must hold only strings");
      result.push_back(item.value<std::string>().value());
    }
    return result;
  }

  int64_t duration_at(const toml::table& table, const char* key, const std::string& section, int64_t fallback) const {
    const toml::node* node = table.get(key);
    if (!node) return fallback;
    std::string what = "'" + std::string(key) + "' in " + section;
    if (!node->is_string()) fail(node, what + " must be a duration in quotes, e.g. \"26h\"");
    try {
      return parse_duration_setting(node->value<std::string>().value(), what);
    } catch (const Error& e) {
      fail(node, e.what(), e.hint());
    }
  }

  const toml::table* section(const toml::table& root, const char* name) const {
    const toml::node* node = root.get(name);
    if (!node) return nullptr;
    if (!node->is_table()) fail(node, "'" + std::string(name) + "' must be a table ([" + name + "])");
    return node->as_table();
  }
};

// What age accepts as a recipient ("age1…" X25519 keys, "ssh-ed25519 …", "ssh-rsa …"): "" when it is
// one, else why not. A secret key pasted here by mistake is named as such.
std::string recipient_problem(const std::string& recipient) {
  if (recipient.rfind("age1", 0) == 0) {
    for (char c : recipient)
      if (!std::isalnum(static_cast<unsigned char>(c))) return "an age1 key holds only letters and digits";
    return recipient.size() == 62 ? "" : "an age1 X25519 key is 62 characters long";
  }
  if (recipient.rfind("ssh-ed25519 ", 0) == 0 || recipient.rfind("ssh-rsa ", 0) == 0)
    return recipient.find('\n') == std::string::npos ? "" : "it spans several lines";
  if (recipient.rfind("AGE-SECRET-KEY-", 0) == 0)
    return "it is a secret key, not a recipient: never put it in the configuration (age-keygen -y FILE prints the "
           "public key)";
  return "not an age recipient (\"age1…\", as age-keygen prints, or an \"ssh-ed25519 …\" public key)";
}

std::string resolve(const std::string& folder, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return join_path(folder, path);
}

// A name becomes part of backup file names, which the catalog reads back line by line and which
// list prints: a newline there made a backup that list, check and restore could not find.
void reject_control_characters(const Reader& r, const toml::table& t, const char* key, const std::string& name) {
  if (printable(name) == name) return;
  r.fail(t.get(key) ? t.get(key) : &t, std::string(key) + " '" + printable(name) + "' contains a control character",
         "names of databases and aliases cannot hold newlines, tabs or other control characters");
}

void read_databases(const Reader& r, const toml::table& root, Config& config) {
  const toml::node* node = root.get("databases");
  if (!node) r.fail(&root, "no [[databases]] entry", "add one: [[databases]] alias = \"app\" dbname = \"app_db\"");
  const toml::array* list = node->as_array();
  if (!list || !list->is_array_of_tables()) r.fail(node, "'databases' must be written as [[databases]] tables");
  std::set<std::string> aliases;
  for (const auto& item : *list) {
    const toml::table& t = *item.as_table();
    r.reject_unknown_keys(t, "[[databases]]", {"alias", "dbname", "conninfo"});
    DatabaseConfig db;
    db.dbname = r.string_at(t, "dbname", "[[databases]]", true);
    db.alias = r.string_at(t, "alias", "[[databases]]", false, db.dbname);
    db.conninfo = r.string_at(t, "conninfo", "[[databases]]");
    if (db.alias.empty() || db.alias == "all")
      r.fail(&t, "alias '" + db.alias + "' is not allowed", "'all' means every database on the command line");
    if (db.dbname.find('/') != std::string::npos || db.dbname.empty())
      r.fail(&t, "dbname '" + db.dbname + "' cannot be used as a backup file prefix");
    reject_control_characters(r, t, "dbname", db.dbname);
    reject_control_characters(r, t, "alias", db.alias);
    if (!aliases.insert(db.alias).second) r.fail(&t, "alias '" + db.alias + "' is used twice");
    try {
      pg::ConnInfo::parse(db.conninfo, db.dbname);
    } catch (const Error& e) {
      r.fail(t.get("conninfo"), std::string(e.what()) + " (database '" + db.alias + "')", e.hint());
    }
    config.databases.push_back(db);
  }
}

// [[files]]: the name is a file prefix beside the dumps, so it must not read as one of theirs.
void read_files(const Reader& r, const toml::table& root, Config& config) {
  const toml::node* node = root.get("files");
  if (!node) return;
  const toml::array* list = node->as_array();
  if (!list || !list->is_array_of_tables()) r.fail(node, "'files' must be written as [[files]] tables");
  std::set<std::string> names;
  for (const auto& item : *list) {
    const toml::table& t = *item.as_table();
    r.reject_unknown_keys(t, "[[files]]", {"name", "path"});
    FilesConfig files;
    files.name = r.string_at(t, "name", "[[files]]", true);
    files.path = resolve(config.folder, r.string_at(t, "path", "[[files]]", true));
    while (files.path.size() > 1 && files.path.back() == '/') files.path.pop_back();
    bool plain = !files.name.empty();
    for (char c : files.name) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
    if (!plain || files.name == "latest")
      r.fail(t.get("name"), "files name '" + printable(files.name) + "' cannot be used as an archive file prefix",
             "use letters, digits, '_' and '-', e.g. name = \"uploads\"");
    if (files.path.empty() || base_name(files.path).empty() || base_name(files.path) == "." ||
        base_name(files.path) == "..")
      r.fail(t.get("path"), "path '" + printable(files.path) + "' in [[files]] must name a folder",
             "e.g. path = \"uploads\" (relative to this file)");
    if (!names.insert(files.name).second) r.fail(&t, "files name '" + files.name + "' is used twice");
    for (const auto& db : config.databases)
      if (db.dbname == files.name)
        r.fail(t.get("name"), "files name '" + files.name + "' is also a database's dbname",
               "archives and dumps share the backup folder: choose another name");
    config.files.push_back(files);
  }
}

// [backup] encrypt_to (public keys: the backup never needs a secret) and identity_file (a path to
// the secret, for reading encrypted backups back; the key itself is never in this file).
void read_encryption(const Reader& r, const toml::table& backup, Config& config) {
  if (const toml::node* node = backup.get("encrypt_to")) {
    const toml::array* array = node->as_array();
    if (!array)
      r.fail(node, "'encrypt_to' in [backup] must be a list of age recipients", "e.g. encrypt_to = [\"age1…\"]");
    for (const auto& item : *array) {
      std::string recipient = item.is_string() ? item.value<std::string>().value() : "";
      std::string problem = item.is_string() ? recipient_problem(recipient) : "not a string";
      bool secret = recipient.rfind("AGE-SECRET-KEY-", 0) == 0;  // only its well-known prefix is shown
      if (!problem.empty())
        r.fail(&item,
               "'encrypt_to' in [backup]: '" + printable(recipient.substr(0, secret ? 15 : 20)) + "…' " + problem,
               "age-keygen -o key.txt prints the public key (age1…) to put here; keep key.txt elsewhere");
      config.encrypt_to.push_back(recipient);
    }
  }
  config.identity_file = resolve(config.folder, r.string_at(backup, "identity_file", "[backup]"));
  if (!config.identity_file.empty()) config.identity_origin = "[backup] identity_file in '" + config.path + "'";
}

// [audit] database names an alias; a dbname there is the usual slip, so it is matched first.
void check_audit_alias(const Reader& r, const toml::table& audit, const Config& config) {
  std::vector<std::string> aliases;
  std::string known;
  for (const auto& db : config.databases) {
    if (db.alias == config.audit_database) return;
    aliases.push_back(db.alias);
    known += (known.empty() ? "" : ", ") + db.alias;
  }
  std::string suggestion = did_you_mean(config.audit_database, aliases, "alias");
  for (const auto& db : config.databases)
    if (db.dbname == config.audit_database) suggestion = "; did you mean alias '" + db.alias + "'?";
  r.fail(audit.get("database") ? audit.get("database") : &audit,
         "unknown database alias '" + config.audit_database + "' in [audit]" + suggestion,
         "[audit] database names the alias of a [[databases]] entry: " + known);
}

// rclone's path: "name:path" for a configured remote, else a local folder (relative to this file).
std::string resolve_remote_path(const std::string& folder, const std::string& path) {
  std::size_t colon = path.find(':');
  bool remote = colon != std::string::npos && path.find('/') > colon;
  return remote ? path : resolve(folder, path);
}

void read_remotes(const Reader& r, const toml::table& root, Config& config) {
  const toml::node* node = root.get("remotes");
  if (!node) return;
  const toml::array* list = node->as_array();
  if (!list || !list->is_array_of_tables()) r.fail(node, "'remotes' must be written as [[remotes]] tables");
  for (const auto& item : *list) {
    const toml::table& t = *item.as_table();
    r.reject_unknown_keys(t, "[[remotes]]",
                          {"name", "rclone", "config", "retention_days", "keep_daily", "keep_weekly", "keep_monthly"});
    RemoteConfig remote;
    remote.name = r.string_at(t, "name", "[[remotes]]", true);
    std::string path = r.string_at(t, "rclone", "[[remotes]]", true);
    if (remote.name.empty() || printable(remote.name) != remote.name)
      r.fail(&t, "remote name '" + printable(remote.name) + "' is not allowed", "name it with letters and digits");
    if (path.empty() || path[0] == '-' || printable(path) != path)
      r.fail(t.get("rclone"), "rclone path '" + printable(path) + "' of remote '" + remote.name + "' is not usable",
             "e.g. rclone = \"s3remote:bucket/portfolio\" (a remote of rclone.conf) or a folder");
    remote.rclone = resolve_remote_path(config.folder, path);
    remote.config_file = resolve(config.folder, r.string_at(t, "config", "[[remotes]]"));
    std::string section = "[[remotes]] '" + remote.name + "'";
    remote.retention.retention_days = r.int_at(t, "retention_days", section, 0, 0, 100000);
    remote.retention.keep_daily = r.int_at(t, "keep_daily", section, 0, 0, 100000);
    remote.retention.keep_weekly = r.int_at(t, "keep_weekly", section, 0, 0, 100000);
    remote.retention.keep_monthly = r.int_at(t, "keep_monthly", section, 0, 0, 100000);
    for (const auto& other : config.remotes)
      if (other.name == remote.name) r.fail(&t, "remote name '" + remote.name + "' is used twice");
    config.remotes.push_back(remote);
  }
}

}  // namespace

const RemoteConfig& Config::remote(const std::string& name) const {
  std::string known;
  std::vector<std::string> names;
  for (const auto& rm : remotes) {
    if (rm.name == name || (name.empty() && remotes.size() == 1)) return rm;
    known += (known.empty() ? "" : ", ") + rm.name;
    names.push_back(rm.name);
  }
  if (remotes.empty())
    throw usage_error(
        "no remote is configured",
        "add one to the configuration: [[remotes]] name = \"offsite\" rclone = \"s3remote:bucket/portfolio\" "
        "(docs/push.md)");
  if (name.empty()) throw usage_error("several remotes are configured: name one with --remote", "they are: " + known);
  throw usage_error("unknown remote '" + name + "'" + did_you_mean(name, names, "remote"),
                    "the configured remotes are: " + known);
}

pg::ConnInfo DatabaseConfig::connect_info() const { return pg::ConnInfo::parse(conninfo, dbname); }

const DatabaseConfig& Config::database(const std::string& alias) const {
  for (const auto& db : databases)
    if (db.alias == alias) return db;
  std::string known, suggestion;
  std::vector<std::string> aliases;
  for (const auto& db : databases) {
    known += (known.empty() ? "" : ", ") + db.alias;
    aliases.push_back(db.alias);
    if (db.dbname == alias) suggestion = "; did you mean alias '" + db.alias + "'?";
  }
  if (suggestion.empty()) suggestion = did_you_mean(alias, aliases, "alias");
  throw usage_error("unknown database alias '" + alias + "'" + suggestion, "the configured aliases are: " + known);
}

std::string Config::alias_of(const std::string& dbname) const {
  for (const auto& db : databases)
    if (db.dbname == dbname) return db.alias;
  return "";
}

const FilesConfig* Config::files_named(const std::string& name) const {
  for (const auto& f : files)
    if (f.name == name) return &f;
  return nullptr;
}

std::vector<const DatabaseConfig*> Config::select(const std::vector<std::string>& aliases) const {
  std::vector<const DatabaseConfig*> result;
  bool all = aliases.empty();
  for (const auto& a : aliases) all = all || a == "all";
  if (all) {
    for (const auto& db : databases) result.push_back(&db);
    return result;
  }
  for (const auto& a : aliases) {
    const DatabaseConfig* db = &database(a);
    bool seen = false;
    for (auto* r : result) seen = seen || r == db;
    if (!seen) result.push_back(db);
  }
  return result;
}

Config parse_config(const std::string& text, const std::string& path) {
  Reader r(path);
  toml::table root = r.parse(text);
  Config config;
  config.path = path;
  config.folder = parent_path(path);
  r.reject_unknown_keys(root, "the top level",
                        {"backup", "databases", "files", "restore", "hooks", "audit", "tools", "remotes", "status"});

  const toml::table* backup = r.section(root, "backup");
  if (!backup) r.fail(&root, "missing [backup] section", "add [backup] with dir = \"backups\"");
  r.reject_unknown_keys(*backup, "[backup]",
                        {"dir", "retention_days", "keep_daily", "keep_weekly", "keep_monthly", "compression_level",
                         "encrypt_to", "identity_file"});
  config.backup_dir = resolve(config.folder, r.string_at(*backup, "dir", "[backup]", false, "backups"));
  config.retention.retention_days = r.int_at(*backup, "retention_days", "[backup]", 30, 0, 100000);
  config.retention.keep_daily = r.int_at(*backup, "keep_daily", "[backup]", 0, 0, 100000);
  config.retention.keep_weekly = r.int_at(*backup, "keep_weekly", "[backup]", 0, 0, 100000);
  config.retention.keep_monthly = r.int_at(*backup, "keep_monthly", "[backup]", 0, 0, 100000);
  config.compression_level = r.int_at(*backup, "compression_level", "[backup]", 6, 1, 9);
  read_encryption(r, *backup, config);

  read_databases(r, root, config);
  read_files(r, root, config);
  read_remotes(r, root, config);

  if (const toml::table* restore = r.section(root, "restore")) {
    r.reject_unknown_keys(*restore, "[restore]", {"free_connections_percent"});
    config.free_connections_percent = r.int_at(*restore, "free_connections_percent", "[restore]", 50, 0, 99);
  }
  if (const toml::table* hooks = r.section(root, "hooks")) {
    r.reject_unknown_keys(*hooks, "[hooks]", {"pre_restore", "post_restore"});
    config.pre_restore_hook = r.argv_at(*hooks, "pre_restore", "[hooks]");
    config.post_restore_hook = r.argv_at(*hooks, "post_restore", "[hooks]");
  }
  if (const toml::table* audit = r.section(root, "audit")) {
    r.reject_unknown_keys(*audit, "[audit]", {"dir", "database", "mapping", "skew_margin_seconds"});
    config.audit_dir = resolve(config.folder, r.string_at(*audit, "dir", "[audit]", false, "audit"));
    config.audit_database = r.string_at(*audit, "database", "[audit]", false, config.databases.front().alias);
    config.audit_mapping = resolve(config.folder, r.string_at(*audit, "mapping", "[audit]"));
    config.audit_skew_margin_seconds = r.int_at(*audit, "skew_margin_seconds", "[audit]", 5, 0, 86400);
    check_audit_alias(r, *audit, config);
  }
  if (const toml::table* tools = r.section(root, "tools")) {
    r.reject_unknown_keys(*tools, "[tools]", {"bin_dir", "exec"});
    config.pg_exec = r.argv_at(*tools, "exec", "[tools]");
    // With exec, bin_dir is a folder inside the container: not relative to this file.
    std::string bin_dir = r.string_at(*tools, "bin_dir", "[tools]");
    config.pg_bin_dir = config.pg_exec.empty() ? resolve(config.folder, bin_dir) : bin_dir;
  }
  if (const toml::table* status = r.section(root, "status")) {
    r.reject_unknown_keys(*status, "[status]", {"max_backup_age", "max_log_lag"});
    config.status.max_backup_age_seconds =
        r.duration_at(*status, "max_backup_age", "[status]", config.status.max_backup_age_seconds);
    config.status.max_log_lag_seconds =
        r.duration_at(*status, "max_log_lag", "[status]", config.status.max_log_lag_seconds);
  }
  return config;
}

int64_t parse_duration_setting(const std::string& text, const std::string& what) {
  const std::string hint = "a whole number and a unit: s, m, h or d (\"26h\", \"90m\"), or \"0\" to turn the check off";
  if (text == "0") return 0;
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9 || digits + 1 != text.size())
    throw usage_error(what + " is not a duration: '" + text + "'", hint);
  int64_t n = std::stoll(text.substr(0, digits));
  switch (text.back()) {
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
  }
  throw usage_error(what + " is not a duration: '" + text + "'", hint);
}

Config load_config(const std::string& path) {
  return parse_config(
      read_toml_file(path, "configuration", "create it (see docs/configuration.md), or name another with -c PATH"),
      path);
}

}  // namespace auditpitr
