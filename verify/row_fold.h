// The pieces a fold of logged changes over real rows is made of, shared by the recovery check
// (recovery_check.h) and the investigations (src/ops/lost.h): tables seen by column index, logged
// values rendered by PostgreSQL in their columns' text form (COPY text), rows read by key, and the
// fold itself by docs/replay.md's semantics. Rows and values are COPY text: "\\N" is NULL.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "replay/apply/applier.h"
#include "replay/apply/pg_session.h"
#include "replay/apply/row_statement.h"
#include "replay/apply/target_catalog.h"
#include "replay/log/audit_source.h"
#include "replay/mapping/mapping.h"
#include "src/error.h"
#include "src/pg/connection.h"
#include "src/util/interrupt.h"
#include "src/util/row_map.h"
#include "src/util/run_beside.h"
#include "verify/row_fields.h"
#include "verify/table_checksum.h"

namespace auditpitr::verify {

using pg::copy_field;  // src/pg/connection.h

namespace rows {

using replay::ChangeAction;
using replay::PgResult;
using replay::PgSession;
using replay::TargetTable;

constexpr std::size_t kEventsPerChunk = 2000;
constexpr std::size_t kKeysPerQuery = 5000;
const std::string kNull = "\\N";

std::string array_literal(const std::vector<std::string>& items);

std::string copy_unescape(const std::string& field);

std::vector<std::string> split_fields(const std::string& line);
/// The same split as views into `line` (`out` reused: no allocation per row on a long read).
void split_field_views(std::string_view line, std::vector<std::string_view>& out);

std::string join_fields(const std::vector<std::string>& fields);

/// A target table's name, columns and primary key as a TableShape.
inline TableShape shape_of(const TargetTable& t) {
  TableShape shape{t.schema, t.name, {}, t.primary_key};
  for (const auto& c : t.columns) shape.columns.push_back(c.name);
  return shape;
}

/// A table as the check sees it: its columns by name, key positions, and which of its columns
/// cascades look rows up by.
struct Table {
  const TargetTable* target = nullptr;
  TableShape shape;
  std::unordered_map<std::string, std::size_t> column_index;
  std::vector<std::size_t> key_positions;
  std::size_t soft_delete = SIZE_MAX;
  std::size_t created_at = SIZE_MAX;  ///< the column an insert's event-time stamp sets only on creation

  std::size_t column(const std::string& name) const {
    auto it = column_index.find(name);
    if (it == column_index.end())
      throw runtime_error("verifying the recovery: table " + shape.qualified() + " has no column '" + name + "'");
    return it->second;
  }
  /// join_fields of the key columns of a row's fields (strings or views, in the table's order).
  template <typename Fields>
  std::string key_of(const Fields& fields) const {
    std::string key;
    for (std::size_t i = 0; i < key_positions.size(); ++i) {
      if (i > 0) key += '\t';
      key += fields[key_positions[i]];
    }
    return key;
  }
};

class Tables {
 public:
  Tables(const std::vector<TargetTable>& targets, replay::Mapper& mapper) {
    for (const auto& t : targets) {
      Table table;
      table.target = &t;
      table.shape = shape_of(t);
      for (std::size_t c = 0; c < t.columns.size(); ++c) table.column_index[t.columns[c].name] = c;
      for (const auto& k : t.primary_key) table.key_positions.push_back(table.column(k));
      std::string soft = mapper.soft_delete_column(t.name);
      if (!soft.empty() && table.column_index.count(soft)) table.soft_delete = table.column(soft);
      if (table.column_index.count("created_at")) table.created_at = table.column("created_at");
      by_name_.emplace(t.name, tables_.size());
      tables_.push_back(std::move(table));
    }
  }
  std::size_t index(const std::string& name) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) throw runtime_error("verifying the recovery: no table '" + name + "'");
    return it->second;
  }
  Table& operator[](std::size_t i) { return tables_[i]; }
  const Table& operator[](std::size_t i) const { return tables_[i]; }
  std::size_t size() const { return tables_.size(); }
  std::size_t find_qualified(const std::string& qualified) const {
    for (std::size_t i = 0; i < tables_.size(); ++i)
      if (tables_[i].shape.qualified() == qualified) return i;
    return SIZE_MAX;
  }

 private:
  std::vector<Table> tables_;
  std::unordered_map<std::string, std::size_t> by_name_;
};

/// A logged value seen in place: its kind and its text (replay::Value's, or a change's own).
struct LoggedValue {
  replay::Value::Kind kind = replay::Value::Kind::null;
  std::string_view text;
  LoggedValue(replay::Value::Kind kind, std::string_view text) : kind(kind), text(text) {}
  LoggedValue(const replay::Value& value) : kind(value.kind), text(value.text) {}  // NOLINT: a view of it
  bool is_null() const { return kind == replay::Value::Kind::null; }
};

/// Logged values in their columns' text form, as PostgreSQL renders them (COPY-escaped), asked for
/// a chunk of changes at a time: one query per column and conversion. Values whose rendering
/// follows from their logged text alone are not sent (local_rendering).
class Renderer {
 public:
  Renderer(PgSession& db, Tables& tables);

