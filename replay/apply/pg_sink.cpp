// Pipeline mode: statements go out in chunks, each closed by a sync, and the results of a chunk are
// read while the next one is being sent, so neither side waits for the other. Blocking sends
// cannot deadlock: a chunk's results are small and bounded (at most 200 characters per checked
// value), so the server never fills the socket while we are still sending.
#include "replay/apply/pg_sink.h"

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_set>

#include "replay/apply/batch_order.h"
#include "replay/apply/replay_state.h"
#include "replay/apply/row_statement.h"
#include "src/error.h"
#include "src/pg/connection.h"

namespace auditpitr::replay {
namespace {

constexpr std::size_t kChunk = 128;

constexpr std::size_t kChunkRows = 2048;
constexpr std::size_t kGroupMax = 500;

struct Item {
  enum class Kind { prepare, query, group, sync } kind;
  std::size_t index = 0;  // query, group: the (first) change
  std::size_t end = 0;    // group: one past its last change
  std::string shape;      // prepare: to forget the name when the preparation did not happen
};

struct Refusal {
  std::size_t index = 0, end = 0;  ///< the refused statement's changes
  std::string sqlstate, message;
};

std::vector<const char*> c_strings(const Params& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}

}  // namespace

// Which data conflict an event met (the report counts them by kind); whether a failure is worth
// retrying is pg::classify_sqlstate's answer, not this one's.
std::string conflict_kind_of(const std::string& sqlstate) {
  if (sqlstate == "23503") return "foreign_key";
  if (sqlstate == "23505") return "unique";
  if (sqlstate == "23502") return "not_null";
  if (sqlstate == "23514") return "check";
  if (sqlstate.rfind("22", 0) == 0 || sqlstate == "42804") return "type";
  if (sqlstate.rfind("23", 0) == 0) return "other";
  return {};
}

namespace {

// Tables where applying changes to distinct rows in one statement, in whatever order the executor
// takes them, gives what applying them one by one gives: nothing else compares rows of the table
// with each other (another unique key or exclusion constraint, a foreign key to itself) or sees
// the order (a user trigger, a rule).
void mark_set_based(PgSession& session, std::vector<TargetTable>& tables) {
  PgResult r = session.exec(R"SQL(
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND NOT c.relhasrules
      AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND NOT i.indisprimary
                        AND (i.indisunique OR i.indisexclusion))
      AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conrelid = c.oid
                        AND f.confrelid = c.oid)
      AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal))SQL",
                            {}, "reading the catalog");
  std::set<std::pair<std::string, std::string>> plain;
  for (int row = 0; row < PQntuples(r.get()); ++row)
    plain.emplace(PQgetvalue(r.get(), row, 0), PQgetvalue(r.get(), row, 1));
  for (auto& t : tables) t.set_based = plain.count({t.schema, t.name}) > 0;
}

// The foreign keys between the tables (TargetTable::references, plain_references).
void mark_references(PgSession& session, std::vector<TargetTable>& tables) {
  PgResult r = session.exec(R"SQL(
    SELECT cn.nspname || '.' || c.relname, pn.nspname || '.' || p.relname, cardinality(f.conkey),
      (SELECT attname FROM pg_attribute WHERE attrelid = f.conrelid AND attnum = f.conkey[1]),
      (SELECT attname FROM pg_attribute WHERE attrelid = f.confrelid AND attnum = f.confkey[1])
    FROM pg_constraint f JOIN pg_class c ON c.oid = f.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
      JOIN pg_class p ON p.oid = f.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
    WHERE f.contype = 'f')SQL",
                            {}, "reading the catalog");
  std::map<std::string, TargetTable*> by_name;
  for (auto& t : tables) by_name[t.qualified_name()] = &t;
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    auto child = by_name.find(PQgetvalue(r.get(), row, 0)), parent = by_name.find(PQgetvalue(r.get(), row, 1));
    if (child == by_name.end() || parent == by_name.end()) continue;  // a table replay never writes
    const std::vector<std::string>& parent_key = parent->second->primary_key;
    if (std::string(PQgetvalue(r.get(), row, 2)) == "1" && parent_key.size() == 1 &&
        parent_key[0] == PQgetvalue(r.get(), row, 4)) {
      child->second->references.emplace_back(PQgetvalue(r.get(), row, 3), parent->first);
    } else {
      child->second->plain_references = parent->second->plain_references = false;
    }
  }
}

}  // namespace

