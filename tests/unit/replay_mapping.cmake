# Mapping unit tests: conventions, rules parsing, Mapper over a hand-made catalog (no server).
auditpitr_add_test(mapping_unit_tests
  SOURCES unit/mapping_conventions_test.cpp unit/mapping_rules_test.cpp unit/mapping_test.cpp
  LIBS auditpitr_replay)
