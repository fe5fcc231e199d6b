// How operations tell the command line what they are doing, without knowing about terminals.
#pragma once

#include <functional>
#include <string>

namespace auditpitr::ops {

struct Reporter {
  std::function<void(const std::string&)> info = [](const std::string&) {};
  std::function<void(const std::string&)> success = [](const std::string&) {};
  std::function<void(const std::string&)> warning = [](const std::string&) {};
  /// Transient progress ("dumping portfolio_db: 120M"); may be called often.
  std::function<void(const std::string&)> progress = [](const std::string&) {};
};

}  // namespace auditpitr::ops
