// lost: one pass over the logs folds their changes (verify/row_fold.h, the baseline unknown; only
// the keys and what cascades follow rendered as it goes, each row's final values rendered once at
// the end), the touched rows are compared with the live ones by key, then one pass over the
// backup's tables, each checked against one streamed list of the live table's keys, finds its rows
// the live database lacks and supplies the backup's values of the rows to bring back.
#include "src/ops/lost.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "replay/apply/pg_sink.h"
#include "replay/apply/replay_state.h"
#include "src/error.h"
#include "src/ops/backup_at.h"
#include "src/ops/dump_rows.h"
#include "src/ops/history.h"
#include "src/ops/replay.h"
#include "src/pg/connection.h"
#include "src/util/exit_memory.h"
#include "src/util/fs.h"
#include "src/util/handoff.h"
#include "src/util/interrupt.h"
#include "src/util/pause_point.h"
#include "src/util/run_beside.h"
#include "verify/row_fold.h"

namespace auditpitr::ops {
namespace {

using verify::rows::Fold;
using verify::rows::kNull;
using verify::rows::ModelRow;
using verify::rows::Origin;
using verify::rows::Renderer;
using verify::rows::Tables;

constexpr std::size_t kEventsPerChunk = 1000;         // events a chunk: four in flight at most, within a core's cache
constexpr std::size_t kRowsPerQuery = 20000;          // touched rows read by key per query
constexpr std::size_t kWholeTableShare = 4;           // a table is read whole when its touched rows are a 4th of it
constexpr std::size_t kScriptPieceBytes = 64u << 10;  // --sql: written at a time

/// The baseline: a backup's STAMP, the newest backup at or before a TIME, or the newest backup.
BackupAt baseline_of(const Config& config, const std::string& dbname, const std::string& since) {
  Catalog catalog = Catalog::scan(config.backup_dir);
  for (const auto& set : catalog.sets()) {
    const BackupFile* dump = set.dump_of(dbname);
    if (!dump || !(since.empty() || set.stamp == since)) continue;
    BackupAt chosen{*dump, {}, false};
    chosen.snapshot = snapshot_of(*dump, chosen.from_stamp);
    return chosen;
  }
  replay::TimePoint at =
      since.empty() ? std::chrono::time_point_cast<replay::TimePoint::duration>(std::chrono::system_clock::now())
                    : replay::parse_cli_time(since, "--since");
  return newest_backup_at(catalog, config.backup_dir, dbname, at,
                          "lost compares with a backup's rows and the logs after it; make one with `auditpitr backup`");
}

/// Events kept for the findings, 32 bytes each: their strings interned and named by index, the
/// entries in fixed blocks (a vector of 3 M events would copy 120 MB each time it grew).
class EventBook {
 public:
  uint32_t add(const replay::AuditEvent& e, const std::string& user) {
    std::size_t id = size_++;
    if (id % kBlock == 0) blocks_.push_back(std::make_unique<Entry[]>(kBlock));
    blocks_.back()[id % kBlock] = {intern(user), intern(e.operation), intern(e.file ? std::string_view(*e.file) : "?"),
                                   e.line_number, e.time};
    return static_cast<uint32_t>(id);
  }
  /// The event as a finding shows it: made once per event, shared by the findings that name it.
  std::shared_ptr<const LostEvent> get(uint32_t id) {
    if (id == verify::rows::kNoEvent) return nullptr;
    std::shared_ptr<const LostEvent>& shown = shown_[id];
    if (!shown) {
      const Entry& e = entry(id);
      shown = std::make_shared<const LostEvent>(
          LostEvent{names_[e.operation], names_[e.user], names_[e.file], e.line, e.time});
    }
    return shown;
  }
  const std::string& user(uint32_t id) const { return names_[entry(id).user]; }
  replay::TimePoint time(uint32_t id) const { return entry(id).time; }