  void request(std::size_t table, std::size_t column, LoggedValue value) {
    if (value.is_null()) return;
    const auto& col = tables_[table].target->columns[column];
    if (local_rendering(table, column, value)) return;
    pending_[group_of(table, column, col, value.kind)].emplace(value.text);
  }
  /// Renders everything requested since the last call.
  void render() {
    for (auto& [group, texts] : pending_) render_group(group, texts);
    pending_.clear();
  }
  /// The rendered text; nullopt when PostgreSQL could not convert the value (its event was a conflict).
  std::optional<std::string> get(std::size_t table, std::size_t column, LoggedValue value) const {
    if (value.is_null()) return kNull;
    if (auto local = local_rendering(table, column, value)) return local;
    const auto& col = tables_[table].target->columns[column];
    auto group = done_.find(group_of(table, column, col, value.kind));
    if (group == done_.end()) return std::nullopt;
    auto it = group->second.find(std::string(value.text));
    if (it == group->second.end()) return std::nullopt;
    return it->second;
  }
  void clear() { done_.clear(); }

  /// PostgreSQL's rendering of `value` in `column` when it follows from the text alone, so that
  /// no query is needed: a canonical integer (no sign but '-', no leading zero, not "-0") within
  /// the range of a smallint, integer or bigint column; when the server and client encodings are
  /// both UTF8, any value of a `text` or unbounded `character varying` column that is valid UTF-8
  /// without a NUL (text input and output keep it as it is, COPY-escaped); when the session shows
  /// times in UTC, ISO style, a logged timestamp (`YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, years 1000 to
  /// 9999, a valid date and time) in a `timestamp with time zone` or `timestamp without time
  /// zone` column. nullopt: ask PostgreSQL.
  std::optional<std::string> local_rendering(std::size_t table, std::size_t column, LoggedValue value) const;
  /// The same without allocating: `no` (ask PostgreSQL), `as_logged` (the rendering is
  /// value.text itself; `out` untouched) or `written` (into `out`, whose capacity is reused).
  enum class Local : uint8_t { no, as_logged, written };
  Local render_locally_into(std::size_t table, std::size_t column, LoggedValue value, std::string& out) const;

 private:
  /// What local_rendering knows of a column's type, found once per column (the session's
  /// encodings and time style taken into account): none when PostgreSQL must render its values.
  enum class LocalType : uint8_t { none, text, timestamp_tz, timestamp, int16, int32, int64 };
  static LocalType local_type_of(const replay::TargetColumn& column, bool utf8, bool utc_iso);

  using Group = std::tuple<std::size_t, std::size_t, int, replay::Value::Kind>;
  static Group group_of(std::size_t table, std::size_t column, const replay::TargetColumn& col,
                        replay::Value::Kind kind) {
    return {table, column, static_cast<int>(replay::conversion_of(col, kind)), kind};
  }

  void render_group(const Group& group, const std::unordered_set<std::string>& texts) {
    std::vector<std::string> items(texts.begin(), texts.end());
    for (std::size_t i = 0; i < items.size(); i += kKeysPerQuery) {
      std::vector<std::string> part(items.begin() + static_cast<long>(i),
                                    items.begin() + static_cast<long>(std::min(items.size(), i + kKeysPerQuery)));
      if (!render_batch(group, part))
        for (const auto& one : part) render_batch(group, {one});  // finds the values that do not convert
    }
  }

  bool render_batch(const Group& group, const std::vector<std::string>& items) {
    const Table& table = tables_[std::get<0>(group)];
    const auto& col = table.target->columns[std::get<1>(group)];
    std::string sql = "SELECT " + replay::typed_value_sql(col, std::get<3>(group), "u.x") +
                      " FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n";
    PgResult r = db_.try_exec(sql, {array_literal(items)});
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return false;
    auto& done = done_[group];
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      std::string text =
          PQgetisnull(r.get(), row, 0)
              ? kNull
              : copy_field(PQgetvalue(r.get(), row, 0), static_cast<std::size_t>(PQgetlength(r.get(), row, 0)));
      done[items[static_cast<std::size_t>(row)]] = std::move(text);
    }
    return true;
  }

  PgSession& db_;
  Tables& tables_;
  std::vector<std::vector<LocalType>> local_types_;  ///< per table and column
  std::map<Group, std::unordered_set<std::string>> pending_;
  std::map<Group, std::unordered_map<std::string, std::string>> done_;
};

/// Rows of a table read by their keys: `SELECT every column WHERE key IN (...)`, `per_query` keys
/// a query, each result row handed to `on_row` (columns in the table's order), or when `items`
/// is given, `SELECT items ...` (SQL of the caller's, never of a log).
void for_each_row(PgSession& db, const Table& table, const std::string& where_column,
                  const std::vector<std::string>& keys_of_column_or_key, std::size_t per_query,
                  const std::function<void(const PGresult* result, int row)>& on_row, const std::string& items = "");

/// Loads `keys` (COPY lines of `columns` of `table`, as key_of renders them; a key of another
/// field count is left out) into the session's temporary table `auditpitr_keys`, typed as those
/// columns, in place of what it held. Returns the condition that picks those rows of the table:
/// `(columns) IN (SELECT * FROM pg_temp.auditpitr_keys)`. One COPY instead of a query per few
/// thousand keys, and a join the planner sees whole.
std::string load_keys(PgSession& db, const Table& table, const std::vector<std::string>& columns,
                      const std::vector<std::string>& keys);

