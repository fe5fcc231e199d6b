// Batches: events accumulate (mapped, filtered) until batch_events were consumed, handed over in
// kPartsPerBatch parts; each part is applied in one go (apply_all), in the batch's transaction.
// When the database refuses a change, the events before it go in one go, its event alone
// (apply_event: exactly the refused events are left out), then the rest the same way. Tallies of
// a batch count only once it commits. The sink may ask for the next part's changes while it
// applies one whole (ChangeSink::set_next_batch), and tell the part's outcomes before it has
// written them, to be tallied meanwhile (ChangeSink::set_outcomes_known).
#include "replay/apply/applier.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iterator>
#include <memory>
#include <thread>
#include <utility>

#include "replay/mapping/event_json.h"
#include "src/error.h"
#include "src/pg/connection.h"
#include "src/util/exit_memory.h"
#include "src/util/format.h"
#include "src/util/free_beside.h"
#include "src/util/handoff.h"
#include "src/util/interrupt.h"
#include "src/util/pause_point.h"

namespace auditpitr::replay {
namespace {

struct PendingEvent {
  std::vector<RowChange> changes;
  std::string file;
  uint64_t line = 0;
  std::string operation;
  bool in_margin = false;
  uint64_t hash = 0;  ///< of its line (event_hash before it is written as text)
  /// A change PostgreSQL could never take (a NUL character in a value): the event is a `type`
  /// conflict without being sent; SIZE_MAX when there is none.
  std::size_t unsendable = SIZE_MAX;
};

/// The first change holding a value with a NUL character (JSON's \u0000): PostgreSQL's text cannot
/// hold one, and libpq would cut the value short at it. SIZE_MAX when there is none.
std::size_t change_with_nul(const std::vector<RowChange>& changes) {
  auto has_nul = [](const Value& v) { return v.text.find('\0') != std::string::npos; };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    for (const auto& k : changes[i].key)
      if (has_nul(k.value)) return i;
    for (const auto& s : changes[i].set)
      if (has_nul(s.value)) return i;
    for (const auto& e : changes[i].expect)
      if (has_nul(e.expected)) return i;
  }
  return SIZE_MAX;
}

std::string key_text(const RowChange& change) {
  std::string out;
  for (const auto& k : change.key) out += (out.empty() ? "" : ", ") + k.column + "=" + k.value.text;
  return out;
}

std::string where(const PendingEvent& e) { return e.file + ":" + std::to_string(e.line); }

/// Cascades into tables outside --table are cut, with their own children.
void prune_cascades(std::vector<CascadeDelete>& cascades, const std::set<std::string>& tables) {
  std::vector<CascadeDelete> kept;
  for (auto& c : cascades)
    if (tables.count(c.table)) {
      prune_cascades(c.children, tables);
      kept.push_back(std::move(c));
    }
  cascades = std::move(kept);
}

/// What one batch adds to the summary; merged only when the batch commits.
struct BatchTally {
  uint64_t applied = 0, skipped_conflict = 0;
  std::map<std::string, TableTally> tables;
  std::vector<ConflictRecord> conflicts;
  std::vector<DriftRecord> drift;
  std::vector<std::string> refused;  ///< hashes of the events the database refused
};

void add(TableTally& to, const TableTally& t) {
  to.inserted += t.inserted;
  to.insert_existing += t.insert_existing;
  to.updated += t.updated;
  to.deleted += t.deleted;
  to.soft_deleted += t.soft_deleted;
  to.already_deleted += t.already_deleted;
  to.cascaded += t.cascaded;
  to.scripted += t.scripted;
  to.conflicts += t.conflicts;
  to.drift += t.drift;
}

/// `from`'s records after `into`'s, up to `limit` in all: the whole vector when `into` is empty,
/// else each record moved once into reserved room.
template <typename Record>
void move_records(std::vector<Record>& into, std::vector<Record>& from, std::size_t limit = SIZE_MAX) {
  if (into.empty() && from.size() <= limit) {
    into = std::move(from);
    return;
  }
  std::size_t n = std::min(from.size(), limit - std::min(limit, into.size()));
  into.reserve(into.size() + n);
  std::move(from.begin(), from.begin() + static_cast<std::ptrdiff_t>(n), std::back_inserter(into));
}

/// A part's tally into its batch's.
void add(BatchTally& to, BatchTally&& part) {
  to.applied += part.applied;
  to.skipped_conflict += part.skipped_conflict;
  for (const auto& [name, t] : part.tables) add(to.tables[name], t);
  move_records(to.conflicts, part.conflicts);
  move_records(to.drift, part.drift);
  move_records(to.refused, part.refused);
}

// One event's outcomes, in the batch's vector of them.
struct Outcomes {
  const ChangeOutcome* first = nullptr;
  std::size_t count = 0;
  std::size_t size() const { return count; }
  bool empty() const { return count == 0; }
  const ChangeOutcome& operator[](std::size_t i) const { return first[i]; }
};

// The changes of events [begin, end) that can be sent, in order, and each one's event if asked:
// what apply_all is given.
void sendable_changes(const std::vector<PendingEvent>& events, std::size_t begin, std::size_t end,
                      std::vector<const RowChange*>& out, std::vector<std::size_t>* event_of = nullptr) {
  for (std::size_t i = begin; i < end; ++i)
    if (events[i].unsendable == SIZE_MAX)
      for (const auto& c : events[i].changes) {
        out.push_back(&c);
        if (event_of) event_of->push_back(i);
      }
}

// A part of a batch read and mapped, ready to apply: its events with changes, the position of the
// last event consumed, how many of the window's events the stream has passed, and whether the part
// ends its batch. Or, `continues`, a piece of the run's first part: more of that part follows.
struct ReadyPart {
  std::vector<PendingEvent> events;
  ReplayPosition last;
  uint64_t done = 0;
  bool ends_batch = false;
  bool continues = false;
};

// What reading and mapping count (the reading thread's part of ApplySummary).
struct ReadCounts {
  uint64_t read = 0, in_window = 0, before_position = 0, skipped_filter = 0, unmapped = 0, invalid = 0;
  bool resumed = false;
};

class Loop {
 public:
  Loop(Mapper& mapper, ChangeSink& sink, const ApplyOptions& options) : mapper_(mapper), sink_(sink), o_(options) {}