 private:
  static constexpr std::size_t kBlock = 1 << 16;
  struct Entry {
    uint32_t user, operation, file;  ///< indices into names_
    uint64_t line;
    replay::TimePoint time;
  };
  const Entry& entry(uint32_t id) const { return blocks_[id / kBlock][id % kBlock]; }
  /// The index of `s` in names_. A small cache indexed by a quick hash of the name is looked at
  /// first: users, operations and files change from one event to the next, and the map's hash
  /// and bucket walk cost more than the rest of the book.
  uint32_t intern(std::string_view s) {
    uint32_t& cached = cache_[quick_hash(s) % kCache];
    if (cached != kNone && names_[cached] == s) return cached;
    auto found = index_.find(s);
    if (found == index_.end()) {
      names_.emplace_back(s);
      found = index_.emplace(names_.back(), static_cast<uint32_t>(names_.size() - 1)).first;
    }
    return cached = found->second;
  }
  /// The length and the first and last 8 bytes, mixed.
  static uint64_t quick_hash(std::string_view s) {
    uint64_t head = 0, tail = 0;
    if (s.size() >= 8) {  // whole words: a shorter copy is not forwarded to the load that follows
      std::memcpy(&head, s.data(), 8);
      std::memcpy(&tail, s.data() + s.size() - 8, 8);
    } else {
      for (char c : s) head = head << 8 | static_cast<unsigned char>(c);
    }
    return ((head * 0x9E3779B97F4A7C15ull) ^ (tail + s.size()) * 0xC2B2AE3D27D4EB4Full) >> 32;
  }
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr std::size_t kCache = 1024;
  std::deque<std::string> names_;                         // a deque: the views in index_ stay valid
  std::unordered_map<std::string_view, uint32_t> index_;  ///< views of names_
  std::array<uint32_t, kCache> cache_ = filled_cache();
  static std::array<uint32_t, kCache> filled_cache() {
    std::array<uint32_t, kCache> cache;
    cache.fill(kNone);
    return cache;
  }
  std::vector<std::unique_ptr<Entry[]>> blocks_;
  std::size_t size_ = 0;
  std::unordered_map<uint32_t, std::shared_ptr<const LostEvent>> shown_;
};

/// A row found lost so far, with what is known of it (indexes into Tables).
struct Candidate {
  std::size_t table;
  std::string key;
  std::string kind;
  const ModelRow* logged = nullptr;    ///< the fold's row, when the logs touched it
  std::vector<std::string> backup;     ///< the backup's fields in the table's order, when in it
  std::vector<std::size_t> differing;  ///< changed: the columns
  std::vector<std::string> live;       ///< changed: the live fields
};

/// Cascade links: the child table's foreign key column holding the parent table's key.
struct Link {
  std::size_t parent, child, column;
};

void collect_links(Tables& tables, std::size_t parent, const std::vector<replay::CascadeDelete>& cascades,
                   std::vector<Link>& out) {
  for (const auto& c : cascades) {
    std::size_t child = tables.index(c.table);
    out.push_back({parent, child, tables[child].column(c.foreign_key)});
    collect_links(tables, child, c.children, out);
  }
}

/// Tables in an order where a table comes after the tables its foreign keys point to.
std::vector<std::size_t> parents_first(replay::PgSession& db, Tables& tables) {
  replay::PgResult r = db.exec(
      "SELECT cn.nspname || '.' || cr.relname, pn.nspname || '.' || pr.relname FROM pg_constraint k "
      "JOIN pg_class cr ON cr.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = cr.relnamespace "
      "JOIN pg_class pr ON pr.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = pr.relnamespace "
      "WHERE k.contype = 'f' AND k.conrelid <> k.confrelid",
      {}, "reading the foreign keys");
  std::vector<std::set<std::size_t>> needs(tables.size());
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    std::size_t child = tables.find_qualified(PQgetvalue(r.get(), i, 0));
    std::size_t parent = tables.find_qualified(PQgetvalue(r.get(), i, 1));
    if (child != SIZE_MAX && parent != SIZE_MAX) needs[child].insert(parent);
  }
  std::vector<std::size_t> order;
  std::vector<bool> placed(tables.size(), false);
  while (order.size() < tables.size()) {
    bool progress = false;
    for (std::size_t t = 0; t < tables.size(); ++t) {
      if (placed[t]) continue;
      bool ready = std::all_of(needs[t].begin(), needs[t].end(), [&](std::size_t p) { return placed[p]; });
      if (!ready) continue;
      placed[t] = progress = true;
      order.push_back(t);
    }
    if (progress) continue;
    for (std::size_t t = 0; t < tables.size(); ++t)  // a cycle: the rest in catalog order
      if (!placed[t]) placed[t] = true, order.push_back(t);
  }
  return order;
}

class LostSearch {
 public:
  LostSearch(const Config& config, const LostOptions& options, LostReport& report)
      : config_(config),
        options_(options),
        report_(report),
        db_(config.database(config.audit_database).connect_info()) {
    db_.exec(pg::kCanonicalOutputSql, {}, "setting the session's output format");
    report_.tables = replay::read_target_tables(db_);
    mapper_.emplace(mapper_for(config, report_.tables));
    for (auto& t : report_.tables) t.soft_delete = mapper_->soft_delete_column(t.name);
    replay::TargetCatalog catalog(report_.tables);
    for (const auto& name : options.tables) catalog.table(name);  // usage Error naming the tables
    tables_.emplace(report_.tables, *mapper_);
    renderer_.emplace(db_, *tables_);
    fold_ = std::make_unique<Fold>(*tables_, *mapper_, true);
    folding_.emplace(*tables_, *mapper_);
    fold_->defer_values();
    fold_->keep_event_times();
    for (std::size_t t = 0; t < tables_->size(); ++t)
      collect_links(*tables_, t, mapper_->cascades_of((*tables_)[t].target->name), links_);
    report_.user_field = mapper_->rules().user_field;
  }

