// The seam between auditpitr and an off-site store: a few file operations on paths relative to the
// remote's root. RcloneStore runs them with the rclone program; tests can put a fake behind it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace auditpitr::remote {

struct RemoteObject {
  std::string path;  ///< relative to the remote's root
  uint64_t size = 0;
  std::string hash;  ///< the hash asked of stat(), lower-case hex; empty when not asked or not known
};

class RemoteStore {
 public:
  virtual ~RemoteStore() = default;
  /// How messages name the store: "'offsite' (s3remote:bucket/portfolio)".
  virtual std::string describe() const = 0;
  /// The files directly in `folder` ("" is the root); empty when the folder does not exist.
  virtual std::vector<RemoteObject> list(const std::string& folder) = 0;
  /// One file with its size, and the store's own `hash_type` of it when not empty; nullopt when absent.
  virtual std::optional<RemoteObject> stat(const std::string& path, const std::string& hash_type) = 0;
  /// The hash types the store computes itself without reading the file back ("md5", "sha1", "sha256", ...).
  virtual std::vector<std::string> hash_types() = 0;
  /// Copies a local file to `path` (replacing what is there).
  virtual void upload(const std::string& local_path, const std::string& path) = 0;
  /// Writes `content` to `path` (replacing what is there).
  virtual void write(const std::string& path, const std::string& content) = 0;
  /// Streams the content of `path` to `sink`. With `include` (a glob such as "*.json"), `path` is a
  /// folder whose matching files are streamed one after the other (nothing when it does not exist).
  virtual void read(const std::string& path, const std::function<void(const char*, std::size_t)>& sink,
                    const std::string& include = "") = 0;
  /// Renames `from` to `to` inside the store (replacing `to`).
  virtual void move(const std::string& from, const std::string& to) = 0;
  /// Deletes one file; a file already gone is no error.
  virtual void remove(const std::string& path) = 0;
};

}  // namespace auditpitr::remote
