// RemoteStore over the rclone program (Debian's rclone): any remote rclone knows (S3, GCS, SFTP,
// WebDAV, a local folder), credentials in rclone's own configuration file, never in argv.
#pragma once

#include <optional>

#include "src/config/config.h"
#include "src/pg/process_runner.h"
#include "src/remote/remote_store.h"

namespace auditpitr::remote {

class RcloneStore : public RemoteStore {
 public:
  /// `runner` runs rclone (by argv; RCLONE_CONFIG in its environment when the remote names a config).
  RcloneStore(RemoteConfig remote, pg::ProcessRunner& runner);

  std::string describe() const override;
  std::vector<RemoteObject> list(const std::string& folder) override;
  std::optional<RemoteObject> stat(const std::string& path, const std::string& hash_type) override;
  std::vector<std::string> hash_types() override;
  void upload(const std::string& local_path, const std::string& path) override;
  void write(const std::string& path, const std::string& content) override;
  void read(const std::string& path, const std::function<void(const char*, std::size_t)>& sink,
            const std::string& include = "") override;
  void move(const std::string& from, const std::string& to) override;
  void remove(const std::string& path) override;

  /// rclone's name for `path` under the remote's root ("s3remote:bucket/portfolio/x").
  std::string full_path(const std::string& path) const;

 private:
  pg::Command command(std::vector<std::string> args) const;
  pg::ProcessResult run(const pg::Command& command, const std::string& what, bool missing_ok = false);

  RemoteConfig remote_;
  pg::ProcessRunner& runner_;
  std::optional<std::vector<std::string>> hash_types_;
};

/// Throws a runtime Error with the install hint when no rclone program is in PATH.
void require_rclone();

}  // namespace auditpitr::remote
