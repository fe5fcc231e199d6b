// JsonDocument: a strict hand-written parser for the usual audit lines, simdjson on-demand for
// everything else. Depth is bounded so a hostile line cannot exhaust the stack.
#include "replay/mapping/event_json.h"

#include <simdjson.h>

#include <cstring>

#include "replay/mapping/json_scan.h"
#include "src/util/json_writer.h"

namespace auditpitr::replay {
namespace {

constexpr int max_depth = 64;

using json_scan::is_space;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

}  // namespace

/// The hand-written path: strict JSON, giving up (not failing) on anything it does not take for
/// certain, so that simdjson decides those: exponents and numbers of 19 digits or more (simdjson
/// rejects some of them), \u escapes of surrogates (pairing rules), depth over the limit, bytes
/// after the object, invalid UTF-8 or anything invalid at all (simdjson words the error).
class FastJsonParser {
 public:
  FastJsonParser(JsonDocument& doc, std::string_view json) : doc_(doc), p_(json.data()), end_(p_ + json.size()) {}

  bool parse() {
    skip_space();
    if (p_ == end_ || *p_ != '{') return false;
    if (!object({}, 0)) return false;
    skip_space();
    return p_ == end_;
  }
  /// Whether a string held a byte over 0x7F: only then is the line's UTF-8 worth checking (outside
  /// strings such a byte fails the parse anyway).
  bool non_ascii() const { return non_ascii_; }

 private:
  void skip_space() {
    while (p_ != end_ && is_space(*p_)) ++p_;
  }

  uint32_t open(JsonDocument::Kind kind, std::string_view key, std::string_view text = {}) {
    doc_.nodes_.push_back({kind, key, text, 0});
    return static_cast<uint32_t>(doc_.nodes_.size() - 1);
  }
  void close(uint32_t node) { doc_.nodes_[node].end = static_cast<uint32_t>(doc_.nodes_.size()); }

  bool value(std::string_view key, int depth) {
    if (depth > max_depth || p_ == end_) return false;
    switch (*p_) {
      case '{': return object(key, depth);
      case '[': return array(key, depth);
      case '"': {
        std::string_view text;
        if (!string(text)) return false;
        close(open(JsonDocument::Kind::string, key, text));
        return true;
      }
      case 't': return literal("true", JsonDocument::Kind::boolean, key);
      case 'f': return literal("false", JsonDocument::Kind::boolean, key);
      case 'n': return literal("null", JsonDocument::Kind::null, key);
      default: return number(key);
    }
  }

  bool object(std::string_view key, int depth) {
    uint32_t node = open(JsonDocument::Kind::object, key);
    ++p_;  // '{'
    skip_space();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      close(node);
      return true;
    }
    for (;;) {
      std::string_view name;
      if (p_ == end_ || *p_ != '"' || !string(name)) return false;
      skip_space();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skip_space();
      if (!value(name, depth + 1)) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == '}') break;
      if (*p_ != ',') return false;
      ++p_;
      skip_space();
    }
    ++p_;
    close(node);
    return true;
  }

  bool array(std::string_view key, int depth) {
    uint32_t node = open(JsonDocument::Kind::array, key);
    ++p_;  // '['
    skip_space();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      close(node);
      return true;
    }
    for (;;) {
      if (!value({}, depth + 1)) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == ']') break;
      if (*p_ != ',') return false;
      ++p_;
      skip_space();
    }
    ++p_;
    close(node);
    return true;
  }

  /// A string at p_ (on its opening quote): a view into the line when it has no escapes, else
  /// its unescaped text in the document's buffer.
  bool string(std::string_view& text) {
    const char* start = ++p_;
    p_ = json_scan::string_stop(p_, end_, non_ascii_);
    if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x20) return false;
    if (*p_ == '"') {
      text = std::string_view(start, static_cast<std::size_t>(p_ - start));
      ++p_;
      return true;
    }
    return escaped_string(start, text);
  }

  bool escaped_string(const char* start, std::string_view& text) {
    std::string& out = doc_.strings_;
    std::size_t begin = out.size();
    out.append(start, static_cast<std::size_t>(p_ - start));
    while (p_ != end_) {
      char c = *p_++;
      if (c == '"') {
        text = std::string_view(out.data() + begin, out.size() - begin);
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        non_ascii_ |= static_cast<unsigned char>(c) >= 0x80;
        out += c;
        continue;
      }
      if (p_ == end_) return false;
      switch (char e = *p_++) {
        case '"':
        case '\\':
        case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (end_ - p_ < 4) return false;
          uint32_t code = 0;
          for (int i = 0; i < 4; ++i) {
            int d = hex_digit(*p_++);
            if (d < 0) return false;
            code = code << 4 | static_cast<uint32_t>(d);
          }
          if (code >= 0xD800 && code <= 0xDFFF) return false;  // surrogates: simdjson's rules
          append_utf8(out, code);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  bool literal(std::string_view word, JsonDocument::Kind kind, std::string_view key) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0)
      return false;
    p_ += word.size();
    if (!at_token_end()) return false;
    close(open(kind, key, kind == JsonDocument::Kind::null ? std::string_view() : word));
    return true;
  }

  bool number(std::string_view key) {
    const char* start = p_;
    bool whole = true;
    const char* stop = json_scan::number_end(p_, end_, whole);
    if (!stop) return false;  // exponents, 19 digits or more: simdjson decides
    p_ = stop;
    if (!at_token_end()) return false;
    auto kind = whole ? JsonDocument::Kind::integer : JsonDocument::Kind::number;
    close(open(kind, key, std::string_view(start, static_cast<std::size_t>(p_ - start))));
    return true;
  }

  /// A scalar ends at whitespace or structure, as in simdjson's tokenising.
  bool at_token_end() const { return p_ == end_ || is_space(*p_) || *p_ == ',' || *p_ == '}' || *p_ == ']'; }

  JsonDocument& doc_;
  const char* p_;
  const char* end_;
  bool non_ascii_ = false;
};

