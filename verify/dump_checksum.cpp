// DumpChecksummer: the header and table of contents parsed once they are whole, then a byte-wise
// state machine over the data blocks feeding each table's rows to a TableChecksummer.
#include "verify/dump_checksum.h"

#include <cstring>
#include <optional>
#include <utility>

#include "src/error.h"

namespace auditpitr::verify {
namespace {

constexpr unsigned char kBlockData = 1;
constexpr unsigned char kBlockLargeObjects = 3;
constexpr int kOldestMinor = 14;  // archive 1.14: pg_dump 12-15
constexpr int kNewestMinor = 16;  // archive 1.16: pg_dump 17

struct NeedMore {};
struct Unreadable {
  std::string why;
};

// Reads the header and table of contents from the bytes received so far.
class Cursor {
 public:
  explicit Cursor(const std::string& bytes) : bytes_(bytes) {}
  std::size_t position() const { return pos_; }
  void set_int_size(std::size_t size) { int_size_ = size; }
  unsigned char byte() {
    need(1);
    return static_cast<unsigned char>(bytes_[pos_++]);
  }
  void skip(std::size_t n) {
    need(n);
    pos_ += n;
  }
  int64_t integer() {
    bool negative = byte() != 0;
    need(int_size_);
    uint64_t value = 0;
    for (std::size_t i = 0; i < int_size_; ++i)
      value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    pos_ += int_size_;
    return negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
  }
  std::optional<std::string> string() {
    int64_t length = integer();
    if (length < 0) return std::nullopt;
    need(static_cast<std::size_t>(length));
    std::string out = bytes_.substr(pos_, static_cast<std::size_t>(length));
    pos_ += static_cast<std::size_t>(length);
    return out;
  }

 private:
  void need(std::size_t n) const {
    if (bytes_.size() - pos_ < n) throw NeedMore{};
  }
  const std::string& bytes_;
  std::size_t pos_ = 0;
  std::size_t int_size_ = 4;
};

// One identifier as pg_dump's fmtId writes it: plain, or double-quoted with "" for a quote.
bool parse_identifier(const std::string& s, std::size_t& pos, std::string& out) {
  out.clear();
  if (pos < s.size() && s[pos] == '"') {
    for (++pos; pos < s.size(); ++pos) {
      if (s[pos] != '"') {
        out += s[pos];
      } else if (pos + 1 < s.size() && s[pos + 1] == '"') {
        out += '"';
        ++pos;
      } else {
        ++pos;
        return true;
      }
    }
    return false;
  }
  while (pos < s.size() && s[pos] != '.' && s[pos] != ' ' && s[pos] != ',' && s[pos] != ')' && s[pos] != '(')
    out += s[pos++];
  return !out.empty();
}

bool expect(const std::string& s, std::size_t& pos, const char* text) {
  std::size_t n = std::strlen(text);
  if (s.compare(pos, n, text) != 0) return false;
  pos += n;
  return true;
}

}  // namespace

bool parse_copy_statement(const std::string& statement, std::string& schema, std::string& name,
                          std::vector<std::string>& columns) {
  std::size_t pos = 0;
  columns.clear();
  if (!expect(statement, pos, "COPY ") || !parse_identifier(statement, pos, schema) || !expect(statement, pos, ".") ||
      !parse_identifier(statement, pos, name))
    return false;
  if (expect(statement, pos, " (")) {
    for (std::string column;;) {
      if (!parse_identifier(statement, pos, column)) return false;
      columns.push_back(column);
      if (expect(statement, pos, ")")) break;
      if (!expect(statement, pos, ", ")) return false;
    }
  }
  // A table without columns has "COPY t  FROM stdin;".
  while (pos < statement.size() && statement[pos] == ' ') ++pos;
  return statement.compare(pos, std::string::npos, "FROM stdin;\n") == 0;
}

struct DumpChecksummer::Impl {
  enum class State { head, block_type, block_id, chunk_length, chunk, object_oid, failed };

  std::vector<TableShape> tables;
  std::vector<std::optional<TableChecksummer>> summers;  // per table, while its data is read
  std::vector<bool> done;                                // per table: its data block ended cleanly
  std::map<int64_t, std::size_t> table_of_dump_id;       // TABLE DATA entries we checksum
  std::string unreadable;

  State state = State::head;
  std::string head;
  std::size_t next_attempt = 1 << 12;
  int minor = 0;
  std::size_t int_size = 4;