  // The next batch is read and mapped on a thread of its own while the server applies this one.
  ApplySummary run(AuditEventSource& events) {
    {
      Handoff<ReadyPart> ready(1, [&](const Handoff<ReadyPart>::Push& push) { read_batches(events, push); });
      sink_.prepare();
      sink_.set_next_batch([this, &ready] { return peek_next(ready); });
      sink_.set_outcomes_known([this](const std::vector<ChangeOutcome>* outcomes) { tally_early(outcomes); });
      struct Unset {
        ChangeSink& sink;
        ~Unset() {
          sink.set_next_batch(nullptr);
          sink.set_outcomes_known(nullptr);
        }
      } unset{sink_};
      bool continued = false;  // the part before was a piece: this one goes on with it
      while (std::optional<ReadyPart> part = take_next(ready)) {
        if (!batch_open_ && !continued) {
          spent_.release(batch_);  // the batch before, committed
          part_starts_.clear();
          batch_.reserve(std::min<std::size_t>(o_.batch_events, 1 << 20));  // its parts are moved in, not again
        }
        if (!continued) part_starts_.push_back(batch_.size());
        batch_.reserve(batch_.size() + part->events.size());
        // Moved, each event's changes stay where they are: the sink may still point at them.
        for (auto& e : part->events) batch_.push_back(std::move(e));
        continued = part->continues;
        if (continued) {
          read_ahead();
          continue;
        }
        last_ = part->last;
        apply_part(part->ends_batch, part->done);
      }
    }
    // The last batch is left to the process's exit, which frees it at once: freeing its events
    // one by one took a tenth of a second, the run's last.
    leave_to_exit(std::make_shared<std::vector<PendingEvent>>(std::move(batch_)));
    s_.read = counts_.read;
    s_.in_window = counts_.in_window;
    s_.before_position = counts_.before_position;
    s_.skipped_filter = counts_.skipped_filter;
    s_.unmapped = counts_.unmapped;
    s_.invalid = counts_.invalid;
    s_.resumed = counts_.resumed;
    return std::move(s_);
  }

