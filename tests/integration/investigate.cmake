# history and changes end to end: the built binary on the fixture application's logs, the schema
# read from a real PostgreSQL (tests/support/test_cluster).
auditpitr_add_test(pg_investigate_tests
  SOURCES integration/investigate_pg_test.cpp integration/replay_support.cpp
  LIBS auditpitr_ops)