std::vector<TargetTable> read_target_tables(PgSession& session) {
  PgResult r = session.exec(std::string(R"SQL(
    SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory = 'A',
      t.typname IN ('json', 'jsonb'),
      (SELECT k.ord FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        WHERE i.indrelid = c.oid AND i.indisprimary AND k.attnum = a.attnum),
      a.attnotnull, a.atthasdef,
      (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d WHERE d.adrelid = c.oid AND d.adnum = a.attnum),
      EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      JOIN pg_type t ON t.oid = a.atttypid
    WHERE )SQL") + pg::kUserTablesCondition +
                                " ORDER BY 1, 2, a.attnum",
                            {}, "reading the catalog");
  std::vector<TargetTable> tables;
  std::vector<std::pair<long, std::string>> key;  // (position in the key, column) of the current table
  auto finish_key = [&] {
    std::sort(key.begin(), key.end());
    for (auto& k : key) tables.back().primary_key.push_back(k.second);
    key.clear();
  };
  const PGresult* res = r.get();
  for (int row = 0; row < PQntuples(res); ++row) {
    std::string schema = PQgetvalue(res, row, 0), name = PQgetvalue(res, row, 1);
    if (tables.empty() || tables.back().schema != schema || tables.back().name != name) {
      if (!tables.empty()) finish_key();
      tables.emplace_back();
      tables.back().schema = schema;
      tables.back().name = name;
    }
    std::string column = PQgetvalue(res, row, 2);
    auto flag = [&](int field) { return std::string(PQgetvalue(res, row, field)) == "t"; };
    tables.back().columns.push_back(
        {column, PQgetvalue(res, row, 3), flag(4), flag(5), flag(7), flag(8), PQgetvalue(res, row, 9)});
    tables.back().has_checks = flag(10);
    if (!PQgetisnull(res, row, 6)) key.emplace_back(std::stol(PQgetvalue(res, row, 6)), column);
  }
  if (!tables.empty()) finish_key();
  mark_set_based(session, tables);
  mark_references(session, tables);
  return tables;
}

// pg_dump carries no planner statistics, so a freshly restored database has none until autovacuum
// gets to it, and the generic plans the sink keeps are made from them. Without them PostgreSQL
// guesses "deleted_at IS NULL" to be selective, and every cascade then scans the whole soft-delete
// index to AND it with the foreign key's (2.4 times slower replay, measured on the benchmark). So
// the tables without statistics are analyzed first (an empty table again each run: it costs
// nothing). pg_stats is transactional: a dry run's analysis is rolled back with the rest.
// The sample is 3,000 rows a table (statistics target 10 instead of 100): the plans need the
// share of NULLs and of distinct keys, which such a sample gives, and the default sample cost the
// server a third of a second on the benchmark's 80 MB (45 ms now), while the first batch is mapped
// and folded with both cores busy. The many rows replay changes make autovacuum analyze the tables
// again, with the database's own target.
void analyze_tables_without_statistics(PgSession& session) {
  PgResult r = session.exec(std::string(R"SQL(
    SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT EXISTS (SELECT 1 FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname)
      AND )SQL") + pg::kUserTablesCondition,
                            {}, "reading the catalog");
  // The names come quoted from the catalog, not from a log.
  if (auto tables = first_value(r.get())) {
    session.exec("SET default_statistics_target = 10", {}, "analyzing the tables");
    session.exec("ANALYZE " + *tables, {}, "analyzing the tables");
    session.exec("RESET default_statistics_target", {}, "analyzing the tables");
  }
}

PgSink::PgSink(PgSession& session, const TargetCatalog& catalog, bool dry_run)
    : session_(session), catalog_(catalog), dry_run_(dry_run) {
  // With the default (auto) the server may plan a prepared statement again at every execution: a
  // set-based one because its generic plan's estimate (100 array elements) looks dearer than a plan
  // for the few it has, a cascading delete's CTEs likewise. The generic plans (key lookups, index
  // scans on the foreign keys) are the right ones here; planning each time cost a quarter of the run.
  session_.exec("SET plan_cache_mode = force_generic_plan", {}, "setting up the session");
  if (dry_run_) {
    session_.exec("BEGIN", {}, "starting the dry run");
    outer_open_ = true;
  }
}

void PgSink::prepare() {
  if (analyzed_) return;
  analyze_tables_without_statistics(session_);
  analyzed_ = true;
}

PgSink::~PgSink() {
  // Best effort: a dry run never leaves anything behind, even when an error ends the run.
  if (outer_open_ && PQstatus(session_.raw()) == CONNECTION_OK) PQclear(PQexec(session_.raw(), "ROLLBACK"));
}

