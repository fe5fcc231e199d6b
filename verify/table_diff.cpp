// diff_table: both sides stream the same SELECT sorted by the key: integer key columns by value (the
// client compares the numbers), others by their text in the "C" collation, whose order (bytes,
// shorter first) the client reproduces without knowing the type; the key texts travel as extra
// columns, since a type's cast to text may differ from its COPY form.
#include "verify/table_diff.h"

#include <charconv>
#include <cstring>
#include <pqxx/stream_from>

#include "src/error.h"
#include "src/pg/connection.h"
#include "src/util/interrupt.h"
#include "src/util/pause_point.h"

namespace auditpitr::verify {
namespace {

constexpr std::string_view kNull = "\\N";

using pg::quote_ident_list;

// The text the rows are sorted and matched by: each key column's, or the whole row's without a key.
std::vector<std::string> sort_texts(const TableDiffRequest& r) {
  std::vector<std::string> texts;
  if (r.key.empty()) texts.push_back("(ROW(" + quote_ident_list(r.columns) + ")::text) COLLATE \"C\"");
  for (const auto& k : r.key) texts.push_back("(" + pg::quote_ident(k) + "::text) COLLATE \"C\"");
  return texts;
}

bool is_integer_type(const std::string& type) { return type == "smallint" || type == "integer" || type == "bigint"; }

// Per key column: an integer on both sides (then sorted by value), else sorted by text.
std::vector<bool> integer_keys(pqxx::transaction_base& e, pqxx::transaction_base& a, const TableDiffRequest& r) {
  std::vector<bool> integer;
  const char* sql =
      "SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2";
  std::string table = pg::quote_qualified(r.schema, r.name);
  for (const auto& k : r.key) {
    bool both = true;
    for (auto* tx : {&e, &a}) {
      pqxx::result type = tx->exec_params(sql, table, k);
      both = both && !type.empty() && is_integer_type(type[0][0].c_str());
    }
    integer.push_back(both);
  }
  return integer;
}

std::string diff_query(const TableDiffRequest& r, const std::vector<bool>& integer) {
  std::string select = quote_ident_list(r.columns), order;
  std::vector<std::string> texts = sort_texts(r);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    select += ", " + texts[i];
    bool by_value = i < integer.size() && integer[i];
    order +=
        (i ? ", " : "") + (by_value ? "src." + pg::quote_ident(r.key[i]) : std::to_string(r.columns.size() + i + 1));
  }
  // libpqxx 6.4 writes "COPY <this> TO STDOUT": a parenthesised query is a COPY of its rows.
  return "(SELECT " + select + " FROM " + pg::quote_qualified(r.schema, r.name) + " AS src ORDER BY " + order + ")";
}

int compare_integers(std::string_view a, std::string_view b) {
  long long x = 0, y = 0;
  std::from_chars(a.data(), a.data() + a.size(), x);
  std::from_chars(b.data(), b.data() + b.size(), y);
  return x < y ? -1 : x > y ? 1 : 0;
}

int compare_bytes(std::string_view a, std::string_view b) {
  int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

// One side's stream, a row at a time, split into its fields.
class CopyCursor {
 public:
  CopyCursor(pqxx::transaction_base& tx, const std::string& query, std::size_t fields, std::string table)
      : stream_(tx, query), fields_expected_(fields), table_(std::move(table)) {}

  bool next() {
    if (!stream_.get_raw_line(line_)) {
      stream_.complete();
      return false;
    }
    if (!line_.empty() && line_.back() == '\n') line_.pop_back();  // libpqxx 6.4 leaves it on
    fields_.clear();
    std::size_t start = 0;
    for (std::size_t tab; (tab = line_.find('\t', start)) != std::string::npos; start = tab + 1)
      fields_.emplace_back(line_.data() + start, tab - start);
    fields_.emplace_back(line_.data() + start, line_.size() - start);
    if (fields_.size() != fields_expected_)
      throw runtime_error("table " + table_ + ": a row has " + std::to_string(fields_.size()) + " fields, expected " +
                          std::to_string(fields_expected_));
    return true;
  }
  std::string_view field(std::size_t i) const { return fields_[i]; }

 private:
  pqxx::stream_from stream_;
  std::size_t fields_expected_;
  std::string table_;
  std::string line_;
  std::vector<std::string_view> fields_;
};

class Merger {
 public:
  Merger(const TableDiffRequest& r, TableDiff& d, std::vector<bool> integer)
      : r_(r), d_(d), data_(r.columns.size()), integer_(std::move(integer)) {
    keys_ = r.key.empty() ? 1 : r.key.size();
  }
  std::size_t fields() const { return data_ + keys_; }

  int order(const CopyCursor& e, const CopyCursor& a) const {
    for (std::size_t k = 0; k < keys_; ++k) {
      std::string_view x = e.field(data_ + k), y = a.field(data_ + k);
      if (int c = k < integer_.size() && integer_[k] ? compare_integers(x, y) : compare_copy_fields(x, y)) return c;
    }
    return 0;
  }
  void missing(const CopyCursor& e) { note(++d_.missing, d_.missing_keys, e); }
  void extra(const CopyCursor& a) { note(++d_.extra, d_.extra_keys, a); }
  void matched(const CopyCursor& e, const CopyCursor& a) {
    std::vector<std::string> differing;
    for (std::size_t i = 0; i < data_; ++i)
      if (e.field(i) != a.field(i)) {
        differing.push_back(r_.columns[i]);
        ++d_.changed_by_column[r_.columns[i]];
      }
    if (differing.empty()) return;
    if (++d_.changed <= r_.max_keys) d_.changed_rows.push_back({key_of(e), std::move(differing)});
  }

 private:
  std::vector<std::string> key_of(const CopyCursor& c) const {
    std::vector<std::string> key;
    for (std::size_t i = data_; i < data_ + keys_; ++i) key.push_back(copy_unescape(c.field(i)));
    return key;
  }
  void note(uint64_t count, std::vector<std::vector<std::string>>& keys, const CopyCursor& c) {
    if (d_.keyed() && count <= r_.max_keys) keys.push_back(key_of(c));  // without a key: nothing to name
  }
  const TableDiffRequest& r_;
  TableDiff& d_;
  std::size_t data_, keys_;
  std::vector<bool> integer_;
};

// Ends both sides' queries on the server (a COPY in progress stops sending).
void cancel_both(pqxx::transaction_base& expected, pqxx::transaction_base& actual) {
  for (auto* tx : {&expected, &actual}) try {
      tx->conn().cancel_query();
    } catch (...) {  // the error on its way matters more
    }
}

void merge(CopyCursor& e, CopyCursor& a, Merger& merger) {
  bool more_e = e.next(), more_a = a.next();
  pause_point("verify-diff");
  for (uint64_t rows = 1; more_e || more_a; ++rows) {
    if ((rows & 4095) == 0) throw_if_interrupted();
    int order = !more_e ? 1 : !more_a ? -1 : merger.order(e, a);
    if (order < 0) merger.missing(e);
    if (order > 0) merger.extra(a);
    if (order == 0) merger.matched(e, a);
    if (order <= 0) more_e = e.next();
    if (order >= 0) more_a = a.next();
  }
}

}  // namespace

std::string copy_unescape(std::string_view field) {
  if (field == kNull) return std::string(field);
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c == '\\' && i + 1 < field.size()) {
      c = field[++i];
      switch (c) {
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'v': c = '\v'; break;
        default: break;  // \\ and an escaped delimiter stand for themselves
      }
    }
    out += c;
  }
  return out;
}