  /// Reading and mapping the events on a thread of their own, folding them on this one.
  void read_logs(replay::AuditEventSource& events) {
    pause_point("lost-reading");  // tests stop here, then send SIGINT mid-way
    {
      Spares<MappedChunk> spares;
      Handoff<MappedChunk> chunks(2, [&](const Handoff<MappedChunk>::Push& push) { map_events(events, push, spares); });
      while (auto chunk = chunks.next()) {
        throw_if_interrupted();
        fold_chunk(*chunk);
        spares.put(std::move(*chunk));
      }
    }
    fold_->render_deferred(*renderer_);
    report_.left_out.add_unfinished(events.file_stats());
  }

  /// The touched rows against the live ones: missing, or changed in a logged column. The tables
  /// are shared out between this thread and one more, each with its own connection (the server's
  /// reading and the client's judging of one table at a time left a core idle): each table, the
  /// largest first, to the thread with fewer touched rows so far (the same share every run).
  void compare_touched() {
    std::vector<std::size_t> order;                      // the tables with rows the logs say exist, the largest first
    std::vector<std::size_t> expected(tables_->size());  // per table, the rows the logs say exist
    for (std::size_t t = 0; t < tables_->size(); ++t) {
      auto& rows = fold_->rows(t);
      report_.touched_rows += rows.size();
      expected[t] = std::count_if(rows.begin(), rows.end(), [](const auto& r) { return r.second.exists; });
      if (expected[t] > 0) order.push_back(t);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return fold_->rows(a).size() > fold_->rows(b).size(); });
    std::vector<std::size_t> share[2];
    std::size_t rows_of_share[2] = {0, 0};
    for (std::size_t t : order) {
      int to = rows_of_share[1] < rows_of_share[0] ? 1 : 0;
      share[to].push_back(t);
      rows_of_share[to] += fold_->rows(t).size();
    }
    std::vector<TableComparison> results(tables_->size());
    auto compare_share = [&](const std::vector<std::size_t>& tables, replay::PgSession& db) {
      for (std::size_t t : tables) results[t] = compare_table(t, expected[t], db);
    };
    run_beside(
        [&] {
          if (share[1].empty()) return;
          replay::PgSession db(config_.database(config_.audit_database).connect_info());
          db.exec(pg::kCanonicalOutputSql, {}, "setting the session's output format");
          compare_share(share[1], db);
        },
        [&] { compare_share(share[0], db_); });
    for (std::size_t t = 0; t < results.size(); ++t) {  // in table order: the same findings every run
      for (Candidate& c : results[t].found) candidates_[{t, c.key}] = std::move(c);
      if (results[t].read_whole) untouched_keys_[t] = std::move(results[t].untouched);
    }
  }

  /// The backup's rows of the tables in scope: those gone from the live database without a
  /// logged delete, and the backup's values of the touched rows found missing. Each table's rows
  /// are checked against its live keys, read once (`COPY (SELECT key) TO STDOUT`) when the dump's
  /// block of the table begins; only the rows that matter are split into fields.
  void read_backup(const PreparedDump& dump, pg::ProcessRunner& runner) {
    std::vector<std::string> names;
    for (std::size_t t = 0; t < tables_->size(); ++t)
      if (in_scope(t)) names.push_back((*tables_)[t].target->name);
    if (names.empty()) return;
    std::string block_table;
    std::size_t t = SIZE_MAX;
    std::vector<std::size_t> to_table, key_at;  // dump column -> table column; key column -> dump column
    std::vector<std::string> live;              // the block's table's live keys, sorted
    std::vector<std::string_view> fields;
    std::vector<std::string> key_fields;
    read_dump_lines(config_, dump, names, runner,
                    [&](const std::string& table, const std::vector<std::string>& columns, std::string_view line) {
                      if (table != block_table) {
                        if (t != SIZE_MAX) confirm_absent(t);
                        block_table = table;
                        t = tables_->find_qualified(table);
                        if (t != SIZE_MAX && !in_scope(t)) t = SIZE_MAX;
                        if (t != SIZE_MAX) begin_block(t, columns, to_table, key_at, live);
                      }
                      if (t == SIZE_MAX) return;
                      verify::rows::split_field_views(line, fields);
                      if (fields.size() != columns.size()) return;
                      ++report_.backup_rows;
                      key_fields.resize(key_at.size());
                      for (std::size_t k = 0; k < key_at.size(); ++k)
                        key_fields[k] = key_at[k] == SIZE_MAX ? kNull : std::string(fields[key_at[k]]);
                      std::string key = verify::rows::join_fields(key_fields);
                      if (fold_->rows(t).count(key)) {
                        auto it = candidates_.find({t, key});
                        if (it != candidates_.end()) it->second.backup = backup_fields(t, to_table, fields);
                        return;
                      }
                      if (std::binary_search(live.begin(), live.end(), key)) return;
                      absent_.emplace_back(std::move(key), backup_fields(t, to_table, fields));
                      if (absent_.size() == kRowsPerQuery) confirm_absent(t);
                    });
    if (t != SIZE_MAX) confirm_absent(t);
  }

  /// Whether a finding so far is one the options keep (--user: the backup can add none).
  bool any_wanted() const {
    return std::any_of(candidates_.begin(), candidates_.end(), [&](const auto& c) { return wanted(c.second); });
  }

