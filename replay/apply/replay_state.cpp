// The auditpitr schema's statements. Times go in as RFC 3339 text with microseconds and come out
// as microseconds since the epoch, exactly (see epoch_micros).
#include "replay/apply/replay_state.h"

#include <chrono>
#include <thread>

#include "replay/apply/row_statement.h"
#include "replay/log/time_parse.h"
#include "src/error.h"
#include "src/pg/connection.h"
#include "src/util/interrupt.h"

namespace auditpitr::replay {
namespace {

const char* const kSchema = R"SQL(
CREATE SCHEMA IF NOT EXISTS auditpitr;
COMMENT ON SCHEMA auditpitr IS 'auditpitr bookkeeping (docs/replay.md); DROP SCHEMA auditpitr CASCADE removes it';
CREATE TABLE IF NOT EXISTS auditpitr.restored_from (
  one_row boolean PRIMARY KEY DEFAULT true CHECK (one_row),
  backup text NOT NULL,
  snapshot_time timestamptz NOT NULL,
  restored_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS auditpitr.replay (
  one_row boolean PRIMARY KEY DEFAULT true CHECK (one_row),
  window_from timestamptz NOT NULL,
  window_to timestamptz NOT NULL,
  backup text,
  position_time timestamptz,
  position_ordinal bigint,
  position_hash text,
  events_applied bigint NOT NULL DEFAULT 0,
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz,
  finished_at timestamptz);
CREATE TABLE IF NOT EXISTS auditpitr.replay_refused (event_hash text NOT NULL))SQL";

TimePoint micros(const char* text) { return TimePoint(std::chrono::microseconds(std::stoll(text))); }

bool table_exists(PgSession& session, const char* name) {
  PgResult r = session.exec("SELECT to_regclass($1) IS NOT NULL", {std::string(name)}, "reading auditpitr's schema");
  return first_value(r.get()) == std::string("t");
}

// Microseconds since the epoch of a timestamptz column, exact on every supported server: whole
// seconds and the microseconds within them are each small enough for a double (PostgreSQL 13's
// extract(); 14 and newer return numeric), where epoch * 1000000 in one double might not be.
std::string epoch_micros(const std::string& column) {
  return "(extract(epoch FROM date_trunc('second', " + column + "))::bigint * 1000000 + extract(microseconds FROM " +
         column + ")::bigint % 1000000)";
}

}  // namespace

void create_replay_schema(PgSession& session) {
  if (table_exists(session, "auditpitr.replay") && table_exists(session, "auditpitr.restored_from")) return;
  session.exec(kSchema, {}, "creating the auditpitr schema");
}

std::optional<RestoredFrom> load_restored_from(PgSession& session) {
  if (!table_exists(session, "auditpitr.restored_from")) return std::nullopt;
  PgResult r = session.exec("SELECT backup, " + epoch_micros("snapshot_time") + " FROM auditpitr.restored_from", {},
                            "reading auditpitr.restored_from");
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return RestoredFrom{PQgetvalue(r.get(), 0, 0), micros(PQgetvalue(r.get(), 0, 1))};
}

std::optional<ReplayRecord> load_replay_record(PgSession& session) {
  if (!table_exists(session, "auditpitr.replay")) return std::nullopt;
  PgResult r = session.exec(
      "SELECT " + epoch_micros("window_from") + ", " + epoch_micros("window_to") + ", coalesce(backup, ''), " +
          epoch_micros("position_time") +
          ", position_ordinal, position_hash, events_applied, finished_at IS NOT NULL FROM auditpitr.replay",
      {}, "reading auditpitr.replay");
  if (PQntuples(r.get()) == 0) return std::nullopt;
  const PGresult* res = r.get();
  ReplayRecord record;
  record.window_from = micros(PQgetvalue(res, 0, 0));
  record.window_to = micros(PQgetvalue(res, 0, 1));
  record.backup = PQgetvalue(res, 0, 2);
  if (!PQgetisnull(res, 0, 3))
    record.position =
        ReplayPosition{micros(PQgetvalue(res, 0, 3)), std::stoull(PQgetvalue(res, 0, 4)), PQgetvalue(res, 0, 5)};
  record.events_applied = std::stoull(PQgetvalue(res, 0, 6));
  record.finished = std::string(PQgetvalue(res, 0, 7)) == "t";
  return record;
}

void save_replay_window(PgSession& session, const ReplayRecord& record) {
  session.exec(
      "INSERT INTO auditpitr.replay (window_from, window_to, backup, updated_at) "
      "VALUES ($1::timestamptz, $2::timestamptz, nullif($3, ''), now()) ON CONFLICT (one_row) DO UPDATE "
      "SET window_to = greatest(auditpitr.replay.window_to, EXCLUDED.window_to), finished_at = NULL, updated_at = "
      "now()",
      {format_time(record.window_from), format_time(record.window_to), record.backup}, "recording the replay window");
}

void save_replay_position(PgSession& session, const ReplayPosition& position, uint64_t events_applied) {
  session.exec(
      "UPDATE auditpitr.replay SET position_time = $1::timestamptz, position_ordinal = $2, position_hash = $3, "
      "events_applied = events_applied + $4, updated_at = now()",
      {format_time(position.time), std::to_string(position.ordinal), position.hash, std::to_string(events_applied)},
      "recording the replay position");
}

void mark_replay_finished(PgSession& session) {
  session.exec("UPDATE auditpitr.replay SET finished_at = now()", {}, "recording the end of the replay");
}

void record_restored_backup(const pg::ConnInfo& database, const std::string& backup, TimePoint snapshot_time) {
  PgSession session(database);
  // READ WRITE: a restored copy may have inherited default_transaction_read_only.
  session.exec("BEGIN READ WRITE", {}, "recording the restored backup");
  create_replay_schema(session);
  session.exec(
      "INSERT INTO auditpitr.restored_from (backup, snapshot_time, restored_at) VALUES ($1, $2::timestamptz, now()) "
      "ON CONFLICT (one_row) DO UPDATE SET backup = EXCLUDED.backup, snapshot_time = EXCLUDED.snapshot_time, "
      "restored_at = now()",
      {backup, format_time(snapshot_time)}, "recording the restored backup");
  session.exec("DELETE FROM auditpitr.replay; DELETE FROM auditpitr.replay_refused", {}, "clearing the replay record");
  session.exec("COMMIT", {}, "recording the restored backup");
}

void save_refused_events(PgSession& session, const std::vector<std::string>& event_hashes) {
  for (const auto& hash : event_hashes)
    session.exec("INSERT INTO auditpitr.replay_refused (event_hash) VALUES ($1)", {hash}, "recording a refused event");
}

std::set<std::string> load_refused_events(PgSession& session) {
  std::set<std::string> hashes;
  if (!table_exists(session, "auditpitr.replay_refused")) return hashes;
  PgResult r = session.exec("SELECT event_hash FROM auditpitr.replay_refused", {}, "reading the refused events");
  for (int row = 0; row < PQntuples(r.get()); ++row) hashes.insert(PQgetvalue(r.get(), row, 0));
  return hashes;
}

namespace {

struct KeySequence {
  const TargetTable* table;
  std::string sequence;
};

std::vector<KeySequence> key_sequences(PgSession& session, const std::vector<TargetTable>& tables) {
  std::vector<KeySequence> found;
  for (const auto& t : tables) {
    if (t.primary_key.size() != 1) continue;
    PgResult seq = session.exec("SELECT pg_get_serial_sequence($1, $2)", {t.quoted(), t.primary_key[0]},
                                "reading the key sequence of '" + t.name + "'");
    if (std::optional<std::string> name = first_value(seq.get())) found.push_back({&t, *name});
  }
  return found;
}

// The one statement both replay (sequence as a parameter) and its script (a literal) run: past the
// highest key, never back; nothing for an empty table.
std::string advance_sequence_sql(const TargetTable& t, const std::string& sequence) {
  std::string key = pg::quote_ident(t.primary_key[0]);
  return "SELECT setval(" + sequence + "::regclass, greatest(max(" + key +
         ")::bigint, coalesce(pg_sequence_last_value(" + sequence + "::regclass), 1))) FROM " + t.quoted() +
         " HAVING max(" + key + ") IS NOT NULL";
}

}  // namespace

void advance_key_sequences(PgSession& session, const std::vector<TargetTable>& tables) {
  for (const auto& k : key_sequences(session, tables))
    session.exec(advance_sequence_sql(*k.table, "$1"), {k.sequence},
                 "moving the key sequence of '" + k.table->name + "'");
}

std::string advance_key_sequences_sql(PgSession& session, const std::vector<TargetTable>& tables) {
  std::string sql;
  for (const auto& k : key_sequences(session, tables))
    sql += advance_sequence_sql(*k.table, sql_literal(k.sequence)) + ";\n";
  return sql;
}

void lock_replay(PgSession& session) {
  // One fixed key per database (advisory locks are per database): "auditpitr replay". A replay
  // killed a moment ago still holds it until its server process notices the closed connection,
  // so a few seconds are waited before another run is said to be there.
  for (int attempt = 0;; ++attempt) {
    PgResult r = session.exec("SELECT pg_try_advisory_lock(hashtext('auditpitr replay'))", {}, "locking the database");
    if (first_value(r.get()) == std::string("t")) return;
    if (attempt == 50)
      throw runtime_error("another replay into " + session.describe() + " is running",
                          "wait for it to finish (its progress is recorded in auditpitr.replay)");
    throw_if_interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace auditpitr::replay