 private:
  // The part after the one being applied, taken from the reading thread early when the sink asks
  // for its changes (while it applies the whole of this one), or in its turn.
  ChangeSink::NextChanges peek_next(Handoff<ReadyPart>& ready) {
    if (!whole_part_attempt_) return {};
    if (!next_ && !next_error_ && !reading_done_) {
      try {
        next_ = ready.next();
      } catch (...) {  // the reading thread's error ends the run in its turn, after this batch
        next_error_ = std::current_exception();
      }
      reading_done_ = !next_;
      next_changes_.clear();
      if (next_) sendable_changes(next_->events, 0, next_->events.size(), next_changes_);
    }
    if (!next_) return {};
    return {&next_changes_, !part_ends_batch_};
  }

  std::optional<ReadyPart> take_next(Handoff<ReadyPart>& ready) {
    if (next_) return std::exchange(next_, std::nullopt);
    if (next_error_) std::rethrow_exception(next_error_);
    if (reading_done_) return std::nullopt;
    return ready.next();
  }

  // The reading thread: everything up to the sink, counted in counts_ (read by the other thread
  // only once this one has finished).
  void read_batches(AuditEventSource& events, const Handoff<ReadyPart>::Push& push) {
    AuditEvent e;
    ReadyPart part;
    uint64_t consumed_in_batch = 0, consumed_in_part = 0;
    const uint64_t part_events = (o_.batch_events + kPartsPerBatch - 1) / kPartsPerBatch;
    const uint64_t piece_events = std::min<uint64_t>(o_.read_ahead_events, part_events / 4);
    bool first_part = true;  // handed over in pieces as it is mapped
    auto hand_over_piece = [&] {
      ReadyPart piece;
      piece.events = std::move(part.events);
      part.events = {};
      piece.continues = true;
      return push(std::move(piece));
    };
    auto hand_over = [&](bool ends_batch) {
      first_part = false;
      part.last = *reading_last_;
      part.last.hash = to_hex(reading_last_hash_);
      part.done = counts_.before_position + counts_.in_window;
      part.ends_batch = ends_batch;
      consumed_in_part = 0;
      if (ends_batch) consumed_in_batch = 0;
      return push(std::exchange(part, ReadyPart{}));
    };
    while (events.next(e)) {
      if (e.time > o_.to) continue;  // the source stops at `to` too; this makes the bound exact
      ++counts_.read;
      reading_last_hash_ = XXH3_64bits(e.json.data(), e.json.size());  // once: the position's and the event's
      advance_position(e);
      if (!past_resume_point(e)) continue;
      consume(e, part.events);
      ++consumed_in_part;
      if (++consumed_in_batch >= o_.batch_events) {
        if (!hand_over(true)) return;
      } else if (consumed_in_part >= part_events) {
        if (!hand_over(false)) return;
      } else if (first_part && piece_events && consumed_in_part % piece_events == 0) {
        if (!hand_over_piece()) return;
      } else if ((consumed_in_part & 1023) == 0) {
        throw_if_interrupted();  // nothing of this part was sent yet
      }
    }
    if (o_.resume_after && !counts_.resumed)
      throw verification_error("the audit logs no longer hold the event this database was replayed up to (" +
                                   format_time(o_.resume_after->time) + ", #" +
                                   std::to_string(o_.resume_after->ordinal) + " of that second)",
                               "were log files removed? restore the backup again and replay from it");
    if (consumed_in_batch > 0) hand_over(true);
  }

