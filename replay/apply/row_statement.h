// One row change as one SQL statement (docs/replay.md, "Semantics"): the text is built from the
// catalog's identifiers (quoted) and placeholders; logged values are only ever parameters. The
// same text with escaped literals in place of the placeholders is the --sql script's statement.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replay/apply/target_catalog.h"
#include "replay/mapping/mapping.h"

namespace auditpitr::replay {

/// Every statement returns one row, or none when the row it changes is not there (missing_row;
/// for an insert: the key existed and there was nothing to update). The row's columns:
///   0 `applied` (bool): insert: a new row; delete: the row was alive; update: true
///   1 `cascaded` (bigint): child rows the cascades deleted
///   then per RowChange::expect, in order: `same` (bool), `found` (text, at most 200 characters)
constexpr int kStatementFixedColumns = 2;

/// How a logged value reaches its column: as text PostgreSQL converts, or a JSON array becoming an
/// array column's elements, or a logged string becoming a JSON string in a json/jsonb column.
enum class Conversion { plain, array_from_json, json_from_text };
Conversion conversion_of(const TargetColumn& column, Value::Kind kind);

/// SQL turning the text expression `text` (a placeholder, a literal, a column of text) holding a
/// logged value of `kind` into `column`'s type, explicitly cast (docs/replay.md, "Values").
std::string typed_value_sql(const TargetColumn& column, Value::Kind kind, const std::string& text);

/// Creation timestamps (created_at from the event time) keep the existing row's value when an
/// insert meets an existing key.
bool is_creation_stamp(const ColumnValue& value);

/// A column type as format_type() prints it, without its modifier: "character varying(255)" ->
/// "character varying", "numeric(10,2)[]" -> "numeric[]".
std::string base_type_of(const std::string& type);

/// The values bound to a change's statement, in placeholder order: key values, set values, expect
/// values (not for inserts: nothing is compared), then the event time when the change cascades
/// (the deletion time of the children). nullopt is SQL NULL.
std::vector<std::optional<std::string>> statement_params(const RowChange& change);

/// What makes two changes share a statement text: table, action, columns and the conversion each
/// value needs. Cheap; used to cache prepared statements.
std::string statement_shape(const RowChange& change, const TargetCatalog& catalog);

/// The statement of `change`. `param(i)` renders the i-th parameter of statement_params():
/// "$<i+1>" for a prepared statement, an escaped literal for a script. Usage Error when the
/// change names a column the table does not have, or cascades from a table without a
/// single-column primary key.
std::string build_statement(const RowChange& change, const TargetCatalog& catalog,
                            const std::function<std::string(std::size_t)>& param);

/// An integer in the one text PostgreSQL would print for it (no sign but '-', no leading zero, not
/// "-0"; at most 19 digits, so that it fits in 64 bits unsigned): two such texts are equal exactly
/// when the numbers are.
bool canonical_integer_text(std::string_view text);
/// A logged integer whose text is canonical_integer_text.
bool canonical_integer(const Value& v);

/// Whether `change` may share one set-based statement with changes of its shape on other rows
/// (build_group_statement): an insert, an update or a soft delete without cascades, of a table
/// marked set_based, that does not write
/// its key, keyed by integers in canonical form (so that distinct key texts are distinct rows).
bool groupable(const RowChange& change, const TargetCatalog& catalog);

/// The row a groupable change touches, as text: equal for two changes exactly when the row is.
std::string group_row(const RowChange& change);

/// The set-based statement for groupable changes of `change`'s shape on distinct rows. Parameter
/// $i+1 is a text[] of the i-th statement_params() value of each change (array_literal), in order.
/// It returns build_statement's row for each change it applied, plus, last, the change's 1-based
/// place in the arrays; a change with no row is one the single statement returns no row for.
std::string build_group_statement(const RowChange& change, const TargetCatalog& catalog, std::size_t params);

/// A text[] in PostgreSQL's array input syntax: every element quoted, NULL for nullopt.
std::string array_literal(const std::vector<const std::optional<std::string>*>& values);

/// A PostgreSQL string literal ('…' with quotes doubled; the script sets
/// standard_conforming_strings, so backslashes are plain characters), or NULL.
std::string sql_literal(const std::optional<std::string>& value);

}  // namespace auditpitr::replay