  void finish(replay::PgSession& db) {
    std::vector<std::size_t> order = parents_first(db, *tables_);
    std::vector<std::size_t> rank(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
    std::vector<Candidate*> kept;
    for (auto& [id, c] : candidates_)
      if (!explained(c) && wanted(c)) kept.push_back(&c);
      else if (c.kind != "changed" && explained(c)) ++report_.explained;
    for (const Candidate* c : kept)  // the events' times the findings show, rendered at once
      for (std::size_t col = 0; c->logged && col < c->logged->fields.size(); ++col)
        if (is_event_time(*c, col)) renderer_->request(c->table, col, event_time(c->logged->mark(col).set_by));
    renderer_->render();
    std::sort(kept.begin(), kept.end(), [&](const Candidate* a, const Candidate* b) {
      return std::tie(rank[a->table], a->key) < std::tie(rank[b->table], b->key);
    });
    for (const Candidate* c : kept) report_.rows.push_back(row_of(*c));
  }

  replay::PgSession& db() { return db_; }
  /// The fold, once finish() has copied what the report needs from it (the findings point into it).
  std::unique_ptr<Fold> release_fold() {
    candidates_.clear();
    return std::move(fold_);
  }

 private:
  /// The row changes of kEventsPerChunk events, each with its event (EventBook): the first
  /// `size` of `changes` (those past it are kept for their capacity when the chunk is refilled).
  struct MappedChunk {
    std::vector<verify::rows::FoldChange> changes;
    std::size_t size = 0;
    std::vector<uint32_t> events;
  };

  /// compare_touched's findings in one table, and when it read the table whole, the keys of the
  /// live rows the logs did not touch (sorted: read_backup looks them up instead of reading them).
  struct TableComparison {
    std::vector<Candidate> found;
    bool read_whole = false;
    std::vector<std::string> untouched;
  };

  /// One table's touched rows against the live ones, on `db`; `expected` of them exist by the logs.
  /// A table whose touched rows are a large part of it is read whole, in one COPY (about five
  /// times cheaper per row for the server than looking rows up by key); other tables by key.
  TableComparison compare_table(std::size_t t, std::size_t expected, replay::PgSession& db) const {
    TableComparison result;
    const auto& rows = fold_->rows(t);
    std::vector<const ModelRow*> found;  // sorted at the end: no node per row
    found.reserve(expected);
    // whether the logs touched the live row (a row the logs deleted is absent as logged)
    auto on_live = [&](const std::string& key, uint64_t hash, const std::vector<std::string_view>& fields) {
      auto row = rows.find(key, hash);
      if (row == rows.end()) return false;
      if (!row->second.exists) return true;
      judge_live(t, key, row->second, fields, result.found);
      found.push_back(&row->second);
      return true;
    };
    if (expected * kWholeTableShare >= estimated_rows(t, db)) {
      result.read_whole = true;
      read_live_table(t, db, [&](const std::string& key, uint64_t hash, const std::vector<std::string_view>& fields) {
        if (!on_live(key, hash, fields)) result.untouched.push_back(key);
      });
      std::sort(result.untouched.begin(), result.untouched.end());
    } else {
      std::vector<std::string> keys;
      for (const auto& [key, row] : rows)
        if (row.exists) keys.push_back(key);
      read_live_rows(t, db, keys, on_live);
    }
    if (found.size() == expected) return result;  // every row the logs say exists is there
    std::sort(found.begin(), found.end());
    for (const auto& [key, row] : rows)
      if (row.exists && !std::binary_search(found.begin(), found.end(), &row))
        result.found.push_back(Candidate{t, key, "missing", &row, {}, {}, {}});
    return result;
  }

  /// The events after the snapshot, mapped, in chunks (the producer's side of read_logs).
  void map_events(replay::AuditEventSource& events, const Handoff<MappedChunk>::Push& push,
                  Spares<MappedChunk>& spares) {
    auto empty_chunk = [&] {  // a spent one when there is one: its changes keep their capacity
      MappedChunk chunk = spares.take();
      chunk.size = 0;
      chunk.events.clear();
      return chunk;
    };
    MappedChunk chunk = empty_chunk();
    std::size_t in_chunk = 0;
    replay::AuditEvent e;
    replay::MappedEvent mapped;
    for (uint64_t read = 1; events.next(e); ++read) {
      if (read % 4096 == 0) throw_if_interrupted();  // the fold waits on this thread: it stops with it
      if (e.time <= report_.snapshot) continue;
      ++report_.events;
      mapper_->map_compact(e, mapped);
      if (mapped.outcome != replay::MapOutcome::mapped) continue;
      uint32_t id = book_.add(e, mapped.user);
      for (const auto& c : mapped.changes) {
        if (chunk.size == chunk.changes.size()) chunk.changes.emplace_back();
        verify::rows::FoldChange& change = chunk.changes[chunk.size++];
        folding_->change_into(mapped, c, e.time, change);
        verify::rows::render_values_locally(change, *renderer_, false);
        chunk.events.push_back(id);
      }
      if (++in_chunk < kEventsPerChunk) continue;
      if (!push(std::move(chunk))) return;
      chunk = empty_chunk();
      in_chunk = 0;
    }
    if (chunk.size > 0) push(std::move(chunk));
  }

  /// The keys are rendered and hashed here, the values on the reading thread: the two threads'
  /// work is about even that way (the keys there cost the read 0.1 s over 990 MB).
  void fold_chunk(MappedChunk& chunk) {
    auto& changes = chunk.changes;
    std::size_t n = chunk.size;
    for (std::size_t i = 0; i < n; ++i) verify::rows::render_key_locally(changes[i], *tables_, *renderer_);
    fold_->request(changes.data(), changes.data() + n, *renderer_);
    for (std::size_t i = 0; i < n; ++i) {
      if (i % verify::rows::kLoadGroup == 0) fold_->load_rows(&changes[i], changes.data() + n);
      fold_->set_event(chunk.events[i]);
      fold_->apply(changes[i], *renderer_);
    }
    renderer_->clear();
  }

  /// A live row: its key, the key's RowMap hash and its fields.
  using LiveRow =
      std::function<void(const std::string& key, uint64_t hash, const std::vector<std::string_view>& fields)>;

  /// The planner's estimate of a table's rows; SIZE_MAX when never analyzed (then read by key).
  std::size_t estimated_rows(std::size_t t, replay::PgSession& db) const {
    replay::PgResult r = db.exec("SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass",
                                 {(*tables_)[t].target->quoted()}, "estimating the rows of a table");
    long long rows = PQntuples(r.get()) ? std::stoll(PQgetvalue(r.get(), 0, 0)) : -1;
    return rows < 0 ? SIZE_MAX : static_cast<std::size_t>(rows);
  }

  /// What the compare reads of a table's live rows: the key, the columns the logs set, and of those
  /// the logs set only to events' times, whether they are NULL (judge_live compares no more of
  /// them; formatting the timestamps was about half the server's time on the bench's largest
  /// table). `read`: those columns, in the table's order; `items`: the select list. The fields of
  /// the other columns are NULL.
  struct JudgedColumns {
    std::vector<std::size_t> read;
    std::string items;
  };
  JudgedColumns judged_columns(std::size_t t) const {
    const verify::rows::Table& table = (*tables_)[t];
    JudgedColumns judged;
    for (std::size_t c = 0; c < table.shape.columns.size(); ++c) {
      bool key = std::find(table.key_positions.begin(), table.key_positions.end(), c) != table.key_positions.end();
      verify::rows::LoggedColumn logged = fold_->logged_column(t, c);
      if (!key && logged == verify::rows::LoggedColumn::never) continue;
      judged.read.push_back(c);
      std::string column = pg::quote_ident(table.shape.columns[c]);
      if (!key && logged == verify::rows::LoggedColumn::event_times)
        column = "NULLIF(" + column + " IS NOT NULL, false)";  // NULL or true
      judged.items += (judged.items.empty() ? "" : ", ") + column;
    }
    return judged;
  }

  /// Every row of table `t` (its judged_columns), handed to `on_row` with its key, kLoadGroup rows
  /// at a time: their rows in the fold are loaded first (verify::rows::load_rows), as the fold does.
  void read_live_table(std::size_t t, replay::PgSession& db, const LiveRow& on_row) const {
    const verify::rows::Table& table = (*tables_)[t];
    const RowMap<ModelRow>& folded = fold_->rows(t);
    JudgedColumns judged = judged_columns(t);
    struct Held {
      std::string line, key;
      uint64_t hash = 0;
      std::vector<std::string_view> fields;
    };
    std::array<Held, verify::rows::kLoadGroup> held;
    for (Held& h : held) h.fields.assign(table.shape.columns.size(), kNull);
    std::vector<std::string_view> parts;
    std::size_t n = 0;
    auto hand_over = [&] {
      const RowMap<ModelRow>* maps[verify::rows::kLoadGroup] = {};
      uint64_t hashes[verify::rows::kLoadGroup] = {};
      for (std::size_t i = 0; i < n; ++i) maps[i] = &folded, hashes[i] = held[i].hash;
      verify::rows::load_rows(maps, hashes, n);
      for (std::size_t i = 0; i < n; ++i) on_row(held[i].key, held[i].hash, held[i].fields);
      n = 0;
    };
    db.copy_out(
        "COPY (SELECT " + judged.items + " FROM " + table.target->quoted() + ") TO STDOUT",
        [&](const char* line, std::size_t size) {
          Held& h = held[n];
          h.line.assign(line, size);  // the connection's line is valid during this call only
          verify::rows::split_field_views(h.line, parts);
          if (parts.size() != judged.read.size()) return;
          for (std::size_t i = 0; i < parts.size(); ++i) h.fields[judged.read[i]] = parts[i];
          h.key = table.key_of(h.fields);
          h.hash = RowMap<ModelRow>::hash_of(h.key);
          if (++n == held.size()) hand_over();
        },
        "reading the rows of " + table.shape.qualified());
    hand_over();
    throw_if_interrupted();
  }

  /// The rows of table `t` with these keys (their judged_columns), looked up by key, handed to
  /// `on_row` in COPY text.
  void read_live_rows(std::size_t t, replay::PgSession& db, const std::vector<std::string>& keys,
                      const LiveRow& on_row) const {
    const verify::rows::Table& table = (*tables_)[t];
    JudgedColumns judged = judged_columns(t);
    std::vector<std::string> texts(judged.read.size());
    std::vector<std::string_view> fields(table.shape.columns.size(), kNull);
    verify::rows::for_each_row(
        db, table, "", keys, kRowsPerQuery,
        [&](const PGresult* r, int i) {
          for (std::size_t c = 0; c < texts.size(); ++c) {
            texts[c] = verify::rows::field_of(r, i, static_cast<int>(c));
            fields[judged.read[c]] = texts[c];
          }
          std::string key = table.key_of(fields);
          on_row(key, RowMap<ModelRow>::hash_of(key), fields);
        },
        judged.items);
  }

  /// A touched row the database holds: changed (added to `found`) when a logged column differs. A
  /// column set to the event's time differs only by being NULL (the live time is the server's).
  void judge_live(std::size_t t, const std::string& key, const ModelRow& row, const std::vector<std::string_view>& live,
                  std::vector<Candidate>& found) const {
    std::vector<std::size_t> differing;
    for (std::size_t c = 0; c < row.fields.size(); ++c) {
      if (row.mark(c).origin != Origin::logged) continue;
      std::string_view is = live[c];
      bool same = row.mark(c).automatic ? (is == kNull) == (row.fields[c] == kNull) : is == row.fields[c];
      if (!same) differing.push_back(c);
    }
    if (differing.empty()) return;
    found.push_back(
        Candidate{t, key, "changed", &row, {}, differing, std::vector<std::string>(live.begin(), live.end())});
  }

  /// A COPY block of table `t` begins: where its columns go, where its key is, and the live keys.
  void begin_block(std::size_t t, const std::vector<std::string>& columns, std::vector<std::size_t>& to_table,
                   std::vector<std::size_t>& key_at, std::vector<std::string>& live) {
    const verify::rows::Table& table = (*tables_)[t];
    to_table.assign(columns.size(), SIZE_MAX);
    for (std::size_t i = 0; i < columns.size(); ++i) {
      auto at = table.column_index.find(columns[i]);
      if (at != table.column_index.end()) to_table[i] = at->second;
    }
    key_at.assign(table.key_positions.size(), SIZE_MAX);
    for (std::size_t k = 0; k < key_at.size(); ++k)
      for (std::size_t i = 0; i < columns.size(); ++i)
        if (to_table[i] == table.key_positions[k]) key_at[k] = i;
    live.clear();
    auto known = untouched_keys_.find(t);
    if (known != untouched_keys_.end()) {  // the rows read_backup looks up here: it finds the others in the fold
      live = std::move(known->second);
      untouched_keys_.erase(known);
      return;
    }
    std::string keys;
    for (const auto& k : table.target->primary_key) keys += (keys.empty() ? "" : ", ") + pg::quote_ident(k);
    db_.copy_out(
        "COPY (SELECT " + keys + " FROM " + table.target->quoted() + ") TO STDOUT",
        [&](const char* line, std::size_t size) { live.emplace_back(line, size); },
        "reading the keys of " + table.shape.qualified());
    std::sort(live.begin(), live.end());
    throw_if_interrupted();
  }

  /// The backup's rows whose keys the live list lacks, looked up by key (the dump's text cast to
  /// the key's type): those the database does not hold are deleted_unlogged.
  void confirm_absent(std::size_t t) {
    if (absent_.empty()) return;
    const verify::rows::Table& table = (*tables_)[t];
    std::vector<std::string> keys;
    for (const auto& [key, fields] : absent_) keys.push_back(key);
    std::unordered_set<std::string> found;
    verify::rows::for_each_row(db_, table, "", keys, kRowsPerQuery, [&](const PGresult* r, int i) {
      found.insert(verify::rows::key_of_result(table, r, i));
    });
    for (auto& [key, fields] : absent_)
      if (!found.count(key))
        candidates_[{t, key}] = Candidate{t, key, "deleted_unlogged", nullptr, std::move(fields), {}, {}};
    absent_.clear();
  }

  std::vector<std::string> backup_fields(std::size_t t, const std::vector<std::size_t>& to_table,
                                         const std::vector<std::string_view>& fields) const {
    std::vector<std::string> row((*tables_)[t].shape.columns.size(), kNull);
    for (std::size_t i = 0; i < fields.size(); ++i)
      if (to_table[i] != SIZE_MAX) row[to_table[i]] = std::string(fields[i]);
    return row;
  }

  bool in_scope(std::size_t t) const {
    if (options_.tables.empty()) return true;
    const std::string& name = (*tables_)[t].target->name;
    return std::find(options_.tables.begin(), options_.tables.end(), name) != options_.tables.end();
  }

  /// An absent row whose parent the logs deleted for good, or whose parent's absence is itself so
  /// explained: the cascade took it.
  bool explained(const Candidate& c) {
    if (c.kind == "changed") return false;
    for (const auto& link : links_) {
      if (link.child != c.table) continue;
      std::string fk(field(c, link.column));
      if (fk == kNull || fk.empty()) continue;
      auto& parents = fold_->rows(link.parent);
      auto logged = parents.find(fk);
      if (logged != parents.end() && !logged->second.exists) return true;
      auto absent = candidates_.find({link.parent, fk});
      if (absent != candidates_.end() && explained(absent->second)) return true;
    }
    return false;
  }

  std::string_view field(const Candidate& c, std::size_t column) const {
    if (c.logged && c.logged->mark(column).origin == Origin::logged) return c.logged->fields[column];
    if (!c.backup.empty()) return c.backup[column];
    return c.logged ? c.logged->fields[column] : kNull;
  }

  bool wanted(const Candidate& c) const {
    if (!in_scope(c.table)) return false;
    if (options_.users.empty()) return true;
    auto user_is_wanted = [&](uint32_t id) {
      return id != verify::rows::kNoEvent &&
             std::find(options_.users.begin(), options_.users.end(), book_.user(id)) != options_.users.end();
    };
    if (!c.logged) return false;
    if (c.kind == "missing") return user_is_wanted(c.logged->last_event);
    return std::any_of(c.differing.begin(), c.differing.end(),
                       [&](std::size_t col) { return user_is_wanted(c.logged->mark(col).set_by); });
  }

  LostRow row_of(const Candidate& c) {
    const auto& table = (*tables_)[c.table];
    LostRow row{table.shape.qualified(), c.key, c.kind, !c.backup.empty(), nullptr, {}};
    if (c.logged) row.event = book_.get(c.logged->last_event);
    for (std::size_t col = 0; col < table.shape.columns.size(); ++col) {
      LostValue v;
      v.column = table.shape.columns[col];
      bool logged = c.logged && c.logged->mark(col).origin == Origin::logged;
      if (c.kind == "changed") {
        if (std::find(c.differing.begin(), c.differing.end(), col) == c.differing.end()) continue;
        v.live = c.live[col];
      } else if (!logged && c.backup.empty()) {
        continue;  // left to the column's default
      }
      v.value = !logged                 ? c.backup[col]
                : is_event_time(c, col) ? event_time_value(c, col)
                                        : std::string(c.logged->fields[col]);
      v.source = logged ? "log" : "backup";
      if (logged) {
        v.event = book_.get(c.logged->mark(col).set_by);
        v.automatic = c.logged->mark(col).automatic;
      }
      row.values.push_back(std::move(v));
    }
    return row;
  }

  /// Whether the logs set the candidate's column to its event's time (kept as such by the fold).
  static bool is_event_time(const Candidate& c, std::size_t column) {
    return c.logged && c.logged->mark(column).origin == Origin::logged && c.logged->mark(column).automatic;
  }
  /// An event's time as the mapper logs it (Mapper::event_time_text).
  replay::Value event_time(uint32_t event) const {
    return replay::Value::of(replay::Value::Kind::timestamp, replay::format_time(book_.time(event)));
  }
  /// The value of a column the logs set to its event's time, as the column shows it (finish()
  /// had it rendered); the logged time when PostgreSQL could not convert it.
  std::string event_time_value(const Candidate& c, std::size_t column) const {
    replay::Value time = event_time(c.logged->mark(column).set_by);
    std::optional<std::string> shown = renderer_->get(c.table, column, time);
    return shown ? *shown : time.text;
  }

  const Config& config_;
  const LostOptions& options_;
  LostReport& report_;
  replay::PgSession db_;
  std::optional<replay::Mapper> mapper_;
  std::optional<Tables> tables_;
  std::optional<Renderer> renderer_;
  std::unique_ptr<Fold> fold_;
  std::optional<verify::rows::CompactFolding> folding_;
  std::vector<Link> links_;
  EventBook book_;
  std::map<std::pair<std::size_t, std::string>, Candidate> candidates_;
  std::vector<std::pair<std::string, std::vector<std::string>>> absent_;  ///< read_backup: to look up
  /// The keys of the live rows the logs did not touch, of the tables compare_touched read whole,
  /// sorted, until read_backup takes them (those tables' touched rows are at least a quarter of them).
  std::map<std::size_t, std::vector<std::string>> untouched_keys_;
};

// ---- writing the rows back ----

struct Statement {
  std::string sql;
  replay::Params params;
};

std::optional<std::string> raw_value(const std::string& copy_text) {
  if (copy_text == kNull) return std::nullopt;
  return verify::rows::copy_unescape(copy_text);
}

const replay::TargetTable& target_of(const LostReport& report, const std::string& qualified) {
  for (const auto& t : report.tables)
    if (t.schema + "." + t.name == qualified) return t;
  throw runtime_error("lost: no table '" + qualified + "' in the catalog");
}

/// The statement bringing back `row`; values become placeholders with their parameters, or, for the
/// script, literals. Each is cast to its column's type (the catalog's format_type text).
Statement statement_of(const LostReport& report, const LostRow& row, bool literals) {
  const replay::TargetTable& t = target_of(report, row.table);
  Statement s;
  auto value = [&](const std::string& column, const std::string& copy_text) {
    std::optional<std::string> raw = raw_value(copy_text);
    std::string text = literals ? replay::sql_literal(raw) : "$" + std::to_string(s.params.size() + 1);
    if (!literals) s.params.push_back(std::move(raw));
    return text + "::" + t.column(column)->type;
  };
  std::string first, second;
  if (row.kind != "changed") {
    for (const auto& v : row.values) {
      first += (first.empty() ? "" : ", ") + pg::quote_ident(v.column);
      second += (second.empty() ? "" : ", ") + value(v.column, v.value);
    }
    s.sql = "INSERT INTO " + t.quoted() + " (" + first + ") VALUES (" + second + ")";
    return s;
  }
  for (const auto& v : row.values)
    first += (first.empty() ? "" : ", ") + pg::quote_ident(v.column) + " = " + value(v.column, v.value);
  std::vector<std::string> key = verify::rows::split_fields(row.key);
  for (std::size_t i = 0; i < t.primary_key.size() && i < key.size(); ++i)
    second +=
        (second.empty() ? "" : " AND ") + pg::quote_ident(t.primary_key[i]) + " = " + value(t.primary_key[i], key[i]);
  s.sql = "UPDATE " + t.quoted() + " SET " + first + " WHERE " + second;
  return s;
}

}  // namespace

