// JsonWriter implementation.
#include "src/util/json_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace auditpitr {

namespace {

/// Whether any of the 8 bytes of `word` needs an escape: below 0x20, a quote or a backslash
/// (the zero-byte test of "Bit Twiddling Hacks": a byte's high bit set where it was below `n`).
bool any_escape(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  auto below = [](uint64_t x, uint64_t n) { return (x - kOnes * n) & ~x & kHigh; };
  return below(word, 0x20) | below(word ^ (kOnes * '"'), 1) | below(word ^ (kOnes * '\\'), 1);
}

}  // namespace

void append_json_quoted(std::string& out, std::string_view text) {
  out += '"';
  std::size_t plain_from = 0;  // runs of characters that need no escape are appended whole
  for (std::size_t i = 0; i < text.size(); ++i) {
    uint64_t word;
    while (i + 8 <= text.size() && (std::memcpy(&word, text.data() + i, 8), !any_escape(word))) i += 8;
    if (i == text.size()) break;
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text, plain_from, i - plain_from);
    plain_from = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      }
    }
  }
  out.append(text, plain_from, text.size() - plain_from);
  out += '"';
}

std::string json_quote(std::string_view text) {
  std::string out;
  append_json_quoted(out, text);
  return out;
}

void JsonWriter::newline(bool after_comma) {
  if (indent_ <= 0) return;
  if (on_one_line()) {
    if (after_comma) out_ += ' ';
    return;
  }
  out_ += '\n';
  out_.append(first_.size() * static_cast<std::size_t>(indent_), ' ');
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    bool comma = !first_.back();
    if (comma) out_ += ',';
    first_.back() = false;
    newline(comma);
  }
}

JsonWriter& JsonWriter::open(char bracket) {
  before_value();
  out_ += bracket;
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::close(char bracket) {
  bool empty = first_.back();
  bool one_line = on_one_line();
  first_.pop_back();
  if (first_.size() < one_line_from_) one_line_from_ = SIZE_MAX;
  if (!empty && !one_line) newline(false);
  out_ += bracket;
  return *this;
}

JsonWriter& JsonWriter::begin_object() { return open('{'); }
JsonWriter& JsonWriter::begin_line_object() {
  open('{');
  one_line_from_ = std::min(one_line_from_, first_.size());
  return *this;
}
JsonWriter& JsonWriter::end_object() { return close('}'); }
JsonWriter& JsonWriter::begin_array() { return open('['); }
JsonWriter& JsonWriter::end_array() { return close(']'); }

JsonWriter& JsonWriter::key(std::string_view name) {
  before_value();
  append_json_quoted(out_, name);
  out_ += indent_ > 0 ? ": " : ":";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  before_value();
  append_json_quoted(out_, text);
  return *this;
}

JsonWriter& JsonWriter::value(int64_t number) {
  before_value();
  out_ += std::to_string(number);
  return *this;
}

JsonWriter& JsonWriter::value(uint64_t number) {
  before_value();
  out_ += std::to_string(number);
  return *this;
}

JsonWriter& JsonWriter::value(double number) {
  before_value();
  if (!std::isfinite(number)) {
    out_ += "null";
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", number);
  out_ += buf;
  return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
  before_value();
  out_ += flag ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::json(std::string_view document) {
  before_value();
  out_ += document;
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

}  // namespace auditpitr
