# Integration tests: real PostgreSQL started by tests/support/test_cluster.
auditpitr_add_test(pg_verify_tests SOURCES integration/verify_pg_test.cpp LIBS auditpitr_verify)
