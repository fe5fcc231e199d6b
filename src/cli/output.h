// How auditpitr talks to people: [INFO]/[SUCCESS]/[WARNING] lines on stdout in the old scripts'
// style, colour only on a terminal (NO_COLOR honoured), progress on stderr only on a terminal.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "src/error.h"
#include "src/util/format.h"

namespace auditpitr::cli {

class Output {
 public:
  /// `json`: reports go out as one JSON document, so the human lines are silenced.
  /// `data_on_stdout`: stdout carries the command's data (export --sql -): human lines go to stderr.
  explicit Output(bool json = false, bool data_on_stdout = false);

  void info(const std::string& text) const;
  void success(const std::string& text) const;
  void warning(const std::string& text) const;
  /// A plain line on stdout (human mode only).
  void line(const std::string& text = {}) const;
  /// Transient progress on stderr, only when stderr is a terminal; overwritten by the next one.
  void progress(const std::string& text) const;
  void clear_progress() const;
  /// The JSON document (json mode only), an object: "format": 1 is put first (docs/json.md).
  void json(const std::string& document) const;
  /// The same for a document too large to hold: `write` hands it to the function it is given piece
  /// by piece, each written out at once. The pieces make one object with at least one key.
  void json_streamed(const std::function<void(const std::function<void(const std::string&)>&)>& write) const;

  bool json_mode() const { return json_; }
  /// Asks `question` ("... Type 'yes' to proceed:" is added) and reads the answer: true only for
  /// the typed word yes. The question goes to stderr under --json (stdout carries only the
  /// document); Ctrl-C or SIGTERM at the question is a stop (exit 130/143), not a refusal.
  bool confirmed(const std::string& question) const;
  std::string bold(const std::string& text) const;
  std::string red(const std::string& text) const;
  std::string green(const std::string& text) const;

 private:
  void tagged(const char* tag, const char* colour, const std::string& text) const;
  bool json_;
  std::ostream& human_;  // where the human lines go
  bool colour_;
  bool progress_;
};

/// True when stdin is a terminal (for confirmation prompts).
bool stdin_is_terminal();

/// On failure under --json: the error as the one JSON document on stdout ({"format": 1, "error":
/// {kind, exit_code, message, hint}}, docs/json.md), unless the command's own document was already
/// written (then stdout keeps that one document alone).
void json_error(const Error& error);

}  // namespace auditpitr::cli