/// The simdjson path, as the mapping has always read lines: on-demand over the whole object.
class SimdjsonTreeReader {
 public:
  explicit SimdjsonTreeReader(JsonDocument& doc) : doc_(doc) {}

  simdjson::error_code object(simdjson::ondemand::object object, std::string_view key, int depth) {
    uint32_t node = open(JsonDocument::Kind::object, key);
    for (auto field : object) {
      std::string_view name;
      if (auto error = field.unescaped_key().get(name)) return error;
      simdjson::ondemand::value v;
      if (auto error = field.value().get(v)) return error;
      if (auto error = value(v, keep(name), depth + 1)) return error;
    }
    close(node);
    return simdjson::SUCCESS;
  }

 private:
  uint32_t open(JsonDocument::Kind kind, std::string_view key, std::string_view text = {}) {
    doc_.nodes_.push_back({kind, key, text, 0});
    return static_cast<uint32_t>(doc_.nodes_.size() - 1);
  }
  void close(uint32_t node) { doc_.nodes_[node].end = static_cast<uint32_t>(doc_.nodes_.size()); }
  void scalar(JsonDocument::Kind kind, std::string_view key, std::string_view text) { close(open(kind, key, text)); }

  /// simdjson's unescaped strings live in its parser until the next line: copied into the
  /// document. Unescaped text is never longer than the line, for which parse() reserved room.
  std::string_view keep(std::string_view text) {
    std::string& out = doc_.strings_;
    std::size_t begin = out.size();
    out.append(text);
    return std::string_view(out.data() + begin, text.size());
  }

  simdjson::error_code array(simdjson::ondemand::array array, std::string_view key, int depth) {
    uint32_t node = open(JsonDocument::Kind::array, key);
    for (auto item : array) {
      simdjson::ondemand::value v;
      if (auto error = item.get(v)) return error;
      if (auto error = value(v, {}, depth + 1)) return error;
    }
    close(node);
    return simdjson::SUCCESS;
  }

