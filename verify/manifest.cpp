// Manifest JSON: written with JsonWriter, read with simdjson's DOM (manifests are small).
#include "verify/manifest.h"

#include <simdjson.h>

#include "src/error.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/json_writer.h"

namespace auditpitr::verify {

void invalid_manifest(const std::string& path, const std::string& why) {
  throw verification_error("manifest '" + path + "' is not valid: " + why,
                           "it may be damaged; 'auditpitr check' on the backup tells more");
}

std::string manifest_string(const simdjson::dom::element& e, const char* key, const std::string& path) {
  std::string_view v;
  if (e[key].get_string().get(v)) invalid_manifest(path, std::string("missing or non-text '") + key + "'");
  return std::string(v);
}

uint64_t manifest_uint(const simdjson::dom::element& e, const char* key, const std::string& path) {
  uint64_t v = 0;
  if (e[key].get_uint64().get(v)) invalid_manifest(path, std::string("missing or non-numeric '") + key + "'");
  return v;
}

namespace {

void write_table(JsonWriter& w, const TableChecksum& t) {
  w.begin_object();
  w.field("schema", t.schema).field("name", t.name);
  w.key("primary_key").begin_array();
  for (const auto& k : t.primary_key) w.value(k);
  w.end_array();
  w.field("rows", t.rows).field("checksum", to_hex(t.row_sum));
  w.key("columns").begin_object();
  for (const auto& [column, sum] : t.column_sums) w.field(column, to_hex(sum));
  w.end_object();
  w.end_object();
}

uint64_t get_hex(simdjson::dom::element e, const char* key, const std::string& path) {
  uint64_t v = 0;
  if (!from_hex(manifest_string(e, key, path), v))
    invalid_manifest(path, std::string("'") + key + "' is not 16 hex digits");
  return v;
}

std::vector<std::string> get_strings(simdjson::dom::element e, const char* key, const std::string& path) {
  simdjson::dom::array items;
  if (e[key].get_array().get(items)) invalid_manifest(path, std::string("missing or non-list '") + key + "'");
  std::vector<std::string> out;
  for (auto item : items) {
    std::string_view v;
    if (item.get_string().get(v)) invalid_manifest(path, std::string("'") + key + "' holds something other than text");
    out.emplace_back(v);
  }
  return out;
}

TableChecksum read_table(simdjson::dom::element e, const std::string& path) {
  TableChecksum t;
  t.schema = manifest_string(e, "schema", path);
  t.name = manifest_string(e, "name", path);
  t.rows = manifest_uint(e, "rows", path);
  t.row_sum = get_hex(e, "checksum", path);
  simdjson::dom::array keys;
  if (e["primary_key"].get_array().get(keys)) invalid_manifest(path, "missing 'primary_key' of " + t.qualified());
  for (auto k : keys) t.primary_key.emplace_back(std::string_view(k.get_string().value_unsafe()));
  simdjson::dom::object columns;
  if (e["columns"].get_object().get(columns)) invalid_manifest(path, "missing 'columns' of " + t.qualified());
  for (auto field : columns) {
    uint64_t v = 0;
    std::string_view hex;
    if (field.value.get_string().get(hex) || !from_hex(std::string(hex), v))
      invalid_manifest(path, "column checksum of " + t.qualified() + " is not 16 hex digits");
    t.column_sums[std::string(field.key)] = v;
  }
  return t;
}

}  // namespace

uint64_t Manifest::total_rows() const {
  uint64_t n = 0;
  for (const auto& t : tables) n += t.rows;
  return n;
}

std::string manifest_to_json(const Manifest& m) {
  JsonWriter w;
  w.begin_object();
  w.field("format", m.format).field("tool", "auditpitr " + m.tool_version);
  w.field("alias", m.alias).field("dbname", m.dbname).field("stamp", m.stamp);
  w.field("snapshot_time_utc", m.snapshot_time_utc);
  w.field("server_version", m.server_version).field("server_version_num", m.server_version_num);
  w.field("pg_dump_version", m.pg_dump_version);
  w.field("checksum_algorithm", m.checksum_algorithm);
  w.key("file").begin_object();
  w.field("name", m.file_name).field("size", m.file_size).field("uncompressed_size", m.uncompressed_size);
  w.field("sha256", m.file_sha256);
  write_encryption(w, m.encryption);
  w.end_object();
  w.key("run_databases").begin_array();
  for (const auto& db : m.run_databases) w.value(db);
  w.end_array().key("run_files").begin_array();
  for (const auto& name : m.run_files) w.value(name);
  w.end_array();
  w.field("total_rows", m.total_rows());
  w.key("tables").begin_array();
  for (const auto& t : m.tables) write_table(w, t);
  w.end_array();
  w.end_object();
  return w.str() + "\n";
}

void write_encryption(JsonWriter& w, const Manifest::Encryption& e) {
  if (e.method.empty()) {
    w.key("encryption").null();
    return;
  }
  w.key("encryption").begin_object().field("method", e.method).key("recipients").begin_array();
  for (const auto& r : e.recipients) w.value(r);
  w.end_array().field("gzip_size", e.gzip_size).field("gzip_sha256", e.gzip_sha256).end_object();
}

Manifest::Encryption read_encryption(const simdjson::dom::element& holder, const std::string& path) {
  Manifest::Encryption e;
  simdjson::dom::element value;
  if (holder["encryption"].get(value) || value.is_null()) return e;
  e.method = manifest_string(value, "method", path);
  if (e.method != "age")
    invalid_manifest(path, "encryption method '" + e.method + "' is not one this auditpitr reads (age)");
  e.recipients = get_strings(value, "recipients", path);
  e.gzip_size = manifest_uint(value, "gzip_size", path);
  e.gzip_sha256 = manifest_string(value, "gzip_sha256", path);
  return e;
}

Manifest parse_manifest(const std::string& text, const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text).get(root)) invalid_manifest(path, "not JSON");
  Manifest m;
  m.format = static_cast<int>(manifest_uint(root, "format", path));
  if (m.format != 1)
    invalid_manifest(path, "format " + std::to_string(m.format) + " is newer than this auditpitr understands");
  m.alias = manifest_string(root, "alias", path);
  m.dbname = manifest_string(root, "dbname", path);
  m.stamp = manifest_string(root, "stamp", path);
  m.snapshot_time_utc = manifest_string(root, "snapshot_time_utc", path);
  m.server_version = manifest_string(root, "server_version", path);
  m.server_version_num = static_cast<int>(manifest_uint(root, "server_version_num", path));
  m.pg_dump_version = manifest_string(root, "pg_dump_version", path);
  m.checksum_algorithm = manifest_string(root, "checksum_algorithm", path);
  simdjson::dom::element file;
  if (root["file"].get(file)) invalid_manifest(path, "missing 'file'");
  m.file_name = manifest_string(file, "name", path);
  m.file_size = manifest_uint(file, "size", path);
  m.uncompressed_size = manifest_uint(file, "uncompressed_size", path);
  m.file_sha256 = manifest_string(file, "sha256", path);
  m.encryption = read_encryption(file, path);
  if (root["run_databases"].error() != simdjson::NO_SUCH_FIELD)
    m.run_databases = get_strings(root, "run_databases", path);
  if (root["run_files"].error() != simdjson::NO_SUCH_FIELD) m.run_files = get_strings(root, "run_files", path);
  simdjson::dom::array tables;
  if (root["tables"].get_array().get(tables)) invalid_manifest(path, "missing 'tables'");
  for (auto t : tables) m.tables.push_back(read_table(t, path));
  return m;
}

Manifest load_manifest(const std::string& path) {
  if (file_size(path) > kMaxManifestBytes)
    invalid_manifest(path, "it is larger than " + std::to_string(kMaxManifestBytes >> 20) +
                               " MiB, more than any manifest auditpitr writes");
  return parse_manifest(read_small_file(path, kMaxManifestBytes), path);
}

std::vector<TableShape> table_shapes(const Manifest& manifest) {
  std::vector<TableShape> shapes;
  for (const TableChecksum& table : manifest.tables) shapes.push_back(shape_of(table));
  return shapes;
}

}  // namespace auditpitr::verify
