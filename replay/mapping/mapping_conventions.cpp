// Naming conventions: pure string functions, unit-tested in tests/unit/replay/mapping/mapping_conventions_test.cpp.
#include "replay/mapping/mapping_conventions.h"

#include <cctype>

namespace auditpitr::replay {
namespace {

bool is_upper_snake(std::string_view text) {
  if (text.empty() || text.front() == '_' || text.back() == '_') return false;
  char previous = 0;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok || (c == '_' && previous == '_')) return false;
    previous = c;
  }
  return true;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<ConventionalOperation> parse_conventional_operation(std::string_view operation) {
  static const std::pair<std::string_view, ConventionVerb> verbs[] = {
      {"CREATE_", ConventionVerb::create}, {"UPDATE_", ConventionVerb::update}, {"DELETE_", ConventionVerb::remove}};
  for (const auto& [prefix, verb] : verbs) {
    if (operation.substr(0, prefix.size()) != prefix) continue;
    std::string_view entity = operation.substr(prefix.size());
    if (!is_upper_snake(entity)) return std::nullopt;
    return ConventionalOperation{verb, std::string(entity)};
  }
  return std::nullopt;
}

std::string entity_to_snake(std::string_view entity) {
  std::string out;
  for (char c : entity) out += lower(c);
  return out;
}

std::string entity_to_lower_camel(std::string_view entity) {
  std::string out;
  bool upper_next = false;
  for (char c : entity) {
    if (c == '_') {
      upper_next = !out.empty();
      continue;
    }
    out += upper_next ? c : lower(c);
    upper_next = false;
  }
  return out;
}

std::string pluralise(std::string_view snake) {
  std::string word(snake);
  if (word.empty()) return word;
  if (ends_with(word, "s") || ends_with(word, "x") || ends_with(word, "z") || ends_with(word, "ch") ||
      ends_with(word, "sh"))
    return word + "es";
  if (word.size() >= 2 && word.back() == 'y' && !is_vowel(word[word.size() - 2]))
    return word.substr(0, word.size() - 1) + "ies";
  return word + "s";
}

std::string camel_to_snake(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    // "ID" at the end (or before another capital word: "userIDs" is rare, keep it simple) is one word.
    if (c == 'I' && i + 1 < field.size() && field[i + 1] == 'D' && i + 2 == field.size()) {
      if (!out.empty() && out.back() != '_') out += '_';
      out += "id";
      break;
    }
    bool after_word = i > 0 && !is_upper(field[i - 1]) && field[i - 1] != '_';
    // "HTMLContent": the capital that starts "Content" ends the acronym.
    bool acronym_end = i > 0 && is_upper(field[i - 1]) && i + 1 < field.size() && !is_upper(field[i + 1]) &&
                       field[i + 1] != '_' && !is_digit(field[i + 1]);
    if (is_upper(c) && (after_word || acronym_end) && !out.empty() && out.back() != '_') out += '_';
    out += lower(c);
  }
  return out;
}

bool is_reserved_field(std::string_view field) {
  return field == "level" || field == "msg" || field == "time" || field == "operation";
}

}  // namespace auditpitr::replay
