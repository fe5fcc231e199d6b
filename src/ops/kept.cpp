// The kept copies of restores on each configured server: listed from pg_database, dropped only
// with auditpitr's mark (AdminSession::drop_marked_database checks it again just before dropping).
#include "src/ops/kept.h"

#include <map>

#include "src/catalog/stamp.h"
#include "src/error.h"
#include "src/ops/restore_internal.h"

namespace auditpitr::ops {
namespace {

void add_copies_of(const DatabaseConfig& db, CopyKind kind, detail::AdminSession& admin,
                   std::vector<KeptCopy>& copies) {
  std::string prefix = copy_prefix(kind, db.dbname);
  auto& conn = admin.connection();
  try {
    pqxx::nontransaction tx(conn.raw());
    pqxx::result rows = tx.exec_params(
        "SELECT d.datname, shobj_description(d.oid, 'pg_database'), "
        "CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END, "
        "(SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.oid)::int "
        "FROM pg_database d WHERE left(d.datname, length($1)) = $1 ORDER BY d.datname",
        prefix);
    for (const auto& row : rows) {
      KeptCopy copy;
      copy.alias = db.alias;
      copy.dbname = db.dbname;
      copy.name = row[0].as<std::string>();
      copy.kind = kind;
      copy.stamp = copy.name.substr(prefix.size());
      if (!is_stamp(copy.stamp)) continue;  // another name that happens to start alike
      auto mark = row[1].is_null() ? std::nullopt : parse_mark(row[1].as<std::string>());
      copy.marked = mark && mark->kind == kind && mark->stamp == copy.stamp;
      if (copy.marked) copy.made = mark->made;
      if (!row[2].is_null()) copy.bytes = row[2].as<uint64_t>();
      copy.sessions = row[3].as<int>();
      copies.push_back(copy);
    }
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "listing the kept copies of '" + db.dbname + "'", conn);
  }
}

std::string names_of(const std::vector<const KeptCopy*>& copies) {
  std::string names;
  for (const auto* c : copies) names += (names.empty() ? "'" : "', '") + c->name;
  return names + "'";
}

}  // namespace

std::vector<KeptCopy> list_kept(const Config& config, const std::vector<std::string>& aliases) {
  std::vector<KeptCopy> copies;
  for (const DatabaseConfig* db : config.select(aliases)) {
    detail::AdminSession admin(db->connect_info());
    add_copies_of(*db, CopyKind::kept, admin, copies);
    add_copies_of(*db, CopyKind::undone, admin, copies);
  }
  return copies;
}

std::vector<KeptCopy> choose_kept(const std::vector<KeptCopy>& copies, const KeptChoice& choice) {
  std::vector<KeptCopy> chosen;
  if (!choice.stamp.empty()) {
    std::vector<const KeptCopy*> unmarked;
    for (const auto& c : copies) {
      if (c.stamp != choice.stamp) continue;
      chosen.push_back(c);
      if (!c.marked) unmarked.push_back(&c);
    }
    if (chosen.empty())
      throw usage_error("no kept copy of the restore " + choice.stamp + " exists for the selected database(s)",
                        "'auditpitr kept' lists them");
    if (!unmarked.empty())
      throw runtime_error(names_of(unmarked) + (unmarked.size() == 1 ? " does" : " do") +
                              " not carry auditpitr's mark: nothing was dropped",
                          "auditpitr only drops the copies it made; drop such a database yourself if it is not "
                          "needed (DROP DATABASE), or leave it out with --db");
    return chosen;
  }
  for (const auto& c : copies)
    if (c.marked && choice.older_than_seconds && choice.now - c.made > *choice.older_than_seconds) chosen.push_back(c);
  return chosen;
}

std::vector<std::string> drop_kept(const Config& config, const std::vector<KeptCopy>& chosen,
                                   const Reporter& reporter) {
  std::vector<std::string> dropped;
  std::string failures;
  for (const auto& c : chosen) {
    try {
      detail::AdminSession admin(config.database(c.alias).connect_info());
      admin.drop_marked_database(c.name, c.kind, c.stamp);
      reporter.success("dropped '" + c.name + "'");
      dropped.push_back(c.name);
    } catch (const Error& e) {
      reporter.warning(e.what());
      failures += (failures.empty() ? "'" : "', '") + c.name;
    }
  }
  if (!failures.empty())
    throw runtime_error("not dropped: " + failures + "'" +
                            (dropped.empty() ? "" : " (the other " + std::to_string(dropped.size()) + " were)"),
                        "the warnings above say why; run it again once that is fixed");
  return dropped;
}

int64_t parse_age(const std::string& text, const std::string& what) {
  static const std::map<char, int64_t> units = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9 || text.size() != digits + 1 || !units.count(text.back()))
    throw usage_error(what + " '" + text + "' is not an age", "a number and a unit: 30d, 12h, 2w, 90m or 45s");
  return std::stoll(text.substr(0, digits)) * units.at(text.back());
}

}  // namespace auditpitr::ops
