#include "verify/row_fold.h"

#include <algorithm>
#include <cstring>

#include "src/pg/connection.h"

namespace auditpitr::verify {

namespace rows {

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string copy_unescape(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c != '\\' || i + 1 == field.size()) {
      out += c;
      continue;
    }
    char n = field[++i];
    switch (n) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      default: out += n;
    }
  }
  return out;
}

void split_field_views(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t start = 0;
  for (std::size_t tab; (tab = line.find('\t', start)) != std::string_view::npos; start = tab + 1)
    out.push_back(line.substr(start, tab - start));
  out.push_back(line.substr(start));
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string_view> views;
  split_field_views(line, views);
  return std::vector<std::string>(views.begin(), views.end());
}

std::string join_fields(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "\t" : "") + fields[i];
  return out;
}

namespace {

/// Printable ASCII without a backslash: valid UTF-8 without NUL that COPY shows as it is (most
/// logged texts; one pass instead of valid_utf8_without_nul's and copies_as_is's).
bool plain_ascii(std::string_view text) {
  unsigned bad = 0;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    bad |= (c < 0x20) | (c >= 0x7F) | (c == '\\');
  }
  return bad == 0;
}

/// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) without NUL.
bool valid_utf8_without_nul(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (len == 0 || c > 0xF4 || i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((p[i + k] & 0xC0) != 0x80) return false;
    if (c == 0xE0 && p[i + 1] < 0xA0) return false;   // overlong
    if (c == 0xED && p[i + 1] >= 0xA0) return false;  // surrogates
    if (c == 0xF0 && p[i + 1] < 0x90) return false;   // overlong
    if (c == 0xF4 && p[i + 1] >= 0x90) return false;  // past U+10FFFF
    i += len;
  }
  return true;
}

bool canonical_integer_in(std::string_view t, long long low, long long high) {
  if (!replay::canonical_integer_text(t)) return false;
  std::size_t start = t[0] == '-' ? 1 : 0;
  uint64_t v = 0;  // at most 19 digits: no overflow
  for (std::size_t i = start; i < t.size(); ++i) v = v * 10 + static_cast<uint64_t>(t[i] - '0');
  if (start == 1) return v <= static_cast<uint64_t>(-(low + 1)) + 1;  // |low| without overflow
  return v <= static_cast<uint64_t>(high);
}

/// "YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z" as PostgreSQL shows it in UTC, ISO style, written into `out`:
/// "YYYY-MM-DD HH:MM:SS[.f without trailing zeros]" and "+00" with a time zone; false (`out`
/// untouched) for anything else.
bool iso_timestamp(std::string_view t, bool with_zone, std::string& out) {
  auto digits = [&](std::size_t at, std::size_t n, int& out) {
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (i >= t.size() || t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (t.size() < 20 || t.back() != 'Z' || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':')
    return false;
  if (!digits(0, 4, year) || !digits(5, 2, month) || !digits(8, 2, day) || !digits(11, 2, hour) ||
      !digits(14, 2, minute) || !digits(17, 2, second))
    return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > kDays[month - 1] + (month == 2 && leap ? 1 : 0) ||
      hour > 23 || minute > 59 || second > 59)
    return false;
  std::size_t fraction_end = 20;  // past the fraction's last digit but trailing zeros
  if (t.size() > 20) {
    if (t[19] != '.' || t.size() < 22 || t.size() > 27) return false;
    for (std::size_t i = 20; i + 1 < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      if (t[i] != '0') fraction_end = i + 1;
    }
  }
  char shown[40];  // built here and assigned once: the appends' checks cost more than the copy
  std::memcpy(shown, t.data(), 19);
  shown[10] = ' ';
  std::size_t n = 19;
  if (fraction_end > 20) {
    std::memcpy(shown + n, t.data() + 19, fraction_end - 19);  // the '.' and the digits
    n += fraction_end - 19;
  }
  if (with_zone) std::memcpy(shown + n, "+00", 3), n += 3;
  out.assign(shown, n);
  return true;
}

}  // namespace

Renderer::Renderer(PgSession& db, Tables& tables) : db_(db), tables_(tables) {
  PgResult r = db_.exec(
      "SELECT current_setting('server_encoding') = 'UTF8' AND current_setting('client_encoding') = 'UTF8', "
      "current_setting('TimeZone') = 'UTC' AND current_setting('DateStyle') LIKE 'ISO,%'",
      {}, "reading the session's encodings and time style");
  bool utf8 = PQntuples(r.get()) == 1 && std::string(PQgetvalue(r.get(), 0, 0)) == "t";
  bool utc_iso = PQntuples(r.get()) == 1 && std::string(PQgetvalue(r.get(), 0, 1)) == "t";
  for (std::size_t t = 0; t < tables_.size(); ++t) {
    local_types_.emplace_back();
    for (const auto& column : tables_[t].target->columns)
      local_types_.back().push_back(local_type_of(column, utf8, utc_iso));
  }
}

