#include "verify/row_fold.h"

#include "src/pg/connection.h"

namespace auditpitr::verify {

std::string copy_field(const char* text, std::size_t size) {
  std::string out;
  out.reserve(size);
  for (std::size_t i = 0; i < size; ++i) {
    char c = text[i];
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default: out += c;
    }
  }
  return out;
}

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

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == '\t') {
      fields.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  return fields;
}

std::string join_fields(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "\t" : "") + fields[i];
  return out;
}

std::vector<std::string> read_rows(PgSession& db, const Table& table, const std::string& where_column,
                                   const std::vector<std::string>& keys_of_column_or_key) {
  std::vector<std::string> lines;
  const TargetTable& t = *table.target;
  std::string columns;
  for (std::size_t i = 0; i < t.columns.size(); ++i) columns += (i ? ", " : "") + pg::quote_ident(t.columns[i].name);
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
  for (std::size_t start = 0; start < keys_of_column_or_key.size(); start += kKeysPerQuery) {
    std::vector<std::vector<std::string>> parts(match.size());
    for (std::size_t k = start; k < std::min(keys_of_column_or_key.size(), start + kKeysPerQuery); ++k) {
      auto fields = split_fields(keys_of_column_or_key[k]);
      if (fields.size() != match.size()) continue;
      for (std::size_t i = 0; i < match.size(); ++i) parts[i].push_back(copy_unescape(fields[i]));
    }
    replay::Params params;
    for (auto& p : parts) params.push_back(array_literal(p));
    PgResult r = db.exec(sql, params, "reading rows of " + table.shape.qualified());
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      std::vector<std::string> fields;
      for (int c = 0; c < PQnfields(r.get()); ++c)
        fields.push_back(
            PQgetisnull(r.get(), row, c)
                ? kNull
                : copy_field(PQgetvalue(r.get(), row, c), static_cast<std::size_t>(PQgetlength(r.get(), row, c))));
      lines.push_back(join_fields(fields));
    }
  }
  return lines;
}

std::optional<std::string> key_of(const RowChange& c, std::size_t table, Tables& tables, const Renderer& renderer) {
  const Table& t = tables[table];
  std::vector<std::string> fields(t.shape.columns.size());
  for (const auto& k : c.key) {
    auto text = renderer.get(table, t.column(k.column), k.value);
    if (!text) return std::nullopt;
    fields[t.column(k.column)] = *text;
  }
  return t.key_of(fields);
}

void request_cascade_times(const std::vector<replay::CascadeDelete>& cascades, replay::TimePoint time, Tables& tables,
                           Renderer& renderer) {
  for (const auto& c : cascades) {
    std::size_t t = tables.index(c.table);
    replay::Value deleted_at = replay::Value::of(replay::Value::Kind::timestamp, replay::format_rfc3339(time));
    if (!c.soft_delete_column.empty()) renderer.request(t, tables[t].column(c.soft_delete_column), deleted_at);
    for (const auto& touched : c.soft_delete_touches) renderer.request(t, tables[t].column(touched), deleted_at);
    request_cascade_times(c.children, time, tables, renderer);
  }
}

void request_values(const std::vector<RowChange>& chunk, bool with_set, Tables& tables, Renderer& renderer) {
  for (const auto& c : chunk) {
    std::size_t t = tables.index(c.table);
    for (const auto& k : c.key) renderer.request(t, tables[t].column(k.column), k.value);
    if (!with_set) continue;
    for (const auto& s : c.set) renderer.request(t, tables[t].column(s.column), s.value);
    request_cascade_times(c.cascade, c.time, tables, renderer);
  }
  renderer.render();
}

}  // namespace rows
}  // namespace auditpitr::verify