/// A result's field as COPY text ("\\N" for NULL).
std::string field_of(const PGresult* result, int row, int column);
/// The key (join_fields of the key columns) of a result row holding all of `table`'s columns.
std::string key_of_result(const Table& table, const PGresult* result, int row);

/// A row change as the fold takes it: its table and columns as indices into Tables, without what
/// only reports need (labels, expectations, file and line). A delete's cascades are the mapper's.
struct FoldValue {
  uint32_t column = 0;
  replay::Value::Kind kind = replay::Value::Kind::null;
  bool event_time = false;  ///< the event's time (ValueOrigin::event_time)
  /// render_values_locally: the text is the column's COPY text already, not the logged text.
  bool rendered = false;
  uint32_t at = 0, size = 0;  ///< the text: `size` bytes of its change's `texts` from `at`
  bool is_null() const { return kind == replay::Value::Kind::null; }
};
/// The values' texts sit back to back in the change's own string (one block, reused when the
/// change is refilled): a value is 20 bytes, where a replay::Value in each was 56 and a block of
/// its own for a long text, and the two threads of lost pass fewer cache lines between them.
struct FoldChange {
  std::size_t table = 0;
  ChangeAction action = ChangeAction::update;
  replay::TimePoint time{};
  std::vector<FoldValue> key, set;
  std::string texts;
  /// render_key_locally: the row's key (key_of) and its RowMap hash, rendered ahead of the fold.
  bool key_rendered = false;
  std::string row_key;
  uint64_t row_hash = 0;

  std::string_view text(const FoldValue& v) const { return {texts.data() + v.at, v.size}; }
  LoggedValue value(const FoldValue& v) const { return {v.kind, text(v)}; }
  /// Appends a value of `column` to `to` (key or set), its text to texts.
  void add(std::vector<FoldValue>& to, std::size_t column, LoggedValue value, bool event_time = false) {
    to.push_back({static_cast<uint32_t>(column), value.kind, event_time, false, static_cast<uint32_t>(texts.size()),
                  static_cast<uint32_t>(value.text.size())});
    texts.append(value.text);
  }
  /// Value `v` becomes `text`, its rendering (appended: the logged text stays behind it, unused).
  void replace_text(FoldValue& v, std::string_view rendering) {
    v.at = static_cast<uint32_t>(texts.size());
    v.size = static_cast<uint32_t>(rendering.size());
    texts.append(rendering);
  }
};

/// Mapper::map_compact's changes as FoldChanges, without building RowChanges: the catalog's table
/// and column indices translated to Tables' once.
class CompactFolding {
 public:
  CompactFolding(const Tables& tables, const replay::Mapper& mapper);
  FoldChange change(const replay::MappedEvent& mapped, const replay::CompactChange& c, replay::TimePoint time) const;
  /// The same into `out`, whose vectors and strings are reused (a change handed back to be refilled).
  void change_into(const replay::MappedEvent& mapped, const replay::CompactChange& c, replay::TimePoint time,
                   FoldChange& out) const;

 private:
  std::vector<std::size_t> table_;                ///< catalog table -> Tables index
  std::vector<std::vector<std::size_t>> column_;  ///< catalog table, column -> Tables column
};

/// Reads (from, until] of the events, maps them, and hands their changes over in chunks; the
/// events whose hash is in `skip` are left out.
template <typename Fn>
void for_each_chunk(replay::AuditEventSource& events, replay::Mapper& mapper, const CompactFolding& folding,
                    replay::TimePoint from, const std::set<std::string>& skip, Fn fn) {
  std::vector<FoldChange> chunk;
  std::size_t in_chunk = 0;
  replay::AuditEvent event;
  replay::MappedEvent mapped;
  while (events.next(event)) {
    if (event.time <= from || (!skip.empty() && skip.count(replay::event_hash(event.json)))) continue;
    mapper.map_compact(event, mapped);
    if (mapped.outcome != replay::MapOutcome::mapped) continue;
    for (const auto& c : mapped.changes) chunk.push_back(folding.change(mapped, c, event.time));
    if (++in_chunk == kEventsPerChunk) {
      throw_if_interrupted();
      fn(chunk);
      chunk.clear();
      in_chunk = 0;
    }
  }
  if (!chunk.empty()) fn(chunk);
}

/// The key of a change's row as the table's key fields in their canonical text; nullopt when a
/// key value does not convert (PostgreSQL refused the event: a type conflict).
std::optional<std::string> key_of(const FoldChange& c, const Tables& tables, const Renderer& renderer);

/// Renders the change's key ahead of the fold when its logged text alone decides it
/// (Renderer::local_rendering, safe on any thread): the fold then neither renders nor hashes it,
/// and Fold::load_rows can reach its row early. Otherwise leaves the change as it is.
void render_key_locally(FoldChange& c, const Tables& tables, const Renderer& renderer);
/// Renders the change's set values whose logged text alone decides their rendering, in place
/// (FoldValue::rendered), ahead of the fold and on any thread: lost's reading thread does it
/// beside the fold, which then only copies them, and render_deferred has little or nothing left.
/// The other values are left as logged, and so are the events' times unless `event_times` (a fold
/// that keeps them, Fold::keep_event_times, does not read them).
void render_values_locally(FoldChange& c, const Renderer& renderer, bool event_times = true);