  void advance_position(const AuditEvent& e) {
    if (!reading_last_ || e.time != reading_last_->time) {
      reading_last_ = ReplayPosition{e.time, 1, {}};  // its hash is written when a part is handed over
    } else {
      ++reading_last_->ordinal;
    }
  }

  // Events up to the resume position were applied by an earlier run: read, not applied again.
  bool past_resume_point(const AuditEvent& e) {
    if (!o_.resume_after || counts_.resumed) return true;
    const ReplayPosition& r = *o_.resume_after;
    bool before = e.time < r.time || (e.time == r.time && reading_last_->ordinal < r.ordinal);
    if (before) {
      if (e.time > o_.from) ++counts_.before_position;
      return false;
    }
    if (e.time == r.time && reading_last_->ordinal == r.ordinal && to_hex(reading_last_hash_) == r.hash) {
      counts_.resumed = true;
      if (e.time > o_.from) ++counts_.before_position;
      return false;
    }
    throw verification_error("the audit logs changed since the last replay into this database: the event at " +
                                 format_time(r.time) + " #" + std::to_string(r.ordinal) +
                                 " is not the one it applied (" + (e.file ? *e.file : "?") + ":" +
                                 std::to_string(e.line_number) + " is there now)",
                             "restore the backup again and replay from it, or replay into a fresh copy");
  }

  void consume(const AuditEvent& e, std::vector<PendingEvent>& batch) {
    if (e.time <= o_.from) return;
    ++counts_.in_window;
    if (!o_.users.empty() && !o_.users.count(user_of(e))) {
      ++counts_.skipped_filter;
      return;
    }
    MapResult r = mapper_.map(e);
    if (r.outcome == MapOutcome::invalid) {
      ++counts_.invalid;
      return;
    }
    if (r.outcome != MapOutcome::mapped) {
      ++counts_.unmapped;
      return;
    }
    if (!o_.tables.empty()) {
      std::vector<RowChange> kept;
      for (auto& c : r.changes)
        if (o_.tables.count(c.table)) {
          prune_cascades(c.cascade, o_.tables);
          kept.push_back(std::move(c));
        }
      r.changes = std::move(kept);
    }
    if (r.changes.empty()) {
      ++counts_.skipped_filter;
      return;
    }
    bool in_margin = o_.margin_end && e.time <= *o_.margin_end;
    std::size_t unsendable = change_with_nul(r.changes);
    batch.push_back({std::move(r.changes), e.file ? *e.file : std::string(), e.line_number, std::string(e.operation),
                     in_margin, reading_last_hash_, unsendable});
  }

  std::string user_of(const AuditEvent& e) const {
    JsonDocument doc;
    std::string error;
    if (!doc.parse(e.json, error)) return {};
    uint32_t user = doc.find(JsonDocument::root, o_.user_field);
    return user == JsonDocument::npos ? std::string() : doc.value(user).text;
  }

  // The run's first part is handed to the sink piece by piece as it is mapped: the server has
  // nothing else to do yet, so the sink reads what they need meanwhile (ChangeSink::read_ahead).
  void read_ahead() {
    std::vector<const RowChange*> first;
    sendable_changes(batch_, part_starts_.back(), batch_.size(), first);
    sink_.read_ahead(first);
  }

