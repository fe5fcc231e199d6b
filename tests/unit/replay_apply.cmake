# Unit tests of the replay engine (replay/apply): the applier loop against an in-memory sink, the
# statements' text. No server: tests/integration/replay_*.cpp run the same against PostgreSQL.
auditpitr_add_test(replay_apply_unit_tests
  SOURCES unit/replay/apply/applier_test.cpp unit/replay/apply/row_statement_test.cpp
  LIBS auditpitr_replay_apply)