Renderer::LocalType Renderer::local_type_of(const replay::TargetColumn& column, bool utf8, bool utc_iso) {
  // Only a plain conversion renders the text itself (not a JSON array into an array, nor a
  // string into JSON): these types are neither arrays nor JSON.
  const std::string& type = column.type;
  if (type == "text" || type == "character varying") return utf8 ? LocalType::text : LocalType::none;
  if (type == "timestamp with time zone") return utc_iso ? LocalType::timestamp_tz : LocalType::none;
  if (type == "timestamp without time zone") return utc_iso ? LocalType::timestamp : LocalType::none;
  if (type == "smallint") return LocalType::int16;
  if (type == "integer") return LocalType::int32;
  if (type == "bigint") return LocalType::int64;
  return LocalType::none;
}

std::optional<std::string> Renderer::local_rendering(std::size_t table, std::size_t column, LoggedValue value) const {
  std::string out;
  switch (render_locally_into(table, column, value, out)) {
    case Local::no: return std::nullopt;
    case Local::as_logged: return std::string(value.text);
    case Local::written: return out;
  }
  return std::nullopt;
}

Renderer::Local Renderer::render_locally_into(std::size_t table, std::size_t column, LoggedValue value,
                                              std::string& out) const {
  using Kind = replay::Value::Kind;
  std::string_view text = value.text;
  auto integer_in = [&](int64_t low, int64_t high) {
    return value.kind == Kind::integer && canonical_integer_in(text, low, high) ? Local::as_logged : Local::no;
  };
  switch (local_types_[table][column]) {
    case LocalType::none: return Local::no;
    case LocalType::text:
      if (plain_ascii(text)) return Local::as_logged;
      if (!valid_utf8_without_nul(text)) return Local::no;
      if (pg::copies_as_is(text)) return Local::as_logged;
      out = copy_field(text.data(), text.size());
      return Local::written;
    case LocalType::timestamp_tz:
    case LocalType::timestamp: {
      bool with_zone = local_types_[table][column] == LocalType::timestamp_tz;
      return value.kind == Kind::timestamp && iso_timestamp(text, with_zone, out) ? Local::written : Local::no;
    }
    case LocalType::int16: return integer_in(INT16_MIN, INT16_MAX);
    case LocalType::int32: return integer_in(INT32_MIN, INT32_MAX);
    case LocalType::int64: return integer_in(INT64_MIN, INT64_MAX);
  }
  return Local::no;
}

void for_each_row(PgSession& db, const Table& table, const std::string& where_column,
                  const std::vector<std::string>& keys_of_column_or_key, std::size_t per_query,
                  const std::function<void(const PGresult* result, int row)>& on_row, const std::string& items) {
  const TargetTable& t = *table.target;
  std::string columns = items.empty() ? pg::quote_ident_list(table.shape.columns) : items;
  std::vector<std::string> match = where_column.empty() ? t.primary_key : std::vector<std::string>{where_column};
  std::string left, right, unnest_args, names;
  for (std::size_t i = 0; i < match.size(); ++i) {
    const auto& col = t.columns[table.column(match[i])];
    left += (i ? ", " : "") + pg::quote_ident(col.name);
    right += (i ? ", " : "") + std::string("(u.k") + std::to_string(i) + ")::" + col.type;
    unnest_args += (i ? ", " : "") + std::string("$") + std::to_string(i + 1) + "::text[]";
    names += (i ? ", " : "") + std::string("k") + std::to_string(i);
  }
  std::string sql = "SELECT " + columns + " FROM " + t.quoted() + " WHERE (" + left + ") IN (SELECT " + right +
                    " FROM unnest(" + unnest_args + ") AS u(" + names + "))";
  for (std::size_t start = 0; start < keys_of_column_or_key.size(); start += per_query) {
    std::vector<std::vector<std::string>> parts(match.size());
    for (std::size_t k = start; k < std::min(keys_of_column_or_key.size(), start + per_query); ++k) {
      auto fields = split_fields(keys_of_column_or_key[k]);
      if (fields.size() != match.size()) continue;
      for (std::size_t i = 0; i < match.size(); ++i) parts[i].push_back(copy_unescape(fields[i]));
    }
    replay::Params params;
    for (auto& p : parts) params.push_back(array_literal(p));
    PgResult r = db.exec(sql, params, "reading rows of " + table.shape.qualified());
    for (int row = 0; row < PQntuples(r.get()); ++row) on_row(r.get(), row);
  }
}

