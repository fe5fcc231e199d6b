# recover against a real PostgreSQL (tests/support/test_cluster): the built binary, a backup, a
# workload applied by the test with its audit lines, and the states recorded on the way.
auditpitr_add_test(pg_recover_tests
  SOURCES integration/recover_pg_test.cpp integration/drill_pg_test.cpp integration/replay_support.cpp
          integration/workload_support.cpp
  LIBS auditpitr_ops)
