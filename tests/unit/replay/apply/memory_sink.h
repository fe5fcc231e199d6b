// An in-memory ChangeSink for unit tests: the semantics of docs/replay.md in the simplest form
// (one change at a time, values compared as text), transactions as copies of the tables, and
// refusals on demand. The reference the applier's batching, resuming and conflict handling are
// tested against; the real statements are tested against PostgreSQL (tests/integration/replay_*).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "replay/apply/change_sink.h"
#include "src/error.h"

namespace auditpitr::test {

using Row = std::map<std::string, std::optional<std::string>>;
using Tables = std::map<std::string, std::map<std::string, Row>>;  // table -> key text -> row

/// Thrown by MemorySink when told to crash: as if the process died before commit_batch returned.
struct SimulatedCrash : std::runtime_error {
  SimulatedCrash() : std::runtime_error("simulated crash") {}
};

class MemorySink : public replay::ChangeSink {
 public:
  Tables tables;
  std::optional<replay::ReplayPosition> committed_position;
  uint64_t commits = 0;
  std::set<std::string> refused_keys;       ///< "table/key": the database refuses any change of that row
  std::optional<uint64_t> crash_at_commit;  ///< throw SimulatedCrash at this commit (1-based), not applying it
  std::vector<Error> failures;              ///< thrown in turn by apply_all, each once, before it applies anything
  uint64_t failures_from_call = 1;          ///< the first apply_all call (1-based) that throws them
  bool name_refused = true;                 ///< apply_all names the refused change (a sink may not know it)
  uint64_t apply_all_calls = 0, apply_event_calls = 0;
  /// Whether apply_all tells the applier its outcomes before it returns, as the fold does while it
  /// writes: `told` the true ones; `taken_back` wrong ones (every change "inserted", no checks),
  /// then takes them back and answers with the true ones.
  enum class Early { never, told, taken_back } early = Early::never;
  uint64_t outcomes_told = 0;

  void set_outcomes_known(OutcomesKnown known) override { known_ = std::move(known); }

  /// When set, apply_all asks for the next part's changes, as the fold does: what it was told,
  /// per call (the count of changes, -1 for none; whether they are in the same batch).
  bool asks_next = false;
  std::vector<std::pair<long, bool>> told_next;
  void set_next_batch(NextBatch next) override { next_ = std::move(next); }
  /// What each read_ahead call was given, in turn, and the first apply_all call (the changes'
  /// addresses: the same changes must come again, not copies).
  std::vector<std::vector<const replay::RowChange*>> read_ahead_given;
  std::vector<const replay::RowChange*> first_applied;
  void read_ahead(const std::vector<const replay::RowChange*>& first) override {
    if (open_) throw std::logic_error("read_ahead with a batch open");
    read_ahead_given.push_back(first);
  }

  void begin_batch() override {
    if (open_) throw std::logic_error("begin_batch with a batch open");
    open_ = true;
    saved_ = tables;
  }

  bool apply_all(const std::vector<const replay::RowChange*>& changes, std::vector<replay::ChangeOutcome>& outcomes,
                 std::optional<std::size_t>& refused_change) override {
    require_open();
    outcomes.clear();
    if (++apply_all_calls == 1) first_applied = changes;
    if (!failures.empty() && apply_all_calls >= failures_from_call) {
      Error failure = failures.front();
      failures.erase(failures.begin());
      throw failure;
    }
    Tables before = tables;
    for (std::size_t i = 0; i < changes.size(); ++i) {
      if (refuses(*changes[i])) {
        tables = before;
        if (name_refused) refused_change = i;
        tell_early(changes.size(), outcomes);
        outcomes.clear();
        return false;
      }
      outcomes.push_back(apply(*changes[i]));
    }
    tell_early(changes.size(), outcomes);
    if (asks_next && next_) {
      NextChanges n = next_();
      told_next.emplace_back(n.changes ? static_cast<long>(n.changes->size()) : -1L, n.same_batch);
    }
    return true;
  }

  std::vector<replay::ChangeOutcome> apply_event(const std::vector<const replay::RowChange*>& changes) override {
    require_open();
    ++apply_event_calls;
    Tables before = tables;
    std::vector<replay::ChangeOutcome> outcomes;
    for (const auto* c : changes) {
      if (refuses(*c)) {
        tables = before;
        replay::ChangeOutcome refused;
        refused.kind = replay::ChangeOutcomeKind::refused;
        refused.conflict_kind = "foreign_key";
        refused.detail = "refused by the test";
        outcomes.push_back(refused);
        return outcomes;
      }
      outcomes.push_back(apply(*c));
    }
    return outcomes;
  }

