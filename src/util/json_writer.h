// A small streaming JSON writer for --json output and manifests (valid UTF-8 in, valid JSON out).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace auditpitr {

class JsonWriter {
 public:
  /// What a streamed document (changes, lost) hands over at a time.
  static constexpr std::size_t kPieceBytes = 64u << 10;

  /// `indent` > 0 pretty-prints with that many spaces; 0 writes one line.
  explicit JsonWriter(int indent = 2) : indent_(indent) {}

  JsonWriter& begin_object();
  /// An object written on one line with everything in it (`{"key": "7", "set": [{…}, {…}]}`): the
  /// rows of a long list (changes, lost, history, replay's conflicts) a line each, half the bytes
  /// of the indented form, and a row per line for grep. Closed by end_object().
  JsonWriter& begin_line_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(int64_t number);
  JsonWriter& value(uint64_t number);
  JsonWriter& value(int number) { return value(static_cast<int64_t>(number)); }
  JsonWriter& value(double number);
  JsonWriter& value(bool flag);
  JsonWriter& null();
  /// A value that is already a JSON document (another writer's str()), inserted as it is.
  JsonWriter& json(std::string_view document);
  /// key + value in one call.
  template <typename T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  /// key + the string, or null when it is empty (absent: scripts test for null, not for "").
  JsonWriter& field_or_null(std::string_view name, const std::string& text) {
    key(name);
    return text.empty() ? null() : value(text);
  }

  const std::string& str() const { return out_; }
  /// Hands over the text written so far and forgets it, the writer's place kept: a document far
  /// larger than the memory can go out piece by piece (of about kPieceBytes).
  std::string take() {
    std::string piece;
    piece.swap(out_);
    out_.reserve(piece.capacity());  // the next piece: no growing by doubling again
    return piece;
  }

 private:
  void before_value();
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  void newline(bool after_comma);
  bool on_one_line() const { return first_.size() >= one_line_from_; }
  int indent_;
  std::string out_;
  std::vector<bool> first_;               // per open container: no element written yet
  std::size_t one_line_from_ = SIZE_MAX;  // containers this deep and deeper are on one line
  bool after_key_ = false;
};

/// JSON string literal for `text` (quotes included).
std::string json_quote(std::string_view text);
/// The same, appended to `out`.
void append_json_quoted(std::string& out, std::string_view text);

}  // namespace auditpitr