LostReport find_lost(const Config& config, const LostOptions& options, pg::ProcessRunner& runner,
                     const Reporter& reporter) {
  LostReport report;
  report.options = options;
  report.audit_dir = audit_dir_of(config, options.audit_dir);
  const DatabaseConfig& db = config.database(config.audit_database);
  report.database = db.dbname;
  BackupAt baseline = baseline_of(config, db.dbname, options.since);
  report.backup_stamp = baseline.file.stamp;
  report.snapshot = baseline.snapshot;
  report.snapshot_from_stamp = baseline.from_stamp;

  // The dump's check and inflated copy need neither the logs nor a database: they are made on a
  // thread of their own while the logs are read (a damaged backup is reported when it is read).
  std::future<std::unique_ptr<PreparedDump>> dump =
      std::async(std::launch::async, [&] { return std::make_unique<PreparedDump>(config, baseline.file, runner); });
  LostSearch search(config, report.options, report);
  reporter.info("Reading the audit logs after backup " + baseline.file.stamp + "...");
  replay::AuditSourceOptions source_options;
  source_options.strict = options.strict;
  auto events = replay::open_event_logs(report.audit_dir, source_options);
  search.read_logs(*events);
  report.left_out.unread_files = replay::unread_log_files(report.audit_dir, kReplayedLogs);
  reporter.info("Comparing " + std::to_string(report.events) + " events' rows with " + search.db().describe() + "...");
  search.compare_touched();
  // --user: the backup only adds deleted_unlogged rows (which have no user) and the backup's values
  // of rows already found; with nothing found for the users there is nothing to read it for.
  if (options.users.empty() || search.any_wanted()) {
    reporter.info("Reading the rows of backup " + baseline.file.stamp + "...");
    search.read_backup(*dump.get(), runner);
  }
  search.finish(search.db());
  leave_to_exit(search.release_fold());  // the report holds copies of what it needs
  return report;
}

