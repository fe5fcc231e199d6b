# Mapping: conventions, rules file, catalog validation, event JSON, coverage; the audit source
# analyze reads through (over the reader).
list(APPEND AUDITPITR_REPLAY_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/mapping_conventions.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mapping_catalog.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mapping_rules.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mapping_rules_validate.cpp
  ${CMAKE_CURRENT_LIST_DIR}/event_json.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mapping.cpp
  ${CMAKE_CURRENT_LIST_DIR}/coverage.cpp
  ${CMAKE_CURRENT_LIST_DIR}/log_audit_source.cpp
)
