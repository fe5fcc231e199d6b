// Encryption at rest with age (https://age-encryption.org/v1): the `age` program run by argv through
// the ProcessRunner seam, as a stream stage. Writing, the gzip bytes go to `age -r RECIPIENT…` and
// its output to the caller's sink; reading, a file's bytes go to `age -d -i IDENTITY` and its output
// is read like a file. Keys never appear on a command line: recipients are public keys, the
// identity is a file path.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "src/pg/process_runner.h"

namespace auditpitr::ops {

/// The value of manifests' encryption.method for age.
constexpr const char* kAgeMethod = "age";

/// Where the identity file comes from, for hints: "[backup] identity_file in '<config>'" or "--identity".
struct IdentitySource {
  std::string path;    ///< empty: none configured
  std::string origin;  ///< "[backup] identity_file" or "--identity"
};

/// Throws unless `identity.path` may be used: a usage Error (exit 2) when none is configured or it
/// cannot be read, naming the setting; a refused Error (exit 4) when its group or others may read or
/// write it (as ssh refuses such a private key), with the chmod that fixes it. `what` names what needs
/// it ("restoring backup 'x.dump.gz.age'").
void require_identity(const IdentitySource& identity, const std::string& what);

/// Encrypts a stream: write() plaintext, finish() waits for the last byte to reach `sink`. `age` runs
/// on its own thread; `sink` is called from it (until finish() or destruction returns). Any failure
/// (age missing, age's error, the sink's Error) is thrown by the write() or finish() that follows it.
/// Destroyed before finish(), the stream is abandoned: age is stopped, its partial output is the
/// caller's to discard (AtomicFile does).
class AgeEncryptor {
 public:
  using Sink = std::function<void(const char* data, std::size_t size)>;
  AgeEncryptor(pg::ProcessRunner& runner, const std::vector<std::string>& recipients, Sink sink, std::string what);
  ~AgeEncryptor();
  AgeEncryptor(const AgeEncryptor&) = delete;
  AgeEncryptor& operator=(const AgeEncryptor&) = delete;

  void write(const char* data, std::size_t size);
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Decrypts a stream: `source` gives the encrypted bytes (0 at their end), read() the plaintext, 0 at
/// its end once age has authenticated every chunk. read() throws a usage Error when the identity holds
/// none of the file's recipients (or cannot be read), a verification Error when the file is damaged
/// (header or any chunk fails authentication, cut short), a runtime Error otherwise. Destroyed early,
/// age is stopped. `source` is called from age's thread; whatever age leaves unread of it is read
/// too, at the end, so that an observer of `source` sees the whole file.
class AgeDecryptor {
 public:
  using Source = std::function<std::size_t(char* buffer, std::size_t capacity)>;
  AgeDecryptor(pg::ProcessRunner& runner, const IdentitySource& identity, Source source, std::string what);
  ~AgeDecryptor();
  AgeDecryptor(const AgeDecryptor&) = delete;
  AgeDecryptor& operator=(const AgeDecryptor&) = delete;

  std::size_t read(char* buffer, std::size_t capacity);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// What an age file's header says, read without any key.
struct AgeHeader {
  std::string problem;                    ///< empty when it is a well-formed age v1 header
  std::vector<std::string> stanza_types;  ///< one per recipient ("X25519", "ssh-ed25519", …)
  std::size_t header_bytes = 0;           ///< where the payload starts
};

/// Reads the header of the age file `path` (the first 64 KiB at most).
AgeHeader read_age_header(const std::string& path);

}  // namespace auditpitr::ops
