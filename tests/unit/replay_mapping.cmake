# Mapping unit tests (replay/mapping): conventions, rules parsing, Mapper over a hand-made catalog (no server).
auditpitr_add_test(mapping_unit_tests
  SOURCES unit/replay/mapping/mapping_conventions_test.cpp unit/replay/mapping/mapping_rules_test.cpp
          unit/replay/mapping/mapping_test.cpp unit/replay/mapping/mapping_reference.cpp
          unit/replay/mapping/mapping_reference_test.cpp
  LIBS auditpitr_replay_mapping)
