// What a dump does not carry but a restored database must keep: its settings (ALTER DATABASE …
// SET, ALTER ROLE … IN DATABASE … SET), its privileges (GRANT … ON DATABASE, including CONNECT
// revoked from PUBLIC) and its connection limit. They are read from the server's catalog and
// written as statements with every name quoted as an identifier and every value as a literal.
#include <set>

#include "src/error.h"
#include "src/ops/restore_internal.h"

namespace auditpitr::ops::detail {
namespace {

/// Settings whose value is a list of separately quoted items (as pg_dump treats them): the
/// catalog holds `search_path=public, "My Schema"`, which must go back as 'public', 'My Schema'.
bool is_list_setting(const std::string& name) {
  static const std::set<std::string> lists = {"local_preload_libraries",   "search_path",
                                              "session_preload_libraries", "shared_preload_libraries",
                                              "temp_tablespaces",          "unix_socket_directories"};
  return lists.count(name) > 0;
}

/// Splits a stored list setting at its commas; items may be double-quoted ("" inside is a quote).
std::vector<std::string> split_list_setting(const std::string& value) {
  std::vector<std::string> items;
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && value[i] == ' ') ++i;
    std::string item;
    if (i < value.size() && value[i] == '"') {
      for (++i; i < value.size(); ++i) {
        if (value[i] == '"' && (i + 1 >= value.size() || value[i + 1] != '"')) break;
        if (value[i] == '"') ++i;
        item += value[i];
      }
      ++i;  // the closing quote
    } else {
      while (i < value.size() && value[i] != ',') item += value[i++];
      while (!item.empty() && item.back() == ' ') item.pop_back();
    }
    items.push_back(item);
    while (i < value.size() && value[i] != ',') ++i;
    ++i;  // the comma
  }
  return items;
}

/// `name` (a setting's name, `a` or `a.b` for extensions' settings) with each part quoted.
std::string quoted_setting_name(const std::string& name) {
  std::string quoted;
  std::size_t start = 0;
  for (std::size_t dot; (dot = name.find('.', start)) != std::string::npos; start = dot + 1)
    quoted += pg::quote_ident(name.substr(start, dot - start)) + ".";
  return quoted + pg::quote_ident(name.substr(start));
}

/// `name=value` from pg_db_role_setting as `SET name TO 'value'` (or TO 'item', 'item').
std::string set_clause(pqxx::transaction_base& tx, const std::string& entry) {
  std::size_t equals = entry.find('=');
  if (equals == std::string::npos || equals == 0) throw runtime_error("unexpected database setting '" + entry + "'");
  std::string name = entry.substr(0, equals), value = entry.substr(equals + 1);
  std::string values;
  if (is_list_setting(name)) {
    for (const std::string& item : split_list_setting(value)) values += (values.empty() ? "" : ", ") + tx.quote(item);
  } else {
    values = tx.quote(value);
  }
  return " SET " + quoted_setting_name(name) + " TO " + values;
}

void copy_settings(pqxx::transaction_base& tx, const std::string& original, const std::string& copy) {
  pqxx::result settings = tx.exec_params(
      "SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END, unnest(s.setconfig) "
      "FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1 ORDER BY 1, 2",
      original);
  for (const auto& row : settings) {
    std::string target = row[0].is_null() ? "DATABASE " + pg::quote_ident(copy)
                                          : "ROLE " + pg::quote_ident(row[0].as<std::string>()) + " IN DATABASE " +
                                                pg::quote_ident(copy);
    tx.exec("ALTER " + target + set_clause(tx, row[1].as<std::string>()));
  }
}

/// The privileges exactly: the copy's are revoked (it was created closed), then each privilege
/// of the original granted again; PostgreSQL's defaults when the original has never changed them
/// or does not exist.
void copy_privileges(pqxx::transaction_base& tx, const std::string& original, const std::string& copy) {
  pqxx::result acl = tx.exec_params(
      "SELECT datacl IS NULL, datconnlimit, pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", original);
  if (acl.empty() || acl[0][0].as<bool>()) {
    tx.exec("GRANT CONNECT, TEMPORARY ON DATABASE " + pg::quote_ident(copy) + " TO PUBLIC");
    if (acl.empty()) return;
  }
  int connection_limit = acl[0][1].as<int>();
  if (connection_limit != -1)
    tx.exec("ALTER DATABASE " + pg::quote_ident(copy) + " CONNECTION LIMIT " + std::to_string(connection_limit));
  if (acl[0][0].as<bool>()) return;
  tx.exec("REVOKE ALL ON DATABASE " + pg::quote_ident(copy) + " FROM PUBLIC, " +
          pg::quote_ident(acl[0][2].as<std::string>()));
  pqxx::result grants = tx.exec_params(
      "SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, a.is_grantable "
      "FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = $1 ORDER BY 1, 2",
      original);
  static const std::set<std::string> privileges = {"CREATE", "CONNECT", "TEMPORARY"};
  for (const auto& row : grants) {
    std::string privilege = row[1].as<std::string>();
    if (!privileges.count(privilege)) throw runtime_error("unexpected database privilege '" + privilege + "'");
    std::string grantee = row[0].is_null() ? "PUBLIC" : pg::quote_ident(row[0].as<std::string>());
    tx.exec("GRANT " + privilege + " ON DATABASE " + pg::quote_ident(copy) + " TO " + grantee +
            (row[2].as<bool>() ? " WITH GRANT OPTION" : ""));
  }
}

}  // namespace

void copy_database_properties(AdminSession& admin, const std::string& original, const std::string& copy) {
  auto& conn = admin.connection();
  try {
    pqxx::work tx(conn.raw());
    copy_settings(tx, original, copy);
    copy_privileges(tx, original, copy);
    tx.commit();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "copying the settings and privileges of '" + original + "' to '" + copy + "'", conn);
  }
}

}  // namespace auditpitr::ops::detail
