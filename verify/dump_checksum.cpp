// DumpChecksummer: an ArchiveVisitor feeding each table's rows to a TableChecksummer.
#include "verify/dump_checksum.h"

#include <cstring>
#include <optional>
#include <utility>

#include "src/error.h"
#include "src/pg/custom_archive.h"

namespace auditpitr::verify {
namespace {

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

struct DumpChecksummer::Impl : pg::ArchiveVisitor {
  std::vector<TableShape> tables;
  std::vector<std::optional<TableChecksummer>> summers;  // per table, while its data is read
  std::vector<bool> done;                                // per table: its data block ended cleanly
  std::map<int64_t, std::size_t> table_of_dump_id;       // TABLE DATA entries we checksum
  std::string unreadable_why;
  pg::ArchiveWalker walker{*this};

  bool in_table_data = false;
  std::optional<std::size_t> current;  // the table whose rows the block holds
  std::string partial_row;             // a row split across chunks
  bool copy_ended = false;             // the block's "\." was read

  void unreadable(const std::string& why, const std::string*) override {
    unreadable_why = why;
    summers.assign(tables.size(), std::nullopt);
    current.reset();
  }

  bool head(const pg::ArchiveHead& head, const std::string&) override {
    if (head.compression != pg::ArchiveCompression::none) {
      unreadable("the archive's data is compressed", nullptr);
      return false;  // nothing more to read
    }
    for (const auto& e : head.entries)
      if (e.desc && *e.desc == "TABLE DATA" && e.tag && e.schema && e.copy_statement)
        match_table(e.dump_id, *e.schema, *e.tag, *e.copy_statement);
    return true;
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

  void block(unsigned char type, int64_t dump_id) override {
    current.reset();
    partial_row.clear();
    copy_ended = false;
    in_table_data = type == pg::kArchiveBlockData;
    if (!in_table_data) return;
    auto it = table_of_dump_id.find(dump_id);
    if (it == table_of_dump_id.end()) return;
    current = it->second;
    summers[*current].emplace(tables[*current]);
  }

  void object(int64_t) override {}

  void data(const char* p, std::size_t n) override {
    if (current) rows(p, n);
  }

  void data_end() override {
    if (!in_table_data) return;
    if (current) {
      // Rows without their end, or a row without its newline, would be a dump we do not
      // understand: that table is read again.
      if (partial_row.empty() && copy_ended) done[*current] = true;
      if (!done[*current]) summers[*current].reset();
    }
    current.reset();
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

void DumpChecksummer::feed(const char* data, std::size_t size) { impl_->walker.feed(data, size); }

DumpChecksummer::Result DumpChecksummer::finish() {
  Impl& s = *impl_;
  s.walker.finish();
  Result result;
  result.unreadable = s.unreadable_why;
  for (std::size_t i = 0; i < s.tables.size(); ++i) {
    if (s.done[i] && s.summers[i]) result.found.push_back(s.summers[i]->result());
    else result.missing.push_back(s.tables[i]);
  }
  return result;
}

}  // namespace auditpitr::verify