  simdjson::error_code value(simdjson::ondemand::value value, std::string_view key, int depth) {
    namespace od = simdjson::ondemand;
    if (depth > max_depth) return simdjson::DEPTH_ERROR;
    od::json_type type;
    if (auto error = value.type().get(type)) return error;
    switch (type) {
      case od::json_type::object: {
        od::object object;
        if (auto error = value.get_object().get(object)) return error;
        return this->object(object, key, depth);
      }
      case od::json_type::array: {
        od::array items;
        if (auto error = value.get_array().get(items)) return error;
        return array(items, key, depth);
      }
      case od::json_type::string: {
        std::string_view text;
        if (auto error = value.get_string().get(text)) return error;
        scalar(JsonDocument::Kind::string, key, keep(text));
        return simdjson::SUCCESS;
      }
      case od::json_type::number: {
        od::number_type number_type;
        if (auto error = value.get_number_type().get(number_type)) return error;
        std::string_view raw = value.raw_json_token();
        while (!raw.empty() && is_space(raw.back())) raw.remove_suffix(1);
        bool whole = number_type != od::number_type::floating_point_number;
        scalar(whole ? JsonDocument::Kind::integer : JsonDocument::Kind::number, key, raw);  // as logged
        return simdjson::SUCCESS;
      }
      case od::json_type::boolean: {
        bool flag = false;
        if (auto error = value.get_bool().get(flag)) return error;
        scalar(JsonDocument::Kind::boolean, key, flag ? "true" : "false");
        return simdjson::SUCCESS;
      }
      case od::json_type::null: {
        // Through error codes: the tree reader used to let `nul` throw out of the mapping.
        bool null = false;
        if (auto error = value.is_null().get(null)) return error;
        if (!null) return simdjson::INCORRECT_TYPE;
        scalar(JsonDocument::Kind::null, key, {});
        return simdjson::SUCCESS;
      }
    }
    return simdjson::INCORRECT_TYPE;
  }

  JsonDocument& doc_;
};

bool JsonDocument::parse(std::string_view json, std::string& error) {
  nodes_.clear();
  strings_.clear();
  strings_.reserve(json.size());
  FastJsonParser parser(*this, json);
  fast_ = parser.parse() && (!parser.non_ascii() || simdjson::validate_utf8(json.data(), json.size()));
  return fast_ || parse_with_simdjson(json, error);
}

bool JsonDocument::parse_with_simdjson(std::string_view json, std::string& error) {
  namespace od = simdjson::ondemand;
  thread_local od::parser parser;
  nodes_.clear();
  strings_.clear();
  strings_.reserve(json.size());
  fast_ = false;
  od::document doc;
  auto result = parser.iterate(json.data(), json.size(), json.size() + simdjson::SIMDJSON_PADDING);
  if (auto e = std::move(result).get(doc)) {
    error = simdjson::error_message(e);
    return false;
  }
  od::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) {
    error = "not a JSON object";
    return false;
  }
  if (auto e = SimdjsonTreeReader(*this).object(object, {}, 0)) {
    error = simdjson::error_message(e);
    return false;
  }
  return true;
}

bool JsonDocument::parse_text(const std::string& text, std::string& error) {
  padded_.assign(text);
  padded_.append(simdjson::SIMDJSON_PADDING, '\0');
  return parse(std::string_view(padded_.data(), text.size()), error);
}

uint32_t JsonDocument::find(uint32_t object, std::string_view key) const {
  for (uint32_t c = first(object); c != npos; c = next(object, c))
    if (nodes_[c].key == key) return c;
  return npos;
}

Value JsonDocument::value(uint32_t i) const {
  const Node& n = nodes_[i];
  switch (n.kind) {
    case Kind::null: return Value::null();
    case Kind::boolean: return Value::of(Value::Kind::boolean, std::string(n.text));
    case Kind::integer: return Value::of(Value::Kind::integer, std::string(n.text));
    case Kind::number: return Value::of(Value::Kind::number, std::string(n.text));
    case Kind::string: return Value::of(Value::Kind::string, std::string(n.text));
    case Kind::object:
    case Kind::array: return Value::of(Value::Kind::json, compact_json(i));
  }
  return Value::null();
}

// Numbers keep their logged text (JsonWriter would round-trip them through double).
std::string JsonDocument::compact_json(uint32_t i) const {
  const Node& n = nodes_[i];
  switch (n.kind) {
    case Kind::null: return "null";
    case Kind::boolean:
    case Kind::integer:
    case Kind::number: return std::string(n.text);
    case Kind::string: return json_quote(std::string(n.text));
    case Kind::object:
    case Kind::array: {
      bool object = n.kind == Kind::object;
      std::string out(1, object ? '{' : '[');
      for (uint32_t c = first(i); c != npos; c = next(i, c)) {
        if (out.size() > 1) out += ',';
        if (object) out += json_quote(std::string(nodes_[c].key)) + ":";
        out += compact_json(c);
      }
      return out + (object ? '}' : ']');
    }
  }
  return "null";
}

}  // namespace auditpitr::replay
