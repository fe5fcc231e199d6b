// TEMPORARY stand-in for the reader of branch `reader`: getline per file, merge by time, stats.
// Deliberately small; the real reader handles rotation, gzip, huge lines and strict mode.
#include <simdjson.h>

#include <date/date.h>
#include <fstream>

#include "replay/audit_source.h"
#include "replay/event_json.h"

namespace auditpitr::replay {
namespace {

class FileCursor {
 public:
  FileCursor(std::string path, bool info_only) : in_(path), info_only_(info_only) { stats_.path = std::move(path); }

  /// Advances to the next acceptable line; false at the end of the file.
  bool advance() {
    std::string line;
    while (std::getline(in_, line)) {
      ++stats_.lines;
      if (line.empty()) continue;
      if (accept(line)) return true;
    }
    return false;
  }

  AuditEvent event() const {
    AuditEvent e;
    e.operation = operation_;
    e.time = time_;
    e.level = level_;
    e.json = std::string_view(buffer_.data(), size_);
    e.file = &stats_.path;
    e.line_number = stats_.lines;
    return e;
  }

  TimePoint time() const { return time_; }
  const AuditFileStats& stats() const { return stats_; }

 private:
  bool accept(const std::string& line) {
    buffer_.assign(line);
    size_ = line.size();
    buffer_.resize(size_ + simdjson::SIMDJSON_PADDING, ' ');  // readable padding after the view
    JsonNode root;
    std::string error;
    if (!parse_event_json(std::string_view(buffer_.data(), size_), root, error)) return malformed(error);
    const JsonNode* op = root.find("operation");
    const JsonNode* time = root.find("time");
    const JsonNode* level = root.find("level");
    if (!op || op->kind != JsonNode::Kind::string) return malformed("no 'operation'");
    auto parsed = time && time->kind == JsonNode::Kind::string ? parse_rfc3339(time->text) : std::nullopt;
    if (!parsed) return malformed("missing or unparsable 'time'");
    operation_ = op->text;
    level_ = level && level->kind == JsonNode::Kind::string ? level->text : "";
    if (info_only_ && level_ != "info") {
      ++stats_.other_levels;
      return false;
    }
    time_ = *parsed;
    ++stats_.events;
    if (!stats_.first || time_ < *stats_.first) stats_.first = time_;
    if (!stats_.last || time_ > *stats_.last) stats_.last = time_;
    return true;
  }

  bool malformed(const std::string& reason) {
    ++stats_.malformed;
    if (stats_.malformed_examples.size() < 5)
      stats_.malformed_examples.push_back(stats_.path + ":" + std::to_string(stats_.lines) + ": " + reason);
    return false;
  }

  std::ifstream in_;
  bool info_only_;
  AuditFileStats stats_;
  std::string buffer_;
  std::size_t size_ = 0;
  std::string operation_, level_;
  TimePoint time_;
};

class SimpleAuditSource : public AuditEventSource {
 public:
  SimpleAuditSource(const std::vector<std::string>& files, bool info_only) {
    for (const auto& f : files) {
      cursors_.push_back(std::make_unique<FileCursor>(f, info_only));
      live_.push_back(cursors_.back()->advance());
    }
  }

  bool next(AuditEvent& event) override {
    if (current_ >= 0) live_[current_] = cursors_[current_]->advance();  // the previous event's file moves on
    current_ = -1;
    for (std::size_t i = 0; i < cursors_.size(); ++i)
      if (live_[i] && (current_ < 0 || cursors_[i]->time() < cursors_[current_]->time())) current_ = static_cast<int>(i);
    if (current_ < 0) return false;
    event = cursors_[current_]->event();
    event.sequence = sequence_++;
    return true;
  }

  std::vector<AuditFileStats> file_stats() const override {
    std::vector<AuditFileStats> stats;
    for (const auto& c : cursors_) stats.push_back(c->stats());
    return stats;
  }

 private:
  std::vector<std::unique_ptr<FileCursor>> cursors_;
  std::vector<bool> live_;
  int current_ = -1;
  uint64_t sequence_ = 0;
};

bool digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::unique_ptr<AuditEventSource> open_simple_audit_source(const std::vector<std::string>& files, bool info_only) {
  return std::make_unique<SimpleAuditSource>(files, info_only);
}

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
  int y, mo, d, h, mi, se;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
    return std::nullopt;
  std::size_t at = 19;
  int64_t micros = 0;
  if (at < s.size() && s[at] == '.') {
    int64_t scale = 100000;
    for (++at; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, scale /= 10) micros += (s[at] - '0') * scale;
  }
  int offset_minutes = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int oh, om;
    if (!digits(s, at + 1, 2, oh) || s.size() <= at + 3 || s[at + 3] != ':' || !digits(s, at + 4, 2, om))
      return std::nullopt;
    offset_minutes = (s[at] == '-' ? -1 : 1) * (oh * 60 + om);
    at += 6;
  } else {
    return std::nullopt;
  }
  date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(mo)), date::day(static_cast<unsigned>(d))};
  if (at != s.size() || !ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  auto seconds = date::sys_days(ymd).time_since_epoch() + std::chrono::hours(h) + std::chrono::minutes(mi) +
                 std::chrono::seconds(se) - std::chrono::minutes(offset_minutes);
  return TimePoint(std::chrono::duration_cast<std::chrono::microseconds>(seconds) + std::chrono::microseconds(micros));
}

}  // namespace auditpitr::replay
