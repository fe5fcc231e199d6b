// A workload for recover and drill tests: each step is the audit line the application logs and
// the SQL by which the test makes the same change to the database itself (gorm's way: automatic
// timestamps, soft deletes cascading to the children still alive), so that the database's real
// state at any moment is known without auditpitr.
#pragma once

#include <string>
#include <vector>

#include "tests/integration/replay_support.h"

namespace auditpitr::test::workload {

/// One event of the workload: the line the application logs, and what it did to the database.
struct Step {
  LogLine line;
  std::string sql;
};

Step create_portfolio(const std::string& time, int id, const std::string& title);
Step create_category(const std::string& time, int id, int portfolio, const std::string& title);
Step update_portfolio(const std::string& time, int id, const std::string& owner, const std::string& title);
/// gorm's soft delete, and the cascades the rules file configures, to the children still alive.
Step delete_portfolio(const std::string& time, int id);
Step delete_category(const std::string& time, int id, int portfolio);

/// Appends the steps' lines to the audit logs in `audit_dir` (create/update/delete.log by operation).
void append_lines(const std::string& audit_dir, const std::vector<Step>& steps);

}  // namespace auditpitr::test::workload