  // The batch's last part read (the events from part_starts_.back() on), applied in the open
  // batch; the batch committed with its position when the part ends it.
  void apply_part(bool ends_batch, uint64_t done) {
    part_ends_batch_ = ends_batch;
    if (!batch_open_) ++batches_;
    for (int attempt = 1;; ++attempt) {
      try {
        apply_parts(ends_batch);
        break;
      } catch (const Error& e) {
        // A deadlock or a lock timeout with the application's own writes undid the whole batch,
        // position included: applying it again is what a rerun would do. Not after a lost
        // session, nor a commit in doubt (the rerun's resume decides that one).
        if (!e.retryable() || pg::connection_lost(e.sqlstate()) || attempt == kBatchAttempts) throw;
        sink_.rollback_batch();
        batch_open_ = false;
        ++s_.batches_retried;
        if (o_.retrying) o_.retrying(e, attempt + 1, kBatchAttempts);
        std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
        throw_if_interrupted();
      }
    }
    if (!ends_batch) {
      if (interrupt_requested()) {  // Ctrl-C between two parts: the batch is rolled back
        sink_.rollback_batch();
        batch_open_ = false;
        throw_if_interrupted();
      }
      return;
    }
    merge(tally_);
    if (o_.progress) o_.progress(done, last_->time);
    throw_if_interrupted();
  }

  // One attempt: the last part in the open batch, or, when none is open (a new batch, or the
  // attempt before was rolled back), every part of the batch in a new one; committed with the
  // batch's position when `ends_batch`.
  void apply_parts(bool ends_batch) {
    std::size_t first = batch_open_ ? part_starts_.size() - 1 : 0;
    if (!batch_open_) {
      sink_.begin_batch();
      batch_open_ = true;
      tally_ = BatchTally{};
      refused_attempts_ = 0;
    }
    for (std::size_t p = first; p < part_starts_.size(); ++p)
      apply_range(part_starts_[p], p + 1 < part_starts_.size() ? part_starts_[p + 1] : batch_.size(), tally_);
    if (!ends_batch) return;
    // Crash tests stop the process here (applied, not committed) or just after the commit.
    pause_at("applied");
    if (interrupt_requested()) {  // Ctrl-C during the batch: it is rolled back, the next run redoes it
      sink_.rollback_batch();
      batch_open_ = false;
      throw_if_interrupted();
    }
    sink_.record_refused(tally_.refused);
    sink_.commit_batch(*last_, tally_.applied);
    batch_open_ = false;
    pause_at("committed");
  }

  // Events [begin, end) of the batch, in order: in one go when the sink takes them all. When it
  // refuses one, the events before it go the same way, then its event alone, then the rest; when
  // it cannot name the refused change, each half of the range goes the same way. A refused range
  // of a few events, and the rest of a batch whose refused attempts already spent kRefusedBudget
  // times its size (refusals everywhere), go event by event.
  void apply_range(std::size_t begin, std::size_t end, BatchTally& tally) {
    auto event_by_event = [&] {
      for (std::size_t i = begin; i < end; ++i) apply_one(batch_[i], tally);
    };
    while (begin < end) {
      if (refused_attempts_ > kRefusedBudget * batch_.size()) return event_by_event();
      std::vector<const RowChange*> all;
      std::vector<std::size_t> event_of;  // of each change in `all`
      sendable_changes(batch_, begin, end, all, &event_of);
      std::vector<ChangeOutcome> outcomes;
      std::optional<std::size_t> refused;
      whole_part_attempt_ = begin == part_starts_.back() && end == batch_.size() && refused_attempts_ == 0;
      early_.reset();
      bool applied = sink_.apply_all(all, outcomes, refused);
      whole_part_attempt_ = false;
      if (applied) {
        if (early_) add(tally, std::move(*early_));  // these outcomes, tallied while the sink wrote them
        else record_range(begin, end, outcomes, tally);
        early_.reset();
        spent_outcomes_.release(outcomes);  // a part's take 10 ms to free, while the server waits
        return;
      }
      early_.reset();
      refused_attempts_ += end - begin;
      if (end - begin <= kEventByEvent) return event_by_event();
      if (refused && *refused < event_of.size()) {
        std::size_t at = event_of[*refused];
        apply_range(begin, at, tally);
        apply_one(batch_[at], tally);
        begin = at + 1;
      } else {
        std::size_t middle = begin + (end - begin) / 2;
        apply_range(begin, middle, tally);
        begin = middle;
      }
    }
  }

