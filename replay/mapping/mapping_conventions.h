// Naming conventions that let a well-behaved application's audit log replay with no rules at all:
// CREATE_/UPDATE_/DELETE_<ENTITY>, snake_case plural tables, camelCase fields with a trailing `ID`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace auditpitr::replay {

enum class ConventionVerb { create, update, remove };

struct ConventionalOperation {
  ConventionVerb verb;
  std::string entity;  ///< upper snake case, e.g. "SECTION_CONTENT"
};

/// `CREATE_<ENTITY>`, `UPDATE_<ENTITY>` or `DELETE_<ENTITY>` with ENTITY in upper snake case
/// (letters and digits, single underscores). Anything else, such as `CREATE_PROJECT_DB_ERROR`, is
/// also an upper snake name: callers decide, with the catalog, whether the table exists.
std::optional<ConventionalOperation> parse_conventional_operation(std::string_view operation);

/// "SECTION_CONTENT" -> "section_content".
std::string entity_to_snake(std::string_view entity);
/// "SECTION_CONTENT" -> "sectionContent".
std::string entity_to_lower_camel(std::string_view entity);
/// English plural of a snake_case name, on its last word: category -> categories, box -> boxes,
/// section_content -> section_contents.
std::string pluralise(std::string_view snake);
/// camelCase field -> snake_case column; a trailing "ID" is one word: portfolioID -> portfolio_id,
/// isPublic -> is_public, userID -> user_id, id -> id.
std::string camel_to_snake(std::string_view field);
/// `level`, `msg`, `time` and `operation` belong to the log format, never to a row.
bool is_reserved_field(std::string_view field);

}  // namespace auditpitr::replay