void PgSink::finish() {
  if (!outer_open_) return;
  session_.exec("ROLLBACK", {}, "ending the dry run");
  outer_open_ = false;
}

void PgSink::begin_batch() {
  prepare();  // a caller that did not call it
  if (dry_run_) {
    session_.exec("SAVEPOINT auditpitr_batch", {}, "starting a batch");
  } else {
    session_.exec("BEGIN", {}, "starting a batch");
  }
  batch_open_ = true;
}

void PgSink::record_refused(const std::vector<std::string>& event_hashes) { refused_ = event_hashes; }

void PgSink::rollback_batch() {
  refused_.clear();
  if (!batch_open_) return;
  batch_open_ = false;
  if (dry_run_) session_.exec("ROLLBACK TO SAVEPOINT auditpitr_batch", {}, "rolling back a batch");
  else session_.exec("ROLLBACK", {}, "rolling back a batch");
}

void PgSink::commit_batch(const ReplayPosition& position, uint64_t events_applied) {
  batch_open_ = false;
  if (dry_run_) {
    session_.exec("RELEASE SAVEPOINT auditpitr_batch", {}, "ending a batch");
    return;
  }
  save_replay_position(session_, position, events_applied);
  save_refused_events(session_, refused_);
  refused_.clear();
  session_.exec("COMMIT", {}, "committing a batch");
}

const std::string& PgSink::statement_name(const std::string& shape, const RowChange& change, bool& needs_prepare,
                                          std::string& sql) {
  auto it = prepared_.find(shape);
  needs_prepare = it == prepared_.end();
  if (needs_prepare) {
    sql = build_statement(change, catalog_, [](std::size_t i) { return "$" + std::to_string(i + 1); });
    it = prepared_.emplace(shape, "auditpitr_s" + std::to_string(++statements_named_)).first;
  }
  return it->second;
}

const std::string& PgSink::group_statement_name(const std::string& shape, const RowChange& change, std::size_t params,
                                                bool& needs_prepare, std::string& sql) {
  auto it = prepared_.find(shape);
  needs_prepare = it == prepared_.end();
  if (needs_prepare) {
    sql = build_group_statement(change, catalog_, params);
    it = prepared_.emplace(shape, "auditpitr_s" + std::to_string(++statements_named_)).first;
  }
  return it->second;
}

ChangeOutcome PgSink::outcome_of(const RowChange& change, const PGresult* result) const {
  if (PQntuples(result) == 0) return no_row_outcome(change);
  return row_outcome(change, result, 0);
}

ChangeOutcome PgSink::no_row_outcome(const RowChange& change) {
  ChangeOutcome out;
  out.kind =
      change.action == ChangeAction::insert ? ChangeOutcomeKind::insert_existing : ChangeOutcomeKind::missing_row;
  return out;
}

ChangeOutcome PgSink::row_outcome(const RowChange& change, const PGresult* result, int row) {
  ChangeOutcome out;
  bool applied = std::string(PQgetvalue(result, row, 0)) == "t";
  out.cascaded = std::stoull(PQgetvalue(result, row, 1));
  switch (change.action) {
    case ChangeAction::insert:
      out.kind = applied ? ChangeOutcomeKind::inserted : ChangeOutcomeKind::insert_existing;
      break;
    case ChangeAction::update: out.kind = ChangeOutcomeKind::updated; break;
    case ChangeAction::soft_delete:
      out.kind = applied ? ChangeOutcomeKind::soft_deleted : ChangeOutcomeKind::already_deleted;
      break;
    case ChangeAction::remove: out.kind = ChangeOutcomeKind::deleted; break;
  }
  if (change.action == ChangeAction::insert) return out;  // nothing was compared
  for (std::size_t k = 0; k < change.expect.size(); ++k) {
    int column = kStatementFixedColumns + 2 * static_cast<int>(k);
    CheckResult check;
    check.same = std::string(PQgetvalue(result, row, column)) == "t";
    if (!PQgetisnull(result, row, column + 1)) check.found = std::string(PQgetvalue(result, row, column + 1));
    out.checks.push_back(std::move(check));
  }
  return out;
}

// Where the set-based group starting at `begin` ends: the following changes of the same shape on
// rows not yet in the group (a second change of a row must see the first: it starts a new group).
std::size_t PgSink::group_end(const std::vector<const RowChange*>& changes, const std::vector<std::string>& shapes,
                              std::size_t begin) const {
  if (!groupable(*changes[begin], catalog_)) return begin + 1;
  std::unordered_set<std::string> rows{group_row(*changes[begin])};
  std::size_t end = begin + 1;
  while (end < changes.size() && end - begin < kGroupMax && shapes[end] == shapes[begin] &&
         rows.insert(group_row(*changes[end])).second)
    ++end;
  return end;
}