  // The outcomes of events [begin, end)'s sendable changes, in order.
  void record_range(std::size_t begin, std::size_t end, const std::vector<ChangeOutcome>& outcomes, BatchTally& tally) {
    for (std::size_t i = begin, at = 0; i < end; ++i) {
      const PendingEvent& pe = batch_[i];
      std::size_t n = pe.unsendable == SIZE_MAX ? pe.changes.size() : 0;
      record_event(pe, {outcomes.data() + at, n}, tally);
      at += n;
    }
  }

  // The sink knows the whole batch's outcomes before its writes end: they are tallied while it
  // writes, and the tally is kept if apply_all answers true without taking them back. Not under
  // --on-conflict fail, where a conflict rolls the batch back: apply_all's answer comes first.
  void tally_early(const std::vector<ChangeOutcome>* outcomes) {
    early_.reset();
    if (!outcomes || !whole_part_attempt_ || o_.on_conflict == ConflictPolicy::fail) return;
    early_.emplace();
    record_range(part_starts_.back(), batch_.size(), *outcomes, *early_);
  }

  void apply_one(const PendingEvent& pe, BatchTally& tally) {
    if (pe.unsendable != SIZE_MAX) return record_event(pe, {}, tally);
    std::vector<const RowChange*> changes;
    for (const auto& c : pe.changes) changes.push_back(&c);
    std::vector<ChangeOutcome> outcomes = sink_.apply_event(changes);
    record_event(pe, {outcomes.data(), outcomes.size()}, tally);
  }

  void record_event(const PendingEvent& pe, Outcomes outcomes, BatchTally& tally) {
    if (pe.unsendable != SIZE_MAX) {
      conflict(pe, pe.changes[pe.unsendable], "type",
               "a value holds a NUL character (\\u0000), which PostgreSQL's text cannot store", tally);
      ++tally.skipped_conflict;
      tally.refused.push_back(to_hex(pe.hash));
      return;
    }
    for (std::size_t i = 0; i < outcomes.size(); ++i)
      if (outcomes[i].kind == ChangeOutcomeKind::refused) {
        conflict(pe, pe.changes[i], outcomes[i].conflict_kind, outcomes[i].detail, tally);
        ++tally.skipped_conflict;
        tally.refused.push_back(to_hex(pe.hash));
        return;  // the sink undid the event's other changes
      }
    bool any_applied = false;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      const RowChange& change = pe.changes[i];
      const ChangeOutcome& out = outcomes[i];
      TableTally& t = tally.tables[change.table];
      switch (out.kind) {
        case ChangeOutcomeKind::inserted: ++t.inserted; break;
        case ChangeOutcomeKind::insert_existing: ++t.insert_existing; break;
        case ChangeOutcomeKind::updated: ++t.updated; break;
        case ChangeOutcomeKind::deleted: ++t.deleted; break;
        case ChangeOutcomeKind::soft_deleted: ++t.soft_deleted; break;
        case ChangeOutcomeKind::already_deleted: ++t.already_deleted; break;
        case ChangeOutcomeKind::scripted: ++t.scripted; break;
        case ChangeOutcomeKind::missing_row:
          conflict(pe, change, "missing_row", "no row with " + key_text(change), tally);
          continue;
        case ChangeOutcomeKind::refused: break;  // handled above
      }
      any_applied = true;
      t.cascaded += out.cascaded;
      for (std::size_t k = 0; k < out.checks.size() && k < change.expect.size(); ++k)
        if (!out.checks[k].same) drift(pe, change, change.expect[k], out.checks[k], tally);
    }
    if (any_applied) ++tally.applied;
    else if (!outcomes.empty()) ++tally.skipped_conflict;
  }