std::string load_keys(PgSession& db, const Table& table, const std::vector<std::string>& columns,
                      const std::vector<std::string>& keys) {
  std::string names = pg::quote_ident_list(columns);
  db.exec("DROP TABLE IF EXISTS pg_temp.auditpitr_keys; CREATE TEMP TABLE auditpitr_keys AS SELECT " + names +
              " FROM " + table.target->quoted() + " WITH NO DATA",
          {}, "preparing the keys of " + table.shape.qualified());
  std::vector<std::string> lines;
  lines.reserve(keys.size());
  for (const auto& k : keys)
    if (static_cast<std::size_t>(std::count(k.begin(), k.end(), '\t')) + 1 == columns.size()) lines.push_back(k);
  db.copy_in("COPY pg_temp.auditpitr_keys FROM STDIN", lines, "sending the keys of " + table.shape.qualified());
  // With the keys' statistics the planner can weigh a hash join over one sequential scan against
  // an index lookup per key (unanalyzed, a temporary table counts as a few hundred keys).
  db.exec("ANALYZE pg_temp.auditpitr_keys", {}, "sending the keys of " + table.shape.qualified());
  return "(" + names + ") IN (SELECT * FROM pg_temp.auditpitr_keys)";
}

std::string field_of(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return kNull;
  return copy_field(PQgetvalue(result, row, column), static_cast<std::size_t>(PQgetlength(result, row, column)));
}

std::string key_of_result(const Table& table, const PGresult* result, int row) {
  std::vector<std::string> key;
  for (std::size_t p : table.key_positions) key.push_back(field_of(result, row, static_cast<int>(p)));
  return join_fields(key);
}

CompactFolding::CompactFolding(const Tables& tables, const replay::Mapper& mapper) {
  for (const auto& shape : mapper.catalog().tables()) {
    std::size_t t = tables.index(shape.name);
    table_.push_back(t);
    column_.emplace_back();
    for (const auto& column : shape.columns) column_.back().push_back(tables[t].column(column));
  }
}

FoldChange CompactFolding::change(const replay::MappedEvent& mapped, const replay::CompactChange& c,
                                  replay::TimePoint time) const {
  FoldChange f;
  change_into(mapped, c, time, f);
  return f;
}

void CompactFolding::change_into(const replay::MappedEvent& mapped, const replay::CompactChange& c,
                                 replay::TimePoint time, FoldChange& out) const {
  out.table = table_[c.table];
  out.action = c.action;
  out.time = time;
  out.key_rendered = false;
  const std::vector<std::size_t>& columns = column_[c.table];
  out.texts.clear();
  auto fill = [&](const replay::MappedEvent::Range& from, std::vector<FoldValue>& to) {
    to.resize(from.size());  // a refilled change keeps its vectors' capacity
    auto v = from.begin();
    for (FoldValue& value : to) {
      value = {static_cast<uint32_t>(columns[v->column]),    v->kind,
               v->source == replay::ValueSource::event_time, false,
               static_cast<uint32_t>(out.texts.size()),      static_cast<uint32_t>(v->text.size())};
      out.texts.append(v->text.data(), v->text.size());
      ++v;
    }
  };
  fill(mapped.key(c), out.key);
  fill(mapped.set(c), out.set);
}

namespace {

/// key_of with each key value rendered by `render` (nullopt: no rendering, no key).
template <typename Render>
std::optional<std::string> key_rendered_by(const FoldChange& c, const Tables& tables, Render render) {
  const Table& t = tables[c.table];
  if (c.key.size() == 1 && t.key_positions.size() == 1) {  // the usual case, without a row's worth of fields
    if (c.key[0].column != t.key_positions[0])
      return render(c.key[0].column, c.value(c.key[0])) ? std::optional<std::string>(std::string()) : std::nullopt;
    return render(t.key_positions[0], c.value(c.key[0]));
  }
  std::vector<std::string> fields(t.shape.columns.size());
  for (const auto& k : c.key) {
    auto text = render(k.column, c.value(k));
    if (!text) return std::nullopt;
    fields[k.column] = *text;
  }
  return t.key_of(fields);
}

}  // namespace

std::optional<std::string> key_of(const FoldChange& c, const Tables& tables, const Renderer& renderer) {
  if (c.key_rendered) return c.row_key;
  return key_rendered_by(c, tables,
                         [&](std::size_t column, LoggedValue v) { return renderer.get(c.table, column, v); });
}

void render_key_locally(FoldChange& c, const Tables& tables, const Renderer& renderer) {
  auto key = key_rendered_by(c, tables, [&](std::size_t column, LoggedValue v) {
    return v.is_null() ? std::optional<std::string>(kNull) : renderer.local_rendering(c.table, column, v);
  });
  if (!key) return;
  c.row_key = std::move(*key);
  c.row_hash = RowMap<ModelRow>::hash_of(c.row_key);
  c.key_rendered = true;
}

void render_values_locally(FoldChange& c, const Renderer& renderer, bool event_times) {
  thread_local std::string rendering;  // reused: no allocation once warm
  for (FoldValue& s : c.set) {
    if (s.rendered || s.is_null() || (s.event_time && !event_times)) continue;
    Renderer::Local local = renderer.render_locally_into(c.table, s.column, c.value(s), rendering);
    if (local == Renderer::Local::no) continue;
    if (local == Renderer::Local::written) c.replace_text(s, rendering);
    s.rendered = true;
  }
}

}  // namespace rows
}  // namespace auditpitr::verify