bool PgSink::apply_all(const std::vector<const RowChange*>& changes, std::vector<ChangeOutcome>& outcomes,
                       std::optional<std::size_t>& refused_change) {
  outcomes.assign(changes.size(), ChangeOutcome{});
  if (changes.empty()) return true;
  std::vector<std::string> shapes;
  shapes.reserve(changes.size());
  for (const RowChange* c : changes) shapes.push_back(statement_shape(*c, catalog_));
  std::vector<std::size_t> order = batch_order(changes, shapes, catalog_);
  std::vector<const RowChange*> sent;
  std::vector<std::string> sent_shapes;
  sent.reserve(changes.size());
  sent_shapes.reserve(changes.size());
  for (std::size_t i : order) {
    sent.push_back(changes[i]);
    sent_shapes.push_back(std::move(shapes[i]));
  }
  std::vector<ChangeOutcome> sent_outcomes(changes.size());
  std::optional<std::pair<std::size_t, std::size_t>> refused;  // in the order sent
  if (!apply_in_order(sent, sent_shapes, sent_outcomes, refused)) {
    // A set-based statement does not say which of its changes was refused.
    if (refused->second - refused->first == 1) refused_change = order[refused->first];
    return false;
  }
  for (std::size_t i = 0; i < order.size(); ++i) outcomes[order[i]] = std::move(sent_outcomes[i]);
  return true;
}

bool PgSink::apply_in_order(const std::vector<const RowChange*>& changes, const std::vector<std::string>& shapes,
                            std::vector<ChangeOutcome>& outcomes,
                            std::optional<std::pair<std::size_t, std::size_t>>& refused) {
  // A refusal undoes these changes only: the batch's earlier ones stay.
  session_.exec("SAVEPOINT auditpitr_all", {}, "applying a batch");
  PGconn* conn = session_.raw();
  if (PQenterPipelineMode(conn) != 1) session_.fail(nullptr, "entering pipeline mode");
  std::deque<Item> queue;
  std::optional<Refusal> refusal;

  auto read_rows = [&](const Item& item, const PGresult* r) {
    if (item.kind == Item::Kind::query) {
      outcomes[item.index] = outcome_of(*changes[item.index], r);
      return;
    }
    for (std::size_t i = item.index; i < item.end; ++i) outcomes[i] = no_row_outcome(*changes[i]);
    int last = PQnfields(r) - 1;
    for (int row = 0; row < PQntuples(r); ++row) {
      std::size_t i = item.index + std::stoull(PQgetvalue(r, row, last)) - 1;
      outcomes[i] = row_outcome(*changes[i], r, row);
    }
  };
  auto read_item = [&](const Item& item) {
    PgResult r(PQgetResult(conn));
    if (!r) session_.fail(nullptr, "reading the results of a batch");
    ExecStatusType status = PQresultStatus(r.get());
    if (item.kind == Item::Kind::sync) {
      if (status != PGRES_PIPELINE_SYNC) session_.fail(r.get(), "reading the results of a batch");
      return;
    }
    if (status == PGRES_FATAL_ERROR && !refusal) {
      if (item.kind == Item::Kind::prepare) session_.fail(r.get(), "preparing a statement");
      refusal = Refusal{item.index, item.end, sqlstate_of(r.get()), message_of(r.get())};
    } else if (status == PGRES_TUPLES_OK && item.kind != Item::Kind::prepare) {
      read_rows(item, r.get());
    } else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && item.kind == Item::Kind::prepare) {
      prepared_.erase(item.shape);  // aborted before it was prepared
    }
    PgResult end(PQgetResult(conn));  // each statement's results end with a null
  };
  auto read_chunk = [&] {
    while (!queue.empty()) {
      Item item = queue.front();
      queue.pop_front();
      read_item(item);
      if (item.kind == Item::Kind::sync) return;
    }
  };
  auto send = [&](const std::string& shape, const std::string& name, const std::string& sql, std::size_t index,
                  const std::vector<const char*>& values) {
    if (!sql.empty()) {
      if (!PQsendPrepare(conn, name.c_str(), sql.c_str(), 0, nullptr)) session_.fail(nullptr, "sending a batch");
      queue.push_back({Item::Kind::prepare, index, 0, shape});
    }
    if (!PQsendQueryPrepared(conn, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0))
      session_.fail(nullptr, "sending a batch");
  };

  std::size_t chunks_sent = 0, statements = 0, rows = 0;
  for (std::size_t i = 0; i < changes.size();) {
    std::size_t end = group_end(changes, shapes, i);
    bool needs_prepare = false;
    std::string sql;
    if (end - i == 1) {
      const std::string& name = statement_name(shapes[i], *changes[i], needs_prepare, sql);
      Params params = statement_params(*changes[i]);
      send(shapes[i], name, sql, i, c_strings(params));
      queue.push_back({Item::Kind::query, i, i + 1, {}});
    } else {
      std::vector<Params> params;
      for (std::size_t k = i; k < end; ++k) params.push_back(statement_params(*changes[k]));
      std::string group_shape = "set-based " + shapes[i];
      const std::string& name = group_statement_name(group_shape, *changes[i], params[0].size(), needs_prepare, sql);
      std::vector<std::string> arrays(params[0].size());
      std::vector<const std::optional<std::string>*> column(params.size());
      for (std::size_t p = 0; p < arrays.size(); ++p) {
        for (std::size_t k = 0; k < params.size(); ++k) column[k] = &params[k][p];
        arrays[p] = array_literal(column);
      }
      std::vector<const char*> values;
      for (const auto& a : arrays) values.push_back(a.c_str());
      send(group_shape, name, sql, i, values);
      queue.push_back({Item::Kind::group, i, end, {}});
    }
    ++statements;
    rows += end - i;
    i = end;
    if (statements >= kChunk || rows >= kChunkRows || i == changes.size()) {
      if (!PQpipelineSync(conn)) session_.fail(nullptr, "sending a batch");
      queue.push_back({Item::Kind::sync, 0, 0, {}});
      statements = rows = 0;
      if (++chunks_sent > 1) read_chunk();  // the previous chunk's results, while this one runs
    }
  }
  while (!queue.empty()) read_chunk();
  if (PQexitPipelineMode(conn) != 1) session_.fail(nullptr, "leaving pipeline mode");
  if (!refusal) {
    session_.exec("RELEASE SAVEPOINT auditpitr_all", {}, "applying a batch");
    return true;
  }

  if (conflict_kind_of(refusal->sqlstate).empty()) {
    rollback_batch();
    throw pg::database_error({refusal->sqlstate, pg::classify_sqlstate(refusal->sqlstate)}, refusal->message,
                             "applying a batch", session_.describe(), "",
                             "run the command again: the batch was rolled back, and replay resumes after the last "
                             "committed batch");
  }
  session_.exec("ROLLBACK TO SAVEPOINT auditpitr_all", {}, "undoing a refused part of a batch");
  session_.exec("RELEASE SAVEPOINT auditpitr_all", {}, "undoing a refused part of a batch");
  refused = std::make_pair(refusal->index, refusal->end);
  return false;
}

