// Workload steps for recover and drill tests (workload_support.h).
#include "tests/integration/workload_support.h"

#include <fstream>
#include <stdexcept>

namespace auditpitr::test::workload {
namespace {

std::string quoted(const std::string& time) { return "'" + time + "'"; }

}  // namespace

Step create_portfolio(const std::string& t, int id, const std::string& title) {
  return {{"CREATE_PORTFOLIO", t,
           "\"portfolioID\":" + std::to_string(id) + ",\"title\":\"" + title + "\",\"userID\":\"user-carol\""},
          "INSERT INTO portfolios (id, title, owner_id, created_at, updated_at) VALUES (" + std::to_string(id) + ", '" +
              title + "', 'user-carol', " + quoted(t) + ", " + quoted(t) + ")"};
}

Step create_category(const std::string& t, int id, int portfolio, const std::string& title) {
  return {{"CREATE_CATEGORY", t,
           "\"categoryID\":" + std::to_string(id) + ",\"portfolioID\":" + std::to_string(portfolio) + ",\"title\":\"" +
               title + "\",\"userID\":\"user-carol\""},
          "INSERT INTO categories (id, title, owner_id, portfolio_id, created_at, updated_at) VALUES (" +
              std::to_string(id) + ", '" + title + "', 'user-carol', " + std::to_string(portfolio) + ", " + quoted(t) +
              ", " + quoted(t) + ")"};
}

Step update_portfolio(const std::string& t, int id, const std::string& owner, const std::string& title) {
  return {
      {"UPDATE_PORTFOLIO", t,
       "\"portfolioID\":" + std::to_string(id) + ",\"title\":\"" + title + "\",\"userID\":\"" + owner + "\""},
      "UPDATE portfolios SET title = '" + title + "', updated_at = " + quoted(t) + " WHERE id = " + std::to_string(id)};
}

Step delete_portfolio(const std::string& t, int id) {
  std::string p = std::to_string(id);
  return {{"DELETE_PORTFOLIO", t, "\"portfolioID\":" + p + ",\"userID\":\"user-carol\""},
          "UPDATE portfolios SET deleted_at = " + quoted(t) + " WHERE id = " + p +
              " AND deleted_at IS NULL;"
              "WITH c AS (UPDATE categories SET deleted_at = " +
              quoted(t) + " WHERE portfolio_id = " + p +
              " AND deleted_at IS NULL RETURNING id) "
              "UPDATE projects SET deleted_at = " +
              quoted(t) +
              " WHERE category_id IN (SELECT id FROM c) AND deleted_at IS NULL;"
              "WITH s AS (UPDATE sections SET deleted_at = " +
              quoted(t) + " WHERE portfolio_id = " + p +
              " AND deleted_at IS NULL RETURNING id) "
              "UPDATE section_contents SET deleted_at = " +
              quoted(t) + " WHERE section_id IN (SELECT id FROM s) AND deleted_at IS NULL"};
}

Step delete_category(const std::string& t, int id, int portfolio) {
  std::string c = std::to_string(id);
  return {{"DELETE_CATEGORY", t,
           "\"categoryID\":" + c + ",\"portfolioID\":" + std::to_string(portfolio) + ",\"userID\":\"user-alice\""},
          "UPDATE categories SET deleted_at = " + quoted(t) + " WHERE id = " + c +
              " AND deleted_at IS NULL;"
              "UPDATE projects SET deleted_at = " +
              quoted(t) + " WHERE category_id = " + c + " AND deleted_at IS NULL"};
}

void append_lines(const std::string& audit_dir, const std::vector<Step>& steps) {
  for (const auto& step : steps) {
    std::ofstream out(audit_dir + "/" + log_file_for(step.line.operation), std::ios::app);
    out << audit_line(step.line);
    if (!out) throw std::runtime_error("cannot append to the audit logs in " + audit_dir);
  }
}

}  // namespace auditpitr::test::workload
