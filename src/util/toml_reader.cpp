#include "src/util/toml_reader.h"

#include "src/error.h"

namespace auditpitr {

TomlReader::TomlReader(std::string kind, std::string path, std::string default_hint)
    : kind_(std::move(kind)), path_(std::move(path)), default_hint_(std::move(default_hint)) {}

int line_of(const toml::node* node) { return node ? static_cast<int>(node->source().begin.line) : 0; }

toml::table TomlReader::parse(const std::string& text) const {
  try {
    return toml::parse(text, path_);
  } catch (const toml::parse_error& e) {
    fail_at(static_cast<int>(e.source().begin.line), std::string(e.description()));
  }
}

void TomlReader::fail(const toml::node* node, const std::string& what, const std::string& hint) const {
  fail_at(line_of(node), what, hint);
}

void TomlReader::fail_at(int line, const std::string& what, const std::string& hint) const {
  std::string where = line > 0 ? path_ + ":" + std::to_string(line) : path_;
  throw usage_error("invalid " + kind_ + " '" + where + "': " + what, hint.empty() ? default_hint_ : hint);
}

void TomlReader::reject_unknown_keys(const toml::table& table, const std::string& context,
                                     const std::set<std::string>& known) const {
  for (const auto& [key, node] : table) {
    if (known.count(std::string(key.str()))) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    fail(&node, "unknown key '" + std::string(key.str()) + "' in " + context, "known keys there: " + list);
  }
}

}  // namespace auditpitr
