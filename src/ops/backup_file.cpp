// BackupFileWriter: gzip bytes -> (age) -> sha256 -> AtomicFile.
#include "src/ops/backup_file.h"

namespace auditpitr::ops {

BackupFileWriter::BackupFileWriter(const std::string& final_path, const std::vector<std::string>& recipients,
                                   pg::ProcessRunner& runner)
    : file_(final_path, 0600), recipients_(recipients) {
  if (recipients.empty()) return;
  // age's output arrives on age's thread; nothing else touches the file until commit() joins it.
  age_ = std::make_unique<AgeEncryptor>(
      runner, recipients,
      [this](const char* data, std::size_t size) {
        file_sha_.update(data, size);
        file_.write(data, size);
      },
      "'" + base_name(final_path) + "'");
}

void BackupFileWriter::write(const char* data, std::size_t size) {
  gzip_size_ += size;
  if (age_) {
    gzip_sha_.update(data, size);
    age_->write(data, size);
  } else {
    file_sha_.update(data, size);
    file_.write(data, size);
  }
}

void BackupFileWriter::commit() {
  if (age_) age_->finish();
  file_digest_ = file_sha_.hex_digest();
  gzip_digest_ = age_ ? gzip_sha_.hex_digest() : file_digest_;
  file_.commit();
}

void BackupFileWriter::describe(verify::Manifest& manifest) const {
  manifest.file_name = base_name(file_.final_path());
  manifest.file_size = file_.bytes_written();
  manifest.file_sha256 = file_digest_;
  manifest.encryption = encryption();
}

verify::Manifest::Encryption BackupFileWriter::encryption() const {
  if (!age_) return {};
  return {kAgeMethod, recipients_, gzip_size_, gzip_digest_};
}

}  // namespace auditpitr::ops