  void commit_batch(const replay::ReplayPosition& position, uint64_t) override {
    require_open();
    ++commits;
    if (crash_at_commit && commits == *crash_at_commit) {
      tables = saved_;
      open_ = false;
      throw SimulatedCrash();
    }
    committed_position = position;
    open_ = false;
  }

  void rollback_batch() override {
    if (!open_) return;
    tables = saved_;
    open_ = false;
  }

  static std::string key_text(const replay::RowChange& c) {
    std::string out;
    for (const auto& k : c.key) out += k.column + "=" + k.value.text + ";";
    return out;
  }

 private:
  void require_open() const {
    if (!open_) throw std::logic_error("no batch open");
  }

  void tell_early(std::size_t changes, const std::vector<replay::ChangeOutcome>& outcomes) {
    if (!known_ || early == Early::never) return;
    if (early == Early::told) {
      if (outcomes.size() != changes) return;  // refused: nothing to tell
      ++outcomes_told;
      return known_(&outcomes);
    }
    ++outcomes_told;
    std::vector<replay::ChangeOutcome> wrong(changes);
    for (auto& o : wrong) o.kind = replay::ChangeOutcomeKind::inserted;
    known_(&wrong);
    known_(nullptr);
  }

  bool refuses(const replay::RowChange& c) const { return refused_keys.count(c.table + "/" + key_text(c)) > 0; }

  static std::optional<std::string> text(const replay::Value& v) {
    return v.is_null() ? std::nullopt : std::optional<std::string>(v.text);
  }

  replay::ChangeOutcome apply(const replay::RowChange& c) {
    using K = replay::ChangeOutcomeKind;
    replay::ChangeOutcome out;
    auto& table = tables[c.table];
    auto it = table.find(key_text(c));
    if (c.action == replay::ChangeAction::insert) {
      out.kind = it == table.end() ? K::inserted : K::insert_existing;
      Row& row = table[key_text(c)];
      for (const auto& k : c.key) row[k.column] = text(k.value);
      for (const auto& s : c.set)
        if (out.kind == K::inserted || !(s.origin == replay::ValueOrigin::event_time && s.column == "created_at"))
          row[s.column] = text(s.value);
      return out;
    }
    if (it == table.end()) {
      out.kind = K::missing_row;
      return out;
    }
    for (const auto& e : c.expect) {
      auto found = it->second.count(e.column) ? it->second[e.column] : std::nullopt;
      out.checks.push_back({found == text(e.expected), found});
    }
    if (c.action == replay::ChangeAction::update) {
      out.kind = K::updated;
      for (const auto& s : c.set) it->second[s.column] = text(s.value);
    } else if (c.action == replay::ChangeAction::soft_delete) {
      bool alive = !it->second["deleted_at"];
      out.kind = alive ? K::soft_deleted : K::already_deleted;
      if (alive) {
        for (const auto& s : c.set) it->second[s.column] = text(s.value);
        out.cascaded = cascade(c.cascade, it->second["id"], replay::format_time(c.time));
      }
    } else {
      out.kind = K::deleted;
      std::optional<std::string> id = it->second["id"];
      table.erase(it);
      out.cascaded = cascade(c.cascade, id, replay::format_time(c.time));
    }
    return out;
  }

  // Soft-deletes (or deletes) alive children whose foreign key is `parent_id`, recursively.
  uint64_t cascade(const std::vector<replay::CascadeDelete>& children, const std::optional<std::string>& parent_id,
                   const std::string& time) {
    uint64_t n = 0;
    for (const auto& child : children) {
      auto& rows = tables[child.table];
      for (auto it = rows.begin(); it != rows.end();) {
        Row& row = it->second;
        bool matches = row[child.foreign_key] == parent_id;
        if (!matches || (!child.soft_delete_column.empty() && row[child.soft_delete_column])) {
          ++it;
          continue;
        }
        ++n;
        std::optional<std::string> id = row["id"];
        if (child.soft_delete_column.empty()) {
          it = rows.erase(it);
        } else {
          row[child.soft_delete_column] = time;
          ++it;
        }
        n += cascade(child.children, id, time);
      }
    }
    return n;
  }

  bool open_ = false;
  OutcomesKnown known_;
  NextBatch next_;
  Tables saved_;
};

}  // namespace auditpitr::test