/// One row of the fold: its fields (COPY text) and where each comes from.
enum class Origin : uint8_t { backup, logged, unknown };
constexpr uint32_t kNoEvent = UINT32_MAX;
/// Fold::keep_event_times: the field of a value that is its event's time (an empty text, never
/// NULL; ColumnMark::automatic tells it from a logged empty text).
constexpr std::string_view kEventTime = "";
/// Per column of a ModelRow: where its value comes from, and what set it.
struct ColumnMark {
  uint32_t set_by = kNoEvent;  ///< the event (Fold::set_event) that set it last, kNoEvent when none did
  Origin origin = Origin::unknown;
  bool automatic = false;  ///< that value was the event's time (automatic timestamps, a cascade's deletion time)
  /// Fold::defer_values: 0 when `fields` holds the rendered value, else 1 + the Value::Kind of the
  /// logged text it holds until Fold::render_deferred.
  uint8_t deferred = 0;
};
struct ModelRow {
  bool existed_before = false;
  bool exists = false;
  /// Unknown baseline (lost): first seen through an update or delete, so taken as existing.
  bool assumed = false;
  RowFields<ColumnMark> fields;  ///< with a mark per field: one allocation per row
  ColumnMark& mark(std::size_t column) { return fields.mark(column); }
  const ColumnMark& mark(std::size_t column) const { return fields.mark(column); }
  uint32_t last_event = UINT32_MAX;  ///< the last event that touched the row
};

/// What logged values a column of a fold's table was set to, in any row: none, only events' times
/// (ColumnMark::automatic: never NULL), or others too.
enum class LoggedColumn : uint8_t { never, event_times, values };

constexpr std::size_t kLoadGroup = 16;
constexpr std::size_t kLoadBytes = 512;            ///< of a row's fields: longer rows are rare, their tails not loaded
constexpr std::size_t kLoadMost = 2 * kLoadGroup;  ///< lookups load_entries takes at once

/// The first two stages for any RowMap: the index slots of `n` lookups (at most kLoadMost; map i,
/// or none, and the key's hash) are loaded, and the values their entries hold when the slots' tags
/// match are found (into `values`, nullptr for the others; most likely the keys' own, not compared:
/// the caller's first read of each value loads its entry). Callers zero their arrays: GCC 12 does
/// not see that only the first `n` are read.
template <typename V>
void load_entries(const RowMap<V>* const maps[], const uint64_t hashes[], std::size_t n, const V* values[]) {
  uint64_t slots[kLoadMost];
  for (std::size_t i = 0; i < n; ++i) slots[i] = maps[i] ? maps[i]->first_slot(hashes[i]) : 0;
  for (std::size_t i = 0; i < n; ++i) values[i] = maps[i] ? maps[i]->probable(slots[i], hashes[i]) : nullptr;
}

/// Loads what lookups of `n` rows (at most kLoadGroup; map i, or none, and the key's hash) will
/// read, stage by stage: their index slots, then their entries, then their fields' blocks (up to
/// kLoadBytes). A fold of a million rows waits on memory for each of them; the loads of one stage do not
/// depend on each other, so they overlap, where the lookups meet them one after the other. It
/// changes nothing. (Prefetch hints a few changes ahead did not help on a virtual machine, likely
/// because the rows' pages are not in the TLB: a demand load walks the page tables, a hint may be
/// dropped.)
inline void load_rows(const RowMap<ModelRow>* const maps[], const uint64_t hashes[], std::size_t n) {
  const ModelRow* rows[kLoadMost];
  load_entries(maps, hashes, n, rows);
  const char* blocks[kLoadGroup];
  for (std::size_t i = 0; i < n; ++i) blocks[i] = rows[i] ? rows[i]->fields.block() : nullptr;
  char sum = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (blocks[i]) sum = static_cast<char>(sum + blocks[i][0]);
  // The rest of each block (a row's offsets and texts lie past its first line), its size now known.
  for (std::size_t i = 0; i < n; ++i) {
    if (!blocks[i]) continue;
    std::size_t bytes = std::min<std::size_t>(RowFields<ColumnMark>::block_bytes(blocks[i]), kLoadBytes);
    for (std::size_t at = 64; at < bytes; at += 64) sum = static_cast<char>(sum + blocks[i][at]);
    sum = static_cast<char>(sum + blocks[i][bytes - 1]);
  }
  asm volatile("" : : "r"(sum));  // the loads are kept: their value is used
}

/// The logged changes folded onto the captured rows, by docs/replay.md's semantics.
class Fold {
 public:
  /// `unknown_baseline`: no rows are loaded; a row first seen through an update or delete is taken
  /// as existing before (lost judges the logs alone, the live database is what is examined).
  Fold(Tables& tables, replay::Mapper& mapper, bool unknown_baseline = false)
      : tables_(tables), rows_(tables.size()), captured_(tables.size()), unknown_baseline_(unknown_baseline) {
    for (std::size_t t = 0; t < tables.size(); ++t) {
      child_index_.emplace_back(tables[t].shape.columns.size(), SIZE_MAX);
      logged_columns_.emplace_back(tables[t].shape.columns.size(), LoggedColumn::never);
    }
    for (std::size_t t = 0; t < tables.size(); ++t) {
      cascades_.push_back(mapper.cascades_of(tables[t].target->name));
      index_cascades(cascades_.back());
    }
  }

