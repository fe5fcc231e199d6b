// The manifest written beside each dump: what the dump holds (per table rows and checksums, per
// column checksums keyed by primary key), when its snapshot was taken, and the file's sha256.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "verify/table_checksum.h"

namespace simdjson::dom {
class element;
}

namespace auditpitr {
class JsonWriter;
}

namespace auditpitr::verify {

struct Manifest {
  int format = 1;
  std::string tool_version;
  std::string alias;
  std::string dbname;
  std::string stamp;
  std::string snapshot_time_utc;  ///< RFC 3339, microseconds, Z: the moment the dump describes
  std::string server_version;     ///< "15.18"
  int server_version_num = 0;     ///< 150018
  std::string pg_dump_version;
  std::string checksum_algorithm = kChecksumAlgorithm;
  std::vector<TableChecksum> tables;
  std::string file_name;
  uint64_t file_size = 0;
  uint64_t uncompressed_size = 0;
  std::string file_sha256;  ///< of the file as it is on disk (encrypted, when it is)
  /// The databases the run that wrote it backed up, as the gzip header comment says (for encrypted
  /// files, whose header cannot be read without the key, the catalog reads them here). Empty in
  /// manifests written before it was recorded.
  std::vector<std::string> run_databases;
  std::vector<std::string> run_files;  ///< likewise, the run's [[files]] archives
  /// How the file is encrypted: empty `method` when it is not (a plain .dump.gz).
  struct Encryption {
    std::string method;                   ///< "age"
    std::vector<std::string> recipients;  ///< the public keys it was encrypted to
    uint64_t gzip_size = 0;               ///< the gzip stream inside, once decrypted
    std::string gzip_sha256;
  } encryption;

  bool encrypted() const { return !encryption.method.empty(); }
  uint64_t total_rows() const;
};

/// The most a manifest may hold: ~1 KB per table (a checksum per column), so 16 MiB is thousands
/// of tables; a larger file is not read at all (it would take its size in memory, several times).
constexpr std::size_t kMaxManifestBytes = 16u << 20;

std::string manifest_to_json(const Manifest& manifest);

/// The "encryption" value of dump and archive manifests: null for a plain file, else method,
/// recipients, gzip_size and gzip_sha256. read_encryption reads it from the object that holds it
/// (absent or null: plain); a verification Error naming `path` when it is malformed.
void write_encryption(JsonWriter& w, const Manifest::Encryption& encryption);
Manifest::Encryption read_encryption(const simdjson::dom::element& holder, const std::string& path);
/// A field of a manifest's JSON (dumps' and archives'); a verification Error naming `path` and the
/// key when it is missing or of another type. invalid_manifest throws that Error for any reason.
[[noreturn]] void invalid_manifest(const std::string& path, const std::string& why);
std::string manifest_string(const simdjson::dom::element& e, const char* key, const std::string& path);
uint64_t manifest_uint(const simdjson::dom::element& e, const char* key, const std::string& path);
/// Parses a manifest; a verification Error naming `path` when it is not a valid one.
Manifest parse_manifest(const std::string& text, const std::string& path);
/// Reads and parses a manifest; a verification Error naming `path` when it is not valid or is larger
/// than kMaxManifestBytes (then it is not read at all).
Manifest load_manifest(const std::string& path);

/// The tables a manifest describes, as the catalog would list them: names, primary keys and
/// columns (in name order: the manifest keys column checksums by name).
std::vector<TableShape> table_shapes(const Manifest& manifest);

}  // namespace auditpitr::verify