  // The int being read, byte by byte (sign byte first).
  std::string int_bytes;
  unsigned char block_type = 0;
  uint64_t chunk_left = 0;
  std::optional<std::size_t> current;  // the table whose rows the block holds
  std::string partial_row;             // a row split across chunks
  bool copy_ended = false;             // the block's "\." was read

  void fail(const std::string& why) {
    if (state == State::failed) return;
    state = State::failed;
    unreadable = why;
    summers.assign(tables.size(), std::nullopt);
  }

  void feed(const char* p, std::size_t n) {
    const char* end = p + n;
    if (state == State::head) {
      head.append(p, n);
      if (head.size() < next_attempt) return;
      std::size_t used = 0;
      try {
        used = parse_head();
      } catch (const NeedMore&) {
        next_attempt = head.size() * 2;  // reparsing from the start stays linear overall
        return;
      } catch (const Unreadable& e) {
        fail(e.why);
        head.clear();
        return;
      }
      std::string rest = head.substr(used);
      head.clear();
      head.shrink_to_fit();
      state = State::block_type;
      feed_blocks(rest.data(), rest.data() + rest.size());
      return;
    }
    if (state != State::failed) feed_blocks(p, end);
  }

  std::size_t parse_head() {
    Cursor c(head);
    c.skip(5);
    if (head.compare(0, 5, "PGDMP") != 0) throw Unreadable{"not a custom-format archive"};
    int major = c.byte();
    minor = c.byte();
    c.byte();  // revision
    if (major != 1 || minor < kOldestMinor || minor > kNewestMinor)
      throw Unreadable{"archive version 1." + std::to_string(minor) + " is not one this reader knows"};
    int_size = c.byte();
    std::size_t offset_size = c.byte();
    if (int_size < 1 || int_size > 8 || offset_size < 1 || offset_size > 8) throw Unreadable{"unexpected int sizes"};
    c.set_int_size(int_size);
    if (c.byte() != 1) throw Unreadable{"not the custom format"};
    bool compressed = minor >= 15 ? c.byte() != 0 : c.integer() != 0;
    if (compressed) throw Unreadable{"the archive's data is compressed"};
    for (int i = 0; i < 7; ++i) c.integer();  // creation time
    for (int i = 0; i < 3; ++i) c.string();   // database, server and pg_dump versions
    int64_t entries = c.integer();
    for (int64_t i = 0; i < entries; ++i) parse_entry(c, offset_size);
    return c.position();
  }

  void parse_entry(Cursor& c, std::size_t offset_size) {
    int64_t dump_id = c.integer();
    c.integer();  // hadDumper
    c.string();   // tableoid
    c.string();   // oid
    auto tag = c.string();
    auto desc = c.string();
    c.integer();  // section
    c.string();   // defn
    c.string();   // dropStmt
    auto copy = c.string();
    auto schema = c.string();
    c.string();                    // tablespace
    c.string();                    // tableam
    if (minor >= 16) c.integer();  // relkind
    c.string();                    // owner
    c.string();                    // "with oids"
    while (c.string()) {
    }                         // dependencies
    c.skip(1 + offset_size);  // data offset: flag and position
    if (desc && *desc == "TABLE DATA" && tag && schema && copy) match_table(dump_id, *schema, *tag, *copy);
  }

  // Only a table whose COPY has exactly the columns the checksum would read, in that order.
  void match_table(int64_t dump_id, const std::string& schema, const std::string& name, const std::string& copy) {
    std::string copy_schema, copy_name;
    std::vector<std::string> columns;
    if (!parse_copy_statement(copy, copy_schema, copy_name, columns) || copy_schema != schema || copy_name != name)
      return;
    for (std::size_t i = 0; i < tables.size(); ++i) {
      if (tables[i].schema == schema && tables[i].name == name && tables[i].columns == columns && !done[i] &&
          !summers[i]) {
        table_of_dump_id[dump_id] = i;
        return;
      }
    }
  }

  // Completes the int being read; false when the bytes ran out first.
  bool read_int(const char*& p, const char* end, int64_t& value) {
    while (int_bytes.size() < 1 + int_size && p < end) int_bytes += *p++;
    if (int_bytes.size() < 1 + int_size) return false;
    uint64_t v = 0;
    for (std::size_t i = 0; i < int_size; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(int_bytes[1 + i])) << (8 * i);
    value = int_bytes[0] != 0 ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    int_bytes.clear();
    return true;
  }

