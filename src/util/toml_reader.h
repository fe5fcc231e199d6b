// The part of reading a TOML file that every file of ours shares: parsing, and errors that name
// the file:line, say what is wrong and what to do, and list the keys a table accepts.
#pragma once

#include <toml++/toml.h>

#include <set>
#include <string>
#include <vector>

#include "src/error.h"

namespace auditpitr {

class TomlReader {
 public:
  /// `kind` names the file in messages ("configuration", "mapping rules"); `default_hint` is the
  /// advice given when a failure brings none of its own.
  TomlReader(std::string kind, std::string path, std::string default_hint);

  /// Parses `text`; a syntax error fails at its line.
  toml::table parse(const std::string& text) const;

  /// Throws a usage Error: "invalid <kind> '<path>:<line of node>': <what>".
  [[noreturn]] void fail(const toml::node* node, const std::string& what, const std::string& hint = {}) const;
  [[noreturn]] void fail_at(int line, const std::string& what, const std::string& hint = {}) const;

  /// Fails on the first key of `table` that is not in `known`, listing the known ones.
  void reject_unknown_keys(const toml::table& table, const std::string& context,
                           const std::set<std::string>& known) const;

 private:
  std::string kind_, path_, default_hint_;
};

/// The usage Errors of one file, gathered so that one run reports all of them (a person fixes the
/// file once, not once per run). Other kinds of Error pass through at once.
class ErrorCollector {
 public:
  /// `what` names the file in the combined message: "the mapping rules '/app/mapping.toml'".
  explicit ErrorCollector(std::string what) : what_(std::move(what)) {}

  template <typename F>
  void attempt(F&& f) {
    try {
      f();
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::usage) throw;
      errors_.push_back(e);
    }
  }
  /// Takes in usage Errors gathered elsewhere (an earlier stage of checking the same file).
  void add(const std::vector<Error>& errors) { errors_.insert(errors_.end(), errors.begin(), errors.end()); }
  const std::vector<Error>& errors() const { return errors_; }
  /// Throws nothing when there was no error, the error itself when there was one, and otherwise one
  /// usage Error listing every message with its hint.
  void raise() const;

 private:
  std::string what_;
  std::vector<Error> errors_;
};

/// The text of one of our TOML files (`kind`: "configuration", "mapping rules"). A missing file is
/// a usage Error with `missing_hint`; one that cannot be read is a usage Error that keeps the
/// reader's message, hint and cause.
std::string read_toml_file(const std::string& path, const std::string& kind, const std::string& missing_hint);

/// The line a node starts on, 0 when unknown.
int line_of(const toml::node* node);

}  // namespace auditpitr
