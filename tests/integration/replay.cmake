# Replay against a real PostgreSQL (tests/support/test_cluster): the built binary on logs the tests write.
auditpitr_add_test(pg_replay_tests
  SOURCES integration/replay_pg_test.cpp integration/replay_crash_test.cpp integration/replay_order_test.cpp integration/replay_support.cpp
  LIBS auditpitr_ops)
