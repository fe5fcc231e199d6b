// mask_passwords: two patterns, applied only to error texts (never on a hot path).
#include "src/util/secrets.h"

#include <regex>

namespace auditpitr {

std::string mask_passwords(const std::string& text) {
  static const std::regex uri(R"(([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s"']*):[^@/?#\s"']*@)");
  static const std::regex keyword(R"((password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s'"]+))", std::regex::icase);
  std::string masked = std::regex_replace(text, uri, "$1:****@");
  return std::regex_replace(masked, keyword, "$1****");
}

}  // namespace auditpitr