  /// From now on only the values rows are found and judged alive by (the key columns, the columns
  /// cascades follow, the soft-delete columns) are rendered as changes are applied; every other
  /// logged value is kept as logged, and only the last one of each column of each row is rendered,
  /// by render_deferred(). request() asks for exactly what apply() then needs.
  void defer_values() {
    eager_.assign(tables_.size(), {});
    for (std::size_t t = 0; t < tables_.size(); ++t) {
      eager_[t].assign(tables_[t].shape.columns.size(), false);
      for (std::size_t k : tables_[t].key_positions) eager_[t][k] = true;
      if (tables_[t].soft_delete != SIZE_MAX) eager_[t][tables_[t].soft_delete] = true;
    }
    for (std::size_t t = 0; t < tables_.size(); ++t)
      for (std::size_t c = 0; c < child_index_[t].size(); ++c)
        if (child_index_[t][c] != SIZE_MAX) eager_[t][c] = true;
    for (const auto& [t, column] : cascade_soft_) eager_[t][column] = true;
  }

  /// From now on a value that is its event's time (an automatic timestamp, a cascade's deletion
  /// time: ColumnMark::automatic, never NULL) is kept as kEventTime, not rendered: its event
  /// (ColumnMark::set_by) holds the time. For lost, which judges such values by being NULL only
  /// and renders the few it reports; without those texts the bench's rows take 70 MB less.
  void keep_event_times() { event_times_kept_ = true; }

  /// The values a chunk of changes needs rendered before apply(): all of them, or with
  /// defer_values() the eager ones only (and with keep_event_times(), no event's time).
  void request(const std::vector<FoldChange>& chunk, Renderer& renderer) const {
    request(chunk.data(), chunk.data() + chunk.size(), renderer);
  }
  void request(const FoldChange* first, const FoldChange* last, Renderer& renderer) const {
    for (const FoldChange* change = first; change != last; ++change) {
      const FoldChange& c = *change;
      if (!c.key_rendered)
        for (const auto& k : c.key) renderer.request(c.table, k.column, c.value(k));
      for (const auto& s : c.set)
        if (!s.rendered && (eager_.empty() || eager_[c.table][s.column]) && !kept_as_event_time(s))
          renderer.request(c.table, s.column, c.value(s));
      if (deletes(c.action) && !event_times_kept_) request_cascade_times(cascades_[c.table], c.time, renderer);
    }
    renderer.render();
  }

  /// With defer_values(): renders the values kept as logged of the rows that exist, `per_query`
  /// values at a time at most, as apply() would have (a value PostgreSQL refuses leaves its column
  /// unknown). Rows the logs deleted keep their logged texts: nothing judges them by value.
  void render_deferred(Renderer& renderer, std::size_t per_render = 50000) {
    if (eager_.empty() || deferred_ == 0) return;  // nothing kept as logged: no row to visit
    // The values whose rendering follows from their text, in place: the rows split over two
    // threads (each row is one thread's; local_rendering reads nothing that changes).
    std::vector<std::pair<std::size_t, ModelRow*>> asked[2];
    run_beside([&] { render_locally(renderer, 1, asked[1]); }, [&] { render_locally(renderer, 0, asked[0]); });
    // The others, asked of PostgreSQL `per_render` values at a time at most.
    std::vector<std::pair<std::size_t, ModelRow*>> batch;
    std::size_t values = 0;
    auto flush = [&]() {
      throw_if_interrupted();
      renderer.render();
      for (auto& [t, row] : batch) resolve_deferred(t, *row, renderer);
      renderer.clear();
      batch.clear();
      values = 0;
    };
    for (const auto& part : asked)
      for (auto [t, row] : part) {
        for (std::size_t c = 0; c < row->fields.size(); ++c) {
          if (!row->mark(c).deferred) continue;
          renderer.request(t, c, deferred_value(*row, c));
          ++values;
        }
        batch.emplace_back(t, row);
        if (values >= per_render) flush();
      }
    flush();
  }

  void load(std::size_t table, const std::string& line) {
    captured_[table].push_back(line);
    ModelRow row;
    row.existed_before = row.exists = true;
    std::vector<std::string_view> views;
    split_field_views(line, views);
    if (views.size() != tables_[table].shape.columns.size()) return;
    row.fields = RowFields<ColumnMark>(views, ColumnMark{kNoEvent, Origin::backup, false, 0});
    std::string key = tables_[table].key_of(row.fields);  // before the row is moved
    auto [entry, added] = rows_[table].emplace(std::move(key), std::move(row));
    if (!added) return;  // a key seen before (a table without a primary key): indexed already
    for (std::size_t c = 0; c < entry->second.fields.size(); ++c)
      index_field(table, c, *entry, {}, entry->second.fields[c]);
  }

