// Replay benchmark workload: from the live rows of a Portfolio Manager database (TSV files that
// bench/replay_bench.sh exports), writes EVENTS audit events after a start time in the
// application's exact log format (create.log, update.log, delete.log: logrus JSON lines, keys
// sorted as encoding/json sorts them) and truth.sql: the same changes as plain SQL, worked out from
// this program's own model of the rows (not from the logs), which gives the true final state.
// Usage: replay_workload STATE_DIR OUT_DIR EVENTS START_EPOCH_SECONDS
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "replay/log/time_parse.h"

namespace {

/// SplitMix64: the same workload on every run.
struct Random {
  uint64_t state = 42;
  uint64_t next() {
    uint64_t x = state += 0x9e3779b97f4a7c15;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
    x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
    return x ^ (x >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

struct Row {
  int64_t id = 0, parent = 0, position = 0;
  std::string owner, title;  // title: the content type for section contents
};

/// The live rows of one table, with random picks and each parent's children (dead ones included:
/// the cascades skip them).
class Table {
 public:
  explicit Table(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  void add(const Row& row) {
    slot_[row.id] = live_.size();
    live_.push_back(row);
    children_[row.parent].push_back(row.id);
    next_id_ = std::max(next_id_, row.id + 1);
  }
  void kill(int64_t id) {
    std::size_t at = slot_.at(id);
    slot_[live_.back().id] = at;
    std::swap(live_[at], live_.back());
    live_.pop_back();
    slot_.erase(id);
  }
  Row* find(int64_t id) {
    auto it = slot_.find(id);
    return it == slot_.end() ? nullptr : &live_[it->second];
  }
  Row* pick(Random& random) { return live_.empty() ? nullptr : &live_[random.below(live_.size())]; }
  std::vector<int64_t> live_children(int64_t parent) {
    std::vector<int64_t> ids;
    for (int64_t id : children_[parent])
      if (find(id)) ids.push_back(id);
    return ids;
  }
  int64_t take_id() { return next_id_++; }

  /// id, parent (0 for portfolios), position, owner, title: psql's COPY text of plain values.
  void load(const std::string& path, bool has_parent, bool has_position) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> cells;
      std::stringstream split(line);
      for (std::string cell; std::getline(split, cell, '\t');) cells.push_back(cell);
      Row row;
      std::size_t i = 0;
      row.id = std::stoll(cells.at(i++));
      if (has_parent) row.parent = std::stoll(cells.at(i++));
      if (has_position) row.position = std::stoll(cells.at(i++));
      row.owner = cells.at(i++);
      row.title = cells.at(i++);
      add(row);
    }
  }

 private:
  std::string name_;
  std::vector<Row> live_;
  std::unordered_map<int64_t, std::size_t> slot_;
  std::unordered_map<int64_t, std::vector<int64_t>> children_;
  int64_t next_id_ = 1;
};

/// A JSON string as Go's encoding/json writes it (<, > and & escaped too).
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') out += {'\\', static_cast<char>(c)};
    else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string sql_string(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

/// One logrus line: fields as (key, JSON text), written with their keys sorted.
class Line {
 public:
  Line& add(const std::string& key, const std::string& json) {
    fields_.emplace_back(key, json);
    return *this;
  }
  Line& text(const std::string& key, const std::string& value) { return add(key, json_string(value)); }
  Line& number(const std::string& key, int64_t value) { return add(key, std::to_string(value)); }
  std::string str() {
    std::sort(fields_.begin(), fields_.end());
    std::string out = "{";
    for (const auto& [key, json] : fields_) out += (out.size() > 1 ? "," : "") + json_string(key) + ":" + json;
    return out + "}\n";
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

class Workload {
 public:
  Workload(const std::string& state, const std::string& out) {
    portfolios_.load(state + "/portfolios.tsv", false, false);
    categories_.load(state + "/categories.tsv", true, true);
    sections_.load(state + "/sections.tsv", true, true);
    projects_.load(state + "/projects.tsv", true, false);
    contents_.load(state + "/section_contents.tsv", true, false);
    for (const char* name : {"create", "update", "delete"}) logs_.emplace_back(out + "/" + name + ".log");
    truth_.open(out + "/truth.sql");
    truth_ << "BEGIN;\n";
  }

  /// One event at `time` (RFC 3339), chosen by the mix below; falls back to a portfolio creation
  /// when the chosen kind has no live row to act on.
  void event(const std::string& time) {
    time_ = time;
    uint64_t roll = random_.below(1000);
    bool done = roll < 50    ? create_portfolio()
                : roll < 200 ? create_child(categories_, portfolios_, "CREATE_CATEGORY", "Category created")
                : roll < 350 ? create_child(sections_, portfolios_, "CREATE_SECTION", "Section created")
                : roll < 500 ? update_portfolio()
                : roll < 620 ? update_position(categories_, "UPDATE_CATEGORY_POSITION", "Category position updated")
                : roll < 740 ? update_position(sections_, "UPDATE_SECTION_POSITION", "Section position updated")
                : roll < 770 ? bulk_reorder(categories_, "BULK_REORDER_CATEGORIES", "Categories reordered")
                : roll < 800 ? bulk_reorder(sections_, "BULK_REORDER_SECTIONS", "Sections reordered")
                : roll < 880 ? delete_project()
                : roll < 960 ? delete_content()
                : roll < 980 ? delete_with_children(categories_, projects_, "DELETE_CATEGORY", "Category deleted",
                                                    "categoryID", "projects")
                : roll < 995 ? delete_with_children(sections_, contents_, "DELETE_SECTION", "Section deleted",
                                                    "sectionID", "section_contents")
                             : delete_portfolio();
    if (!done) create_portfolio();
  }

  void finish() { truth_ << "COMMIT;\n"; }
  uint64_t changes() const { return changes_; }

 private:
  Line line(const char* operation, const char* msg, const std::string& user) {
    Line l;
    l.text("level", "info").text("msg", msg).text("operation", operation).text("time", time_).text("userID", user);
    return l;
  }
  void write(int log, Line& l) { logs_[log] << l.str(); }
  std::string t() const { return sql_string(time_); }
  void sql(const std::string& statement) {
    truth_ << statement << ";\n";
    ++changes_;
  }

  std::string title() {
    static const char* words[] = {"Web",   "design",  "Ana's", "work",  "Café",        "Ñandú",   "Brand",  "studio",
                                  "Photo", "\"raw\"", "Print", "C:\\x", "<b>bold</b>", "R&D",     "Travel", "notes",
                                  "Case",  "studies", "UX",    "Open",  "source",      "gallery", "Logo",   "ideas"};
    constexpr uint64_t n = sizeof words / sizeof words[0];
    return std::string(words[random_.below(n)]) + " " + words[random_.below(n)] + " " +
           std::to_string(random_.below(1000));
  }
  std::string user() { return "user-" + std::to_string(random_.below(97)); }

  bool create_portfolio() {
    Row row{portfolios_.take_id(), 0, 0, user(), title()};
    Line l = line("CREATE_PORTFOLIO", "Portfolio created", row.owner);
    l.number("portfolioID", row.id).text("title", row.title);
    write(0, l);
    sql("INSERT INTO portfolios (id, title, owner_id, created_at, updated_at) VALUES (" + std::to_string(row.id) +
        ", " + sql_string(row.title) + ", " + sql_string(row.owner) + ", " + t() + ", " + t() + ")");
    portfolios_.add(row);
    return true;
  }

  bool create_child(Table& table, Table& parents, const char* operation, const char* msg) {
    Row* parent = parents.pick(random_);
    if (!parent) return false;
    bool section = &table == &sections_;
    Row row{table.take_id(), parent->id, section ? static_cast<int64_t>(random_.below(10)) : 0, parent->owner, title()};
    Line l = line(operation, msg, row.owner);
    l.number(section ? "sectionID" : "categoryID", row.id).number("portfolioID", row.parent).text("title", row.title);
    if (section) l.number("position", row.position);
    write(0, l);
    sql("INSERT INTO " + table.name() +
        " (id, title, portfolio_id, owner_id, position, created_at, updated_at) VALUES (" + std::to_string(row.id) +
        ", " + sql_string(row.title) + ", " + std::to_string(row.parent) + ", " + sql_string(row.owner) + ", " +
        std::to_string(row.position) + ", " + t() + ", " + t() + ")");
    table.add(row);
    return true;
  }

  bool update_portfolio() {
    Row* row = portfolios_.pick(random_);
    if (!row) return false;
    row->title = title();
    Line l = line("UPDATE_PORTFOLIO", "Portfolio updated", row->owner);
    l.number("portfolioID", row->id).text("title", row->title);
    write(1, l);
    sql("UPDATE portfolios SET title = " + sql_string(row->title) + ", updated_at = " + t() +
        " WHERE id = " + std::to_string(row->id));
    return true;
  }

  void set_position(Table& table, Row& row, int64_t position) {
    row.position = position;
    sql("UPDATE " + table.name() + " SET position = " + std::to_string(position) + ", updated_at = " + t() +
        " WHERE id = " + std::to_string(row.id));
  }

  bool update_position(Table& table, const char* operation, const char* msg) {
    Row* row = table.pick(random_);
    if (!row) return false;
    int64_t old_position = row->position;
    set_position(table, *row, static_cast<int64_t>(random_.below(20)));
    Line l = line(operation, msg, row->owner);
    l.number(&table == &sections_ ? "sectionID" : "categoryID", row->id)
        .number("oldPosition", old_position)
        .number("newPosition", row->position);
    write(1, l);
    return true;
  }

  /// Up to ten live children of one portfolio, shuffled, given positions 1..n.
  bool bulk_reorder(Table& table, const char* operation, const char* msg) {
    Row* parent = table.pick(random_);
    if (!parent) return false;
    std::vector<int64_t> ids = table.live_children(parent->parent);
    if (ids.size() > 10) ids.resize(10);
    for (std::size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[random_.below(i)]);
    std::string items = "[";
    for (std::size_t i = 0; i < ids.size(); ++i) {
      set_position(table, *table.find(ids[i]), static_cast<int64_t>(i + 1));
      items += (i ? ",{\"id\":" : "{\"id\":") + std::to_string(ids[i]) + ",\"position\":" + std::to_string(i + 1) + "}";
    }
    Line l = line(operation, msg, parent->owner);
    l.number("itemCount", static_cast<int64_t>(ids.size())).add("items", items + "]");
    write(1, l);
    return true;
  }

  /// Soft-deletes `ids` of `table` at the event time (cascades pass only rows still alive).
  void soft_delete(Table& table, const std::vector<int64_t>& ids) {
    if (ids.empty()) return;
    std::string list;
    for (int64_t id : ids) {
      list += (list.empty() ? "" : ", ") + std::to_string(id);
      table.kill(id);
    }
    sql("UPDATE " + table.name() + " SET deleted_at = " + t() + " WHERE id IN (" + list + ")");
  }

  bool delete_project() {
    Row* row = projects_.pick(random_);
    if (!row) return false;
    Line l = line("DELETE_PROJECT", "Project deleted", row->owner);
    l.number("projectID", row->id).number("categoryID", row->parent).text("title", row->title);
    write(2, l);
    soft_delete(projects_, {row->id});
    return true;
  }

  bool delete_content() {
    Row* row = contents_.pick(random_);
    if (!row) return false;
    Line l = line("DELETE_SECTION_CONTENT", "Section content deleted", row->owner);
    l.number("contentID", row->id).number("sectionID", row->parent).text("type", row->title);
    write(2, l);
    soft_delete(contents_, {row->id});
    return true;
  }

  /// A category with its live projects, or a section with its live contents.
  bool delete_with_children(Table& table, Table& children, const char* operation, const char* msg, const char* key,
                            const char* cascade) {
    Row* row = table.pick(random_);
    if (!row) return false;
    Line l = line(operation, msg, row->owner);
    l.number(key, row->id).number("portfolioID", row->parent).text("title", row->title);
    write(2, l.text("cascade", cascade));
    int64_t id = row->id;
    soft_delete(table, {id});
    soft_delete(children, children.live_children(id));
    return true;
  }

  bool delete_portfolio() {
    Row* row = portfolios_.pick(random_);
    if (!row) return false;
    Line l = line("DELETE_PORTFOLIO", "Portfolio deleted", row->owner);
    l.number("portfolioID", row->id).text("title", row->title);
    write(2, l.text("cascade", "categories, sections, projects"));
    int64_t id = row->id;
    soft_delete(portfolios_, {id});
    std::vector<int64_t> categories = categories_.live_children(id), sections = sections_.live_children(id);
    soft_delete(categories_, categories);
    for (int64_t c : categories) soft_delete(projects_, projects_.live_children(c));
    soft_delete(sections_, sections);
    for (int64_t s : sections) soft_delete(contents_, contents_.live_children(s));
    return true;
  }

  Random random_;
  Table portfolios_{"portfolios"}, categories_{"categories"}, sections_{"sections"}, projects_{"projects"},
      contents_{"section_contents"};
  std::vector<std::ofstream> logs_;
  std::ofstream truth_;
  std::string time_;
  uint64_t changes_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: replay_workload STATE_DIR OUT_DIR EVENTS START_EPOCH_SECONDS\n");
    return 2;
  }
  try {
    Workload workload(argv[1], argv[2]);
    uint64_t events = std::strtoull(argv[3], nullptr, 10);
    using auditpitr::replay::TimePoint;
    TimePoint start{std::chrono::seconds{std::strtoll(argv[4], nullptr, 10)}};
    std::string first, last;
    for (uint64_t i = 0; i < events; ++i) {
      // Three events a second: equal times across the three logs are the common case.
      last = auditpitr::replay::format_rfc3339(start + std::chrono::seconds{i / 3});
      if (i == 0) first = last;
      workload.event(last);
    }
    workload.finish();
    std::printf("events=%llu first=%s last=%s truth_statements=%llu\n", static_cast<unsigned long long>(events),
                first.c_str(), last.c_str(), static_cast<unsigned long long>(workload.changes()));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "replay_workload: %s\n", e.what());
    return 1;
  }
}
