// ConnInfo: libpq's own parser, so every form libpq accepts (keywords, URIs) works here too.
#include "src/pg/conninfo.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>

#include "src/error.h"

namespace auditpitr::pg {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

}  // namespace

std::string quote_conninfo_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

ConnInfo ConnInfo::parse(const std::string& conninfo, const std::string& dbname) {
  char* errmsg = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &errmsg);
  if (!options) {
    std::string reason = errmsg ? errmsg : "out of memory";
    PQfreemem(errmsg);
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == '.')) reason.pop_back();
    throw usage_error("invalid connection string: " + reason,
                      "use libpq syntax, e.g. \"host=localhost port=5432 user=app\"");
  }
  ConnInfo info;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (o->val && *o->val) info.params_[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  if (!info.params_.count("dbname") && !dbname.empty()) info.params_["dbname"] = dbname;
  return info;
}

std::string ConnInfo::server_address() const {
  auto get = [&](const char* key, const char* env, const std::string& fallback) {
    auto it = params_.find(key);
    return it != params_.end() ? it->second : env_or(env, fallback);
  };
  std::string host = get("host", "PGHOST", "");
  if (host.empty()) host = get("hostaddr", "PGHOSTADDR", "/var/run/postgresql");
  return host + ":" + get("port", "PGPORT", "5432");
}

std::string ConnInfo::dbname() const {
  auto it = params_.find("dbname");
  return it != params_.end() ? it->second : env_or("PGDATABASE", "");
}

ConnInfo ConnInfo::with_dbname(const std::string& dbname) const {
  ConnInfo copy = *this;
  copy.params_["dbname"] = dbname;
  return copy;
}

std::string ConnInfo::to_libpq_string() const {
  std::string out;
  for (const auto& [key, value] : params_) {
    if (!out.empty()) out += ' ';
    out += key + "=" + quote_conninfo_value(value);
  }
  return out;
}

std::map<std::string, std::string> ConnInfo::child_environment() const {
  std::map<std::string, std::string> env;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> defaults(PQconndefaults(), PQconninfoFree);
  for (PQconninfoOption* o = defaults.get(); o && o->keyword; ++o) {
    auto it = params_.find(o->keyword);
    if (it != params_.end() && o->envvar) env[o->envvar] = it->second;
  }
  return env;
}

}  // namespace auditpitr::pg