  void apply(const FoldChange& c, const Renderer& renderer) {
    renderer_ = &renderer;
    std::size_t t = c.table;
    auto key = key_of(c, tables_, renderer);
    if (!key) return;  // a key PostgreSQL cannot take: the event was refused
    auto [entry_at, fresh] = row_of(t, *key, c.key_rendered ? c.row_hash : RowMap<ModelRow>::hash_of(*key), c);
    RowEntry& entry = *entry_at;
    ModelRow& row = entry.second;
    row.last_event = event_;
    bool assumed = row.assumed;
    row.assumed = false;
    switch (c.action) {
      case ChangeAction::insert: {
        bool created = !row.exists || assumed;
        if (created) {
          row.exists = true;
          if (!fresh)  // a new row holds the defaults already
            for (std::size_t i = 0; i < row.fields.size(); ++i) set(t, entry, i, std::nullopt);
          for (const auto& k : c.key) logged(t, entry, c, k);
        }
        for (const auto& s : c.set) {
          bool creation_stamp = s.event_time && s.column == tables_[t].created_at;
          if (created || !creation_stamp) logged(t, entry, c, s);
        }
        break;
      }
      case ChangeAction::update:
        if (!row.exists) return;
        for (const auto& s : c.set) logged(t, entry, c, s);
        break;
      case ChangeAction::soft_delete: {
        if (!row.exists || !alive(t, row)) return;
        for (const auto& s : c.set) logged(t, entry, c, s);
        cascade(cascades_[t], entry.first, c.time, renderer);
        break;
      }
      case ChangeAction::remove:
        if (!row.exists) return;
        row.exists = false;
        cascade(cascades_[t], entry.first, c.time, renderer);
        break;
    }
  }

  /// Loads what apply() will read of the rows of changes [first, last) (at most kLoadGroup; those
  /// with a rendered key), with verify::rows::load_rows.
  void load_rows(const FoldChange* first, const FoldChange* last) const {
    const RowMap<ModelRow>* maps[kLoadGroup] = {};
    uint64_t hashes[kLoadGroup] = {};
    std::size_t n = 0;
    for (const FoldChange* c = first; c != last && n < kLoadGroup; ++c) {
      maps[n] = c->key_rendered ? &rows_[c->table] : nullptr;
      hashes[n++] = c->row_hash;
    }
    load_parent_keys(first, first + n);
    verify::rows::load_rows(maps, hashes, n);
  }

  /// The same for the entries of the parent keys the changes' foreign keys will be linked to
  /// (index_field): their index slots, then their entries.
  void load_parent_keys(const FoldChange* first, const FoldChange* last) const {
    const RowMap<uint32_t>* maps[kLoadMost] = {};
    uint64_t hashes[kLoadMost] = {};
    std::size_t n = 0;
    for (const FoldChange* c = first; c != last; ++c)
      for (const FoldValue& s : c->set) {
        std::size_t index = child_index_[c->table][s.column];
        if (!s.rendered || index == SIZE_MAX || n == kLoadMost) continue;
        maps[n] = &children_[index].first;
        hashes[n++] = RowMap<uint32_t>::hash_of(c->text(s));
      }
    const uint32_t* entries[kLoadMost];
    load_entries(maps, hashes, n, entries);
    uint32_t sum = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (entries[i]) sum += *entries[i];
    asm volatile("" : : "r"(sum));  // the loads are kept: their value is used
  }

  RowMap<ModelRow>& rows(std::size_t table) { return rows_[table]; }
  /// What logged values were set in the table's column, in any row.
  LoggedColumn logged_column(std::size_t table, std::size_t column) const { return logged_columns_[table][column]; }
  /// The event the next apply() belongs to (an index of the caller's own list of events).
  void set_event(uint32_t event) { event_ = event; }
  /// The table's rows as capture() stored them, before the replay.
  const std::vector<std::string>& captured(std::size_t table) const { return captured_[table]; }

 private:
  using RowEntry = RowMap<ModelRow>::value_type;

  /// The row of `key`, and whether it was added now (all its columns NULL and unknown), with room
  /// for the values of `c`, the change about to fill it.
  std::pair<RowEntry*, bool> row_of(std::size_t t, const std::string& key, uint64_t hash, const FoldChange& c) {
    auto [it, inserted] = rows_[t].try_emplace(key, hash);
    if (inserted) {
      std::size_t n = tables_[t].shape.columns.size();
      if (c.action == ChangeAction::insert) {
        // Made with the insert's rendered values in place: apply() sets each of them next, and a
        // value as long as the one it replaces is copied over it, where "\N" moved the rest.
        std::vector<std::string_view>& fields = placed_;
        fields.assign(n, kNull);
        if (c.key_rendered && tables_[t].key_positions.size() == 1) fields[tables_[t].key_positions[0]] = c.row_key;
        for (const auto& s : c.set)
          if (kept_as_event_time(s)) fields[s.column] = kEventTime;
          else if (s.rendered) fields[s.column] = c.text(s);
        it->second.fields = RowFields<ColumnMark>(fields, ColumnMark());
      } else {
        it->second.fields = RowFields<ColumnMark>(n, kNull, ColumnMark(), text_bytes(c));
      }
      if (unknown_baseline_) it->second.exists = it->second.existed_before = it->second.assumed = true;
    }
    return {&*it, inserted};
  }

