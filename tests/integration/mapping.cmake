# Mapping and analyze against a real PostgreSQL (tests/support/test_cluster).
auditpitr_add_test(pg_mapping_tests SOURCES integration/mapping_pg_test.cpp LIBS auditpitr_ops)
