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
  /// A fragment to be inserted with json() `depth` containers deep in a document written with the
  /// same `indent`: its lines are indented as they would be there.
  JsonWriter(int indent, int depth) : indent_(indent), depth_(depth) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(const std::string& name);
  JsonWriter& value(const std::string& text);
  JsonWriter& value(const char* text) { return value(std::string(text)); }
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
  JsonWriter& field(const std::string& name, const T& v) {
    key(name);
    return value(v);
  }

  /// key + the string, or null when it is empty (absent: scripts test for null, not for "").
  JsonWriter& field_or_null(const std::string& name, const std::string& text) {
    key(name);
    return text.empty() ? null() : value(text);
  }

  const std::string& str() const { return out_; }
  /// Hands over the text written so far and forgets it, the writer's place kept: a document far
  /// larger than the memory can go out piece by piece (of about kPieceBytes).
  std::string take() {
    std::string piece;
    piece.swap(out_);
    return piece;
  }

 private:
  void before_value();
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  void newline();
  int indent_;
  int depth_ = 0;  // containers around the fragment (see the constructor)
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

/// JSON string literal for `text` (quotes included).
std::string json_quote(const std::string& text);

}  // namespace auditpitr
