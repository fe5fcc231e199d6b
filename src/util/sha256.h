// SHA-256 of backup files (OpenSSL's libcrypto: hardware-accelerated and audited).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace auditpitr {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  /// Lower-case hex digest; the object cannot be updated afterwards.
  std::string hex_digest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// SHA-256 of a whole file, read in blocks.
std::string sha256_of_file(const std::string& path);

/// Lower-case hex digest of a whole file by one of OpenSSL's digest names ("md5", "sha1", "sha256"):
/// for comparing a file with a copy whose store computes only those. Throws a runtime Error for an
/// unknown name or an unreadable file.
std::string file_digest(const std::string& path, const std::string& algorithm);

}  // namespace auditpitr