  bool alive(std::size_t t, const ModelRow& row) const {
    std::size_t soft = tables_[t].soft_delete;
    // A soft-delete column an insert left to its default is taken as NULL: gorm's default.
    return soft == SIZE_MAX || row.mark(soft).origin == Origin::unknown || row.fields[soft] == kNull;
  }

  /// render_deferred's first part over every other row (`part` 0 or 1): the values that render
  /// locally set, the rows left with others listed in `asked`.
  void render_locally(const Renderer& renderer, std::size_t part,
                      std::vector<std::pair<std::size_t, ModelRow*>>& asked) {
    for (std::size_t t = 0; t < tables_.size(); ++t) {
      std::size_t i = 0;
      for (auto& [key, row] : rows_[t]) {
        if (i++ % 2 != part || !row.exists) continue;
        bool left = false;
        for (std::size_t c = 0; c < row.fields.size(); ++c) {
          if (!row.mark(c).deferred) continue;
          if (auto local = renderer.local_rendering(t, c, deferred_value(row, c))) {
            row.fields.assign(c, *local);
            row.mark(c).deferred = 0;
          } else {
            left = true;
          }
        }
        if (left) asked.emplace_back(t, &row);
      }
    }
  }

  /// About the bytes a change's values take in a row (their logged texts: a rendering is about as long).
  static std::size_t text_bytes(const FoldChange& c) {
    std::size_t bytes = 0;
    for (const auto* values : {&c.key, &c.set})
      for (const auto& v : *values) bytes += v.size;
    return bytes;
  }

  static bool deletes(ChangeAction action) {
    return action == ChangeAction::remove || action == ChangeAction::soft_delete;
  }

  void logged(std::size_t t, RowEntry& entry, const FoldChange& c, const FoldValue& value) {
    std::size_t column = value.column;
    if (kept_as_event_time(value)) {
      set(t, entry, column, kEventTime, true);
      return;
    }
    if (value.rendered) {
      set(t, entry, column, c.text(value), value.event_time);
      return;
    }
    if (!eager_.empty() && !eager_[t][column] && !value.is_null()) {
      defer(t, entry.second, column, c.value(value), value.event_time);
      return;
    }
    set(t, entry, column, renderer_->get(t, column, c.value(value)), value.event_time);
  }

  void set(std::size_t t, RowEntry& entry, std::size_t column, std::optional<std::string_view> value,
           bool automatic = false) {
    ModelRow& row = entry.second;
    if (child_index_[t][column] != SIZE_MAX)
      index_field(t, column, entry,
                  row.mark(column).origin == Origin::unknown ? std::string_view() : row.fields[column],
                  value ? *value : std::string_view());
    row.fields.assign(column, value ? *value : kNull);
    row.mark(column) = {value ? event_ : kNoEvent, value ? Origin::logged : Origin::unknown, automatic, 0};
    if (value) note_logged(t, column, automatic);
  }

  void cascade(const std::vector<replay::CascadeDelete>& cascades, const std::string& parent_key,
               replay::TimePoint time, const Renderer& renderer) {
    for (const auto& c : cascades) {
      std::size_t t = tables_.index(c.table);
      std::size_t column = tables_[t].column(c.foreign_key);
      const ChildIndex& index = children_[child_index_[t][column]];
      auto found = index.first.find(parent_key);
      if (found == index.first.end()) continue;
      std::vector<RowEntry*> children;  // the cascade below may add links
      for (uint32_t at = found->second; at != 0; at = index.links[at - 1].next) {
        RowEntry* child = index.links[at - 1].row;
        // A link stays when the row's value changes: only rows holding the key still are its children
        // (once each: a row whose value went back to the key was linked to it again).
        if (child->second.mark(column).origin != Origin::unknown && child->second.fields[column] == parent_key)
          children.push_back(child);
      }
      std::reverse(children.begin(), children.end());  // in the order they were linked
      if (children.size() > 1) {
        std::unordered_set<RowEntry*> seen;
        children.erase(
            std::remove_if(children.begin(), children.end(), [&](RowEntry* e) { return !seen.insert(e).second; }),
            children.end());
      }
      for (RowEntry* child_entry : children) {
        const std::string& child_key = child_entry->first;
        ModelRow& child = child_entry->second;
        if (!child.exists) continue;
        if (c.soft_delete_column.empty()) {
          child.exists = false;
          child.last_event = event_;
        } else {
          if (!alive(t, child)) continue;  // deleted earlier: keeps its own time, its children too
          std::size_t soft = tables_[t].column(c.soft_delete_column);
          if (event_times_kept_) {
            set(t, *child_entry, soft, kEventTime, true);
            for (const auto& name : c.soft_delete_touches)
              set(t, *child_entry, tables_[t].column(name), kEventTime, true);
          } else {
            replay::Value deleted_at = replay::Value::of(replay::Value::Kind::timestamp, replay::format_rfc3339(time));
            set(t, *child_entry, soft, renderer.get(t, soft, deleted_at), true);
            for (const auto& name : c.soft_delete_touches) {
              std::size_t touched = tables_[t].column(name);
              if (!eager_.empty() && !eager_[t][touched]) defer(t, child, touched, deleted_at, true);
              else set(t, *child_entry, touched, renderer.get(t, touched, deleted_at), true);
            }
          }
          child.last_event = event_;
        }
        cascade(c.children, child_key, time, renderer);
      }
    }
  }