int compare_copy_fields(std::string_view a, std::string_view b) {
  bool a_null = a == kNull, b_null = b == kNull;
  if (a_null || b_null) return a_null == b_null ? 0 : a_null ? 1 : -1;  // NULLS LAST, as ORDER BY
  if (a.find('\\') == std::string_view::npos && b.find('\\') == std::string_view::npos) return compare_bytes(a, b);
  return compare_bytes(copy_unescape(a), copy_unescape(b));
}

TableDiff diff_table(pqxx::transaction_base& expected, pqxx::transaction_base& actual,
                     const TableDiffRequest& request) {
  TableDiff diff;
  diff.key_columns = request.key;
  for (const auto& c : request.columns) diff.changed_by_column[c] = 0;
  std::vector<bool> integer = integer_keys(expected, actual, request);
  Merger merger(request, diff, integer);
  std::string query = diff_query(request, integer), table = request.schema + "." + request.name;
  // A sorted COPY sends nothing until the server has sorted the table (or got its lock): on Ctrl-C
  // or SIGTERM both queries are cancelled on the server, and their error is the stop's.
  InterruptWatch watch([&] { cancel_both(expected, actual); });
  try {
    CopyCursor e(expected, query, merger.fields(), table), a(actual, query, merger.fields(), table);
    try {
      merge(e, a, merger);
    } catch (...) {
      // Before the cursors' destructors, which read a COPY to its end: stopped, it ends at once.
      cancel_both(expected, actual);
      throw;
    }
  } catch (...) {
    throw_if_interrupted();
    throw;
  }
  return diff;
}

}  // namespace auditpitr::verify