void restore_lost(const Config& config, LostReport& report) {
  replay::PgSession db(config.database(config.audit_database).connect_info());
  db.exec("BEGIN", {}, "bringing back the lost rows");
  for (const auto& row : report.rows) {
    Statement s = statement_of(report, row, false);
    db.exec(s.sql, s.params, "bringing back " + row.table + " " + row.key);
    ++report.statements;
  }
  replay::advance_key_sequences(db, report.tables);
  throw_if_interrupted();
  db.exec("COMMIT", {}, "bringing back the lost rows");
  report.restored = true;
}

void write_lost_sql(LostReport& report, const std::string& path) {
  // Written as it is made (a statement per finding: thousands of findings make a large script).
  AtomicFile file(path, 0600);
  std::string script = "-- auditpitr lost --sql: the rows of " + report.database + " lost since backup " +
                       report.backup_stamp +
                       ", brought back in one transaction.\n-- Review, then: psql -v ON_ERROR_STOP=1 -1 -f " +
                       base_name(path) + "\nSET standard_conforming_strings = on;\nBEGIN;\n";
  for (const auto& row : report.rows) {
    script += statement_of(report, row, true).sql + ";\n";
    ++report.statements;
    if (script.size() < kScriptPieceBytes) continue;
    file.write(script);
    script.clear();
  }
  script += "COMMIT;\n";
  file.write(script);
  file.commit();
  report.sql_file = path;
}

}  // namespace auditpitr::ops