  void feed_blocks(const char* p, const char* end) {
    int64_t value = 0;
    while (p < end && state != State::failed) {
      switch (state) {
        case State::block_type:
          block_type = static_cast<unsigned char>(*p++);
          if (block_type != kBlockData && block_type != kBlockLargeObjects)
            return fail("unexpected block type " + std::to_string(block_type));
          state = State::block_id;
          break;
        case State::block_id:
          if (!read_int(p, end, value)) return;
          if (block_type == kBlockData) {
            start_table(value);
            state = State::chunk_length;
          } else {
            current.reset();
            state = State::object_oid;
          }
          break;
        case State::object_oid:
          if (!read_int(p, end, value)) return;
          state = value == 0 ? State::block_type : State::chunk_length;
          break;
        case State::chunk_length:
          if (!read_int(p, end, value)) return;
          if (value < 0) return fail("negative chunk length");
          if (value == 0) {
            end_block();
          } else {
            chunk_left = static_cast<uint64_t>(value);
            state = State::chunk;
          }
          break;
        case State::chunk: {
          std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(chunk_left, static_cast<uint64_t>(end - p)));
          if (current) rows(p, n);
          p += n;
          chunk_left -= n;
          if (chunk_left == 0) state = State::chunk_length;
          break;
        }
        case State::head:
        case State::failed: return;
      }
    }
  }

  void start_table(int64_t dump_id) {
    current.reset();
    partial_row.clear();
    copy_ended = false;
    auto it = table_of_dump_id.find(dump_id);
    if (it == table_of_dump_id.end()) return;
    current = it->second;
    summers[*current].emplace(tables[*current]);
  }

  void end_block() {
    if (block_type == kBlockLargeObjects) {
      state = State::object_oid;
      return;
    }
    if (current) {
      // Rows without their end, or a row without its newline, would be a dump we do not
      // understand: that table is read again.
      if (partial_row.empty() && copy_ended) done[*current] = true;
      if (!done[*current]) summers[*current].reset();
    }
    current.reset();
    state = State::block_type;
  }

  // A row the checksum refuses (another number of fields) leaves the table to the separate read,
  // which gives the refusal its usual message.
  void rows(const char* p, std::size_t n) {
    try {
      split_rows(p, n);
    } catch (const Error&) {
      summers[*current].reset();
      current.reset();
    }
  }

  // Rows are hashed with their newline, as libpqxx's stream_from::get_raw_line hands them to
  // checksum_table (the algorithm's "copy-text-v1" includes it).
  void split_rows(const char* p, std::size_t n) {
    const char* end = p + n;
    while (p < end) {
      const char* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
      if (!newline) {
        partial_row.append(p, end);
        return;
      }
      if (partial_row.empty()) {
        row(p, static_cast<std::size_t>(newline + 1 - p));
      } else {
        partial_row.append(p, newline + 1);
        row(partial_row.data(), partial_row.size());
        partial_row.clear();
      }
      p = newline + 1;
    }
  }

  // pg_dump ends the rows with "\." and two empty lines (a row of data cannot be "\.": COPY
  // writes a backslash as "\\"). Anything else after it is not understood: the table is read again.
  void row(const char* line, std::size_t size) {
    if (copy_ended) {
      if (size != 1) throw runtime_error("data after the end of the COPY rows");
    } else if (size == 3 && line[0] == '\\' && line[1] == '.') {
      copy_ended = true;
    } else {
      summers[*current]->add_row(line, size);
    }
  }
};

DumpChecksummer::DumpChecksummer(std::vector<TableShape> tables) : impl_(std::make_unique<Impl>()) {
  impl_->summers.resize(tables.size());
  impl_->done.assign(tables.size(), false);
  impl_->tables = std::move(tables);
}

DumpChecksummer::~DumpChecksummer() = default;

void DumpChecksummer::feed(const char* data, std::size_t size) { impl_->feed(data, size); }

DumpChecksummer::Result DumpChecksummer::finish() {
  Impl& s = *impl_;
  if (s.state == Impl::State::head) {
    s.next_attempt = 0;
    s.feed(nullptr, 0);
    if (s.state == Impl::State::head) s.fail("the archive ends inside its table of contents");
  }
  if (s.state != Impl::State::block_type && s.state != Impl::State::failed)
    s.fail("the archive ends inside a data block");
  Result result;
  result.unreadable = s.unreadable;
  for (std::size_t i = 0; i < s.tables.size(); ++i) {
    if (s.done[i] && s.summers[i]) result.found.push_back(s.summers[i]->result());
    else result.missing.push_back(s.tables[i]);
  }
  return result;
}

}  // namespace auditpitr::verify