  void conflict(const PendingEvent& pe, const RowChange& change, const std::string& kind, const std::string& detail,
                BatchTally& tally) {
    if (o_.on_conflict == ConflictPolicy::fail) {
      sink_.rollback_batch();
      throw verification_error("conflict at " + where(pe) + " (" + pe.operation + ", " + change.table + " " +
                                   key_text(change) + "): " + kind + ": " + detail,
                               "the batch was rolled back; run with --on-conflict skip to leave such events out");
    }
    ++tally.tables[change.table].conflicts;
    tally.conflicts.push_back({kind, pe.file, pe.line, pe.operation, change.table, key_text(change), detail});
  }

  void drift(const PendingEvent& pe, const RowChange& change, const ExpectedValue& e, const CheckResult& check,
             BatchTally& tally) {
    ++tally.tables[change.table].drift;
    std::optional<std::string> logged;
    if (!e.expected.is_null()) logged = e.expected.text;
    tally.drift.push_back({pe.in_margin, pe.file, pe.line, pe.operation, change.table, key_text(change), e.column,
                           e.field, logged, check.found});
  }

  void merge(BatchTally& tally) {
    s_.applied += tally.applied;
    s_.skipped_conflict += tally.skipped_conflict;
    for (const auto& [name, t] : tally.tables) add(s_.tables[name], t);
    for (const auto& c : tally.conflicts) ++s_.conflicts_by_kind[c.kind];
    for (const auto& d : tally.drift) ++(d.in_margin ? s_.drift_in_margin : s_.drift);
    move_records(s_.conflicts, tally.conflicts, kMaxRecords);
    move_records(s_.drift_records, tally.drift, kMaxRecords);
    s_.position = *last_;
  }

  void pause_at(const char* moment) const {
    pause_point(("replay-batch-" + std::to_string(batches_) + "-" + moment).c_str());
  }

  Mapper& mapper_;
  ChangeSink& sink_;
  const ApplyOptions& o_;
  uint64_t batches_ = 0;
  ApplySummary s_;
  std::optional<ReplayPosition> last_;  // of the batch being applied
  std::vector<PendingEvent> batch_;
  std::size_t refused_attempts_ = 0;      // events in the batch's attempts that a refusal undid
  std::vector<std::size_t> part_starts_;  // in batch_, of each part read
  bool batch_open_ = false;
  bool part_ends_batch_ = false;     // the last part read ends its batch
  BatchTally tally_;                 // of the open batch
  bool whole_part_attempt_ = false;  // apply_all is given the last part whole, for the first time
  std::optional<BatchTally> early_;  // of the last part's outcomes, known before apply_all ended
  std::optional<ReadyPart> next_;    // taken early (peek_next)
  std::vector<const RowChange*> next_changes_;
  std::exception_ptr next_error_;
  bool reading_done_ = false;
  FreeBeside spent_;           // batches applied, freed while the next one goes on
  FreeBeside spent_outcomes_;  // a part's outcomes, freed likewise
  // The reading thread's own.
  ReadCounts counts_;
  std::optional<ReplayPosition> reading_last_;
  uint64_t reading_last_hash_ = 0;
};

}  // namespace

ApplySummary apply_events(AuditEventSource& events, Mapper& mapper, ChangeSink& sink, const ApplyOptions& options) {
  return Loop(mapper, sink, options).run(events);
}

std::string event_hash(std::string_view json) { return to_hex(XXH3_64bits(json.data(), json.size())); }

const char* outcome_kind_name(ChangeOutcomeKind kind) {
  switch (kind) {
    case ChangeOutcomeKind::inserted: return "inserted";
    case ChangeOutcomeKind::insert_existing: return "insert_existing";
    case ChangeOutcomeKind::updated: return "updated";
    case ChangeOutcomeKind::deleted: return "deleted";
    case ChangeOutcomeKind::soft_deleted: return "soft_deleted";
    case ChangeOutcomeKind::already_deleted: return "already_deleted";
    case ChangeOutcomeKind::missing_row: return "missing_row";
    case ChangeOutcomeKind::refused: return "refused";
    case ChangeOutcomeKind::scripted: return "scripted";
  }
  return "?";
}

}  // namespace auditpitr::replay
