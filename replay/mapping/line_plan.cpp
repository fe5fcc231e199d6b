// LinePlan: learning an operation's line shape from a mapped line, and mapping the next lines of
// that shape without a tree.
#include "replay/mapping/line_plan.h"

#include <simdjson.h>

#include <cstring>

#include "replay/mapping/json_scan.h"

namespace auditpitr::replay {
namespace {

bool plain_name(std::string_view name) {
  for (char c : name)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

bool scalar(JsonDocument::Kind kind) { return kind != JsonDocument::Kind::object && kind != JsonDocument::Kind::array; }

}  // namespace

bool LinePlan::same_shape(const JsonDocument& doc) const {
  std::size_t i = 0;
  for (uint32_t c = doc.first(JsonDocument::root); c != JsonDocument::npos; c = doc.next(JsonDocument::root, c), ++i)
    if (i == fields_.size() || fields_[i].name != doc.node(c).key || fields_[i].kind != doc.node(c).kind) return false;
  return i == fields_.size();
}

void LinePlan::learn(const JsonDocument& doc, const MappedEvent& out, const std::vector<uint32_t>& unmapped,
                     std::string_view user_field) {
  if (valid_ && same_shape(doc)) return;  // another line of the same shape, say with an escape
  valid_ = false;
  fields_.clear();
  slots_.clear();
  if (out.changes.size() != 1 || out.changes[0].element != -1) return;
  std::vector<uint32_t> nodes;
  for (uint32_t c = doc.first(JsonDocument::root); c != JsonDocument::npos; c = doc.next(JsonDocument::root, c)) {
    const JsonDocument::Node& n = doc.node(c);
    if (!scalar(n.kind) || !plain_name(n.key)) return;
    fields_.push_back({std::string(n.key), "\"" + std::string(n.key) + "\":", n.kind});
    nodes.push_back(c);
  }
  for (const CompactValue& v : out.values) {
    Slot slot{v, npos};
    if (v.source == ValueSource::field) {
      for (uint32_t i = 0; i < nodes.size() && slot.field == npos; ++i)  // the value's name is its node's
        if (doc.node(nodes[i]).key.data() == v.field.data()) slot.field = i;
      if (slot.field == npos) return;
      slot.value.field = fields_[slot.field].name;
    } else if (v.source != ValueSource::event_time && v.source != ValueSource::constant) {
      return;
    }
    slots_.push_back(slot);
  }
  user_ = npos;
  for (uint32_t i = 0; i < fields_.size() && user_ == npos; ++i)
    if (!user_field.empty() && fields_[i].name == user_field) user_ = i;
  change_ = out.changes[0];
  unmapped_ = unmapped;
  valid_ = true;
}

bool LinePlan::read_value(const Field& field, const char*& p, const char* end, bool& non_ascii,
                          std::string_view& text) const {
  auto literal = [&](std::string_view word) {
    if (static_cast<std::size_t>(end - p) < word.size() || std::memcmp(p, word.data(), word.size()) != 0) return false;
    p += word.size();
    text = field.kind == JsonDocument::Kind::null ? std::string_view() : word;
    return true;
  };
  switch (field.kind) {
    case JsonDocument::Kind::string: {
      if (p == end || *p != '"') return false;
      const char* start = ++p;
      p = json_scan::string_stop(p, end, non_ascii);
      if (p == end || *p != '"') return false;
      text = std::string_view(start, static_cast<std::size_t>(p++ - start));
      return true;
    }
    case JsonDocument::Kind::integer:
    case JsonDocument::Kind::number: {
      bool whole = true;
      const char* stop = json_scan::number_end(p, end, whole);
      if (!stop || whole != (field.kind == JsonDocument::Kind::integer)) return false;
      text = std::string_view(p, static_cast<std::size_t>(stop - p));
      p = stop;
      return true;
    }
    case JsonDocument::Kind::boolean: return literal("true") || literal("false");
    case JsonDocument::Kind::null: return literal("null");
    default: return false;
  }
}

bool LinePlan::apply(std::string_view json, TimePoint time, Mapper& mapper, MappedEvent& out) {
  if (!valid_) return false;
  const char* p = json.data();
  const char* end = p + json.size();
  if (p == end || *p++ != '{') return false;
  bool non_ascii = false;
  texts_.resize(fields_.size());
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const Field& f = fields_[i];
    if (i > 0 && (p == end || *p++ != ',')) return false;
    if (static_cast<std::size_t>(end - p) < f.quoted.size() || std::memcmp(p, f.quoted.data(), f.quoted.size()) != 0)
      return false;
    p += f.quoted.size();
    if (!read_value(f, p, end, non_ascii, texts_[i])) return false;
  }
  if (p == end || *p++ != '}') return false;
  while (p != end && json_scan::is_space(*p)) ++p;
  if (p != end || (non_ascii && !simdjson::validate_utf8(json.data(), json.size()))) return false;
  out.changes.push_back(change_);
  if (user_ != npos) out.user.assign(texts_[user_]);
  for (const Slot& slot : slots_) {
    out.values.push_back(slot.value);
    if (slot.field != npos) out.values.back().text = texts_[slot.field];
    else if (slot.value.source == ValueSource::event_time) out.values.back().text = mapper.event_time_text(time);
  }
  for (uint32_t u : unmapped_) ++mapper.unmapped_[u].count;
  return true;
}

}  // namespace auditpitr::replay
