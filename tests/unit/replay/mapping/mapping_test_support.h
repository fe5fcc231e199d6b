// Shared by the mapping unit tests: Portfolio Manager's tables by hand, events from JSON text.
#pragma once

#include <simdjson.h>

#include <memory>
#include <string>

#include "replay/mapping/mapping.h"

namespace auditpitr::test {

inline replay::MappingCatalog portfolio_catalog() {
  std::vector<std::string> common = {"id", "created_at", "updated_at", "deleted_at"};
  auto shape = [&](const std::string& name, std::vector<std::string> extra) {
    verify::TableShape t{"public", name, common, {"id"}};
    t.columns.insert(t.columns.end(), extra.begin(), extra.end());
    return t;
  };
  return replay::MappingCatalog({
      shape("portfolios", {"title", "description", "owner_id"}),
      shape("categories", {"title", "description", "position", "owner_id", "portfolio_id"}),
      shape("projects", {"title", "description", "skills", "client", "link", "position", "owner_id", "category_id"}),
      shape("sections", {"title", "description", "type", "position", "owner_id", "portfolio_id"}),
      shape("section_contents", {"section_id", "type", "content", "order", "metadata", "owner_id"}),
      verify::TableShape{"public", "audit_notes", {"note"}, {}},  // no primary key, no timestamps
  });
}

/// An AuditEvent over its own padded copy of `json` (kept alive by the holder).
struct EventHolder {
  simdjson::padded_string text;
  std::string file = "update.log";
  std::string operation;
  replay::AuditEvent event;
  EventHolder(const std::string& op, const std::string& json, int64_t unix_seconds = 1736935200)
      : text(json), operation(op) {
    event.operation = operation;
    event.time = replay::TimePoint(std::chrono::seconds(unix_seconds));
    event.level = "info";
    event.json = std::string_view(text.data(), text.size());
    event.file = &file;
    event.line_number = 7;
  }
};

}  // namespace auditpitr::test
