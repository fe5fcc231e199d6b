#include "src/util/toml_reader.h"

#include "src/error.h"
#include "src/util/fs.h"
#include "src/util/suggest.h"

namespace auditpitr {
namespace {

// Our files are a few kilobytes and a few levels deep; anything far beyond is a mistake or an attack.
constexpr std::size_t kMaxTomlBytes = 1024 * 1024;
constexpr int kMaxTomlNesting = 100;

/// The first line where keys are dotted, or brackets and braces nested, deeper than
/// kMaxTomlNesting; 0 when there is none. toml++ recurses once per part of a dotted key, so a header
/// `[a.a.a…]` of tens of thousands of parts overflows the stack before it can report anything.
/// Strings and comments are skipped roughly (escapes honoured, multi-line quotes counted as quotes),
/// which is enough: a file this scan misreads is one toml++ refuses anyway.
int line_too_deep(const std::string& text) {
  int line = 1, brackets = 0, dots = 0;
  char quote = 0;
  bool comment = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      dots = 0;
      comment = false;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c == '\\' && quote == '"') ++i;
      else if (c == quote) quote = 0;
      continue;
    }
    switch (c) {
      case '#': comment = true; break;
      case '"':
      case '\'': quote = c; break;
      case '[':
      case '{':
        ++brackets;
        dots = 0;
        break;
      case ']':
      case '}': --brackets; break;
      case '=':
      case ',': dots = 0; break;
      case '.': ++dots; break;
      default: break;
    }
    if (brackets > kMaxTomlNesting || dots > kMaxTomlNesting) return line;
  }
  return 0;
}

// toml++ says "unescaped control characters other than TAB …" or "encountered end-of-file" where a
// person forgot a closing quote: the line it names is the one with the opening quote.
std::string plain_description(std::string_view description) {
  std::string text(description);
  bool in_string = text.rfind("Error while parsing string", 0) == 0;
  if (in_string &&
      (text.find("control characters") != std::string::npos || text.find("end-of-file") != std::string::npos))
    return "unterminated string (the closing quote is missing)";
  return text;
}

}  // namespace

TomlReader::TomlReader(std::string kind, std::string path, std::string default_hint)
    : kind_(std::move(kind)), path_(std::move(path)), default_hint_(std::move(default_hint)) {}

std::string read_toml_file(const std::string& path, const std::string& kind, const std::string& missing_hint) {
  if (!path_exists(path)) throw usage_error(kind + " file '" + path + "' not found", missing_hint);
  try {
    return read_small_file(path);
  } catch (const Error& e) {
    throw Error(ErrorKind::usage, e.what(), e.hint(), e.cause());
  }
}

int line_of(const toml::node* node) { return node ? static_cast<int>(node->source().begin.line) : 0; }

toml::table TomlReader::parse(const std::string& text) const {
  if (text.size() > kMaxTomlBytes)
    fail_at(
        0,
        "file is too large (" + std::to_string(text.size()) + " bytes, at most " + std::to_string(kMaxTomlBytes) + ")",
        "is this the right file? ours are a few kilobytes");
  if (int line = line_too_deep(text))
    fail_at(line, "keys or values nested more than " + std::to_string(kMaxTomlNesting) + " levels deep",
            "write the table's name with fewer parts: [a.b] rather than [a.b.c.d…]");
  try {
    return toml::parse(text, path_);
  } catch (const toml::parse_error& e) {
    fail_at(static_cast<int>(e.source().begin.line), plain_description(e.description()));
  }
}

void TomlReader::fail(const toml::node* node, const std::string& what, const std::string& hint) const {
  fail_at(line_of(node), what, hint);
}

void TomlReader::fail_at(int line, const std::string& what, const std::string& hint) const {
  std::string where = line > 0 ? path_ + ":" + std::to_string(line) : path_;
  throw usage_error("invalid " + kind_ + " '" + where + "': " + what, hint.empty() ? default_hint_ : hint);
}

void ErrorCollector::raise() const {
  if (errors_.empty()) return;
  if (errors_.size() == 1) throw errors_.front();
  std::string message = std::to_string(errors_.size()) + " problems in " + what_ + ":";
  for (const Error& e : errors_)
    message += "\n  - " + std::string(e.what()) + (e.hint().empty() ? "" : "\n    (" + e.hint() + ")");
  throw usage_error(message, "fix them all, then run the command again");
}

void TomlReader::reject_unknown_keys(const toml::table& table, const std::string& context,
                                     const std::set<std::string>& known) const {
  for (const auto& [key, node] : table) {
    if (known.count(std::string(key.str()))) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    std::string name(key.str());
    fail(&node, "unknown key '" + name + "' in " + context + did_you_mean(name, {known.begin(), known.end()}),
         "known keys there: " + list);
  }
}

}  // namespace auditpitr