  /// A logged value kept as logged (defer_values): the column's origin, event and automatic flag
  /// as set() records them.
  void defer(std::size_t t, ModelRow& row, std::size_t column, LoggedValue value, bool automatic) {
    ++deferred_;
    note_logged(t, column, automatic);
    row.fields.assign(column, value.text);
    row.mark(column) = {event_, Origin::logged, automatic, static_cast<uint8_t>(1 + static_cast<int>(value.kind))};
  }

  bool kept_as_event_time(const FoldValue& v) const { return event_times_kept_ && v.event_time; }

  void note_logged(std::size_t t, std::size_t column, bool automatic) {
    LoggedColumn& seen = logged_columns_[t][column];
    seen = std::max(seen, automatic ? LoggedColumn::event_times : LoggedColumn::values);
  }

  static replay::Value deferred_value(const ModelRow& row, std::size_t column) {
    return replay::Value::of(static_cast<replay::Value::Kind>(row.mark(column).deferred - 1),
                             std::string(row.fields[column]));
  }

  void resolve_deferred(std::size_t t, ModelRow& row, const Renderer& renderer) {
    for (std::size_t c = 0; c < row.fields.size(); ++c) {
      if (!row.mark(c).deferred) continue;
      std::optional<std::string> text = renderer.get(t, c, deferred_value(row, c));
      row.mark(c).deferred = 0;
      if (text) {
        row.fields.assign(c, *text);
        continue;
      }
      row.fields.assign(c, kNull);  // as set() records a value PostgreSQL refused
      row.mark(c).origin = Origin::unknown;
      row.mark(c).set_by = kNoEvent;
    }
  }

  void request_cascade_times(const std::vector<replay::CascadeDelete>& cascades, replay::TimePoint time,
                             Renderer& renderer) const {
    for (const auto& c : cascades) {
      std::size_t t = tables_.index(c.table);
      replay::Value deleted_at = replay::Value::of(replay::Value::Kind::timestamp, replay::format_rfc3339(time));
      if (!c.soft_delete_column.empty()) renderer.request(t, tables_[t].column(c.soft_delete_column), deleted_at);
      for (const auto& touched : c.soft_delete_touches) {
        std::size_t column = tables_[t].column(touched);
        if (eager_.empty() || eager_[t][column]) renderer.request(t, column, deleted_at);
      }
      request_cascade_times(c.children, time, renderer);
    }
  }

  void index_cascades(const std::vector<replay::CascadeDelete>& cascades) {
    for (const auto& c : cascades) {
      std::size_t t = tables_.index(c.table);
      std::size_t& index = child_index_[t][tables_[t].column(c.foreign_key)];
      if (index == SIZE_MAX) {
        index = children_.size();
        children_.emplace_back();
      }
      if (!c.soft_delete_column.empty()) cascade_soft_.insert({t, tables_[t].column(c.soft_delete_column)});
      index_cascades(c.children);
    }
  }

  /// A row's column a cascade follows goes from `old_value` to `new_value` ("" for none): the row
  /// is linked to its new value. Its link to the old one stays; cascade() passes over such links.
  void index_field(std::size_t t, std::size_t column, RowEntry& entry, std::string_view old_value,
                   std::string_view new_value) {
    std::size_t i = child_index_[t][column];
    if (i == SIZE_MAX || new_value.empty() || new_value == kNull || new_value == old_value) return;
    ChildIndex& index = children_[i];
    uint32_t& first = index.first.try_emplace(std::string(new_value)).first->second;
    index.links.push_back({&entry, first});
    first = static_cast<uint32_t>(index.links.size());
  }

  Tables& tables_;
  std::vector<std::vector<replay::CascadeDelete>> cascades_;  ///< per table, what its deletes cascade to
  std::vector<RowMap<ModelRow>> rows_;
  std::vector<std::vector<std::string>> captured_;
  /// The rows holding each parent key, per (table, foreign-key column) a cascade follows: the
  /// table's column's index into children_ in child_index_, SIZE_MAX for the other columns.
  /// Per parent key, a list of the rows linked to it, newest first, in one vector: `first` holds 1 +
  /// the newest link's position, each link 1 + the next one's (0 ends the list).
  struct ChildLink {
    RowEntry* row;
    uint32_t next;
  };
  struct ChildIndex {
    RowMap<uint32_t> first;
    std::vector<ChildLink> links;
  };
  std::vector<ChildIndex> children_;
  std::vector<std::vector<std::size_t>> child_index_;
  std::set<std::pair<std::size_t, std::size_t>> cascade_soft_;  ///< (table, column) cascades soft-delete
  std::vector<std::vector<bool>> eager_;                   ///< defer_values(): per table, the columns rendered at once
  std::vector<std::vector<LoggedColumn>> logged_columns_;  ///< per table and column
  const Renderer* renderer_ = nullptr;
  std::vector<std::string_view> placed_;  ///< row_of: a new row's fields, reused
  bool unknown_baseline_ = false;
  uint32_t event_ = kNoEvent;
  std::size_t deferred_ = 0;  ///< values defer() kept as logged
  bool event_times_kept_ = false;
};

}  // namespace rows
}  // namespace auditpitr::verify
