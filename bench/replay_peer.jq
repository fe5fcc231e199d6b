# The application guide's recovery procedure, as its operators would write it: every event of the
# three logs sorted by time (jq -s), one SQL statement per row change, run by psql in one
# transaction. Deletes are soft (deleted_at) and cascade as the application does in code: to the
# children still alive. bench/replay_bench.sh runs it as the peer of `auditpitr replay`.
def q: "'" + (tostring | gsub("'"; "''")) + "'";
def t: .time | q;
def soft_delete($table; $id): "UPDATE \($table) SET deleted_at = \(t) WHERE id = \($id);";
def cascade($table; $column; $where):
  "UPDATE \($table) SET deleted_at = \(t) WHERE deleted_at IS NULL AND \($column) \($where);";

sort_by(.time)[]
| if .operation == "CREATE_PORTFOLIO" then
    "INSERT INTO portfolios (id, title, owner_id, created_at, updated_at) VALUES (\(.portfolioID), \(.title | q), \(.userID | q), \(t), \(t));"
  elif .operation == "CREATE_CATEGORY" then
    "INSERT INTO categories (id, title, portfolio_id, owner_id, created_at, updated_at) VALUES (\(.categoryID), \(.title | q), \(.portfolioID), \(.userID | q), \(t), \(t));"
  elif .operation == "CREATE_SECTION" then
    "INSERT INTO sections (id, title, portfolio_id, position, owner_id, created_at, updated_at) VALUES (\(.sectionID), \(.title | q), \(.portfolioID), \(.position), \(.userID | q), \(t), \(t));"
  elif .operation == "UPDATE_PORTFOLIO" then
    "UPDATE portfolios SET title = \(.title | q), updated_at = \(t) WHERE id = \(.portfolioID);"
  elif .operation == "UPDATE_CATEGORY_POSITION" then
    "UPDATE categories SET position = \(.newPosition), updated_at = \(t) WHERE id = \(.categoryID);"
  elif .operation == "UPDATE_SECTION_POSITION" then
    "UPDATE sections SET position = \(.newPosition), updated_at = \(t) WHERE id = \(.sectionID);"
  elif .operation == "BULK_REORDER_CATEGORIES" then
    . as $e | .items[] | "UPDATE categories SET position = \(.position), updated_at = \($e | t) WHERE id = \(.id);"
  elif .operation == "BULK_REORDER_SECTIONS" then
    . as $e | .items[] | "UPDATE sections SET position = \(.position), updated_at = \($e | t) WHERE id = \(.id);"
  elif .operation == "DELETE_PROJECT" then soft_delete("projects"; .projectID)
  elif .operation == "DELETE_SECTION_CONTENT" then soft_delete("section_contents"; .contentID)
  elif .operation == "DELETE_CATEGORY" then
    soft_delete("categories"; .categoryID), cascade("projects"; "category_id"; "= \(.categoryID)")
  elif .operation == "DELETE_SECTION" then
    soft_delete("sections"; .sectionID), cascade("section_contents"; "section_id"; "= \(.sectionID)")
  elif .operation == "DELETE_PORTFOLIO" then
    soft_delete("portfolios"; .portfolioID),
    cascade("categories"; "portfolio_id"; "= \(.portfolioID)"),
    cascade("projects"; "category_id"; "IN (SELECT id FROM categories WHERE portfolio_id = \(.portfolioID))"),
    cascade("sections"; "portfolio_id"; "= \(.portfolioID)"),
    cascade("section_contents"; "section_id"; "IN (SELECT id FROM sections WHERE portfolio_id = \(.portfolioID))")
  else empty
  end
