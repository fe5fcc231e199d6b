// A temporary folder removed with everything in it when the test ends.
#pragma once

#include <string>

namespace auditpitr::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Writes a file (creating parent folders is the caller's business).
void write_text(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);

}  // namespace auditpitr::test