std::vector<ChangeOutcome> PgSink::apply_event(const std::vector<const RowChange*>& changes) {
  std::vector<ChangeOutcome> outcomes;
  session_.exec("SAVEPOINT auditpitr_event", {}, "applying an event");
  for (const RowChange* change : changes) {
    bool needs_prepare = false;
    std::string sql, shape = statement_shape(*change, catalog_);
    const std::string& name = statement_name(shape, *change, needs_prepare, sql);
    if (needs_prepare) {
      PgResult p(PQprepare(session_.raw(), name.c_str(), sql.c_str(), 0, nullptr));
      if (PQresultStatus(p.get()) != PGRES_COMMAND_OK) {
        prepared_.erase(shape);
        session_.fail(p.get(), "preparing a statement");
      }
    }
    Params params = statement_params(*change);
    std::vector<const char*> values = c_strings(params);
    PgResult r(PQexecPrepared(session_.raw(), name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                              nullptr, 0));
    if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) {
      outcomes.push_back(outcome_of(*change, r.get()));
      continue;
    }
    std::string kind = conflict_kind_of(sqlstate_of(r.get()));
    if (kind.empty()) session_.fail(r.get(), "applying an event");
    session_.exec("ROLLBACK TO SAVEPOINT auditpitr_event", {}, "undoing a refused event");
    session_.exec("RELEASE SAVEPOINT auditpitr_event", {}, "undoing a refused event");
    ChangeOutcome refused;
    refused.kind = ChangeOutcomeKind::refused;
    refused.conflict_kind = kind;
    refused.detail = message_of(r.get());
    outcomes.push_back(std::move(refused));
    return outcomes;
  }
  session_.exec("RELEASE SAVEPOINT auditpitr_event", {}, "applying an event");
  return outcomes;
}

}  // namespace auditpitr::replay
