# Integration tests: real PostgreSQL started by tests/support/test_cluster.
auditpitr_add_test(pg_verify_tests SOURCES integration/verify_pg_test.cpp LIBS auditpitr_verify)
# Checksums from a dump's own rows (the backup's single read) against a separate read.
auditpitr_add_test(pg_dump_checksum_tests SOURCES integration/dump_checksum_test.cpp LIBS auditpitr_verify)
# The verify command end to end: the built binary against databases and backups of the test server.
auditpitr_add_test(pg_verify_command_tests
  SOURCES integration/verify_command_test.cpp integration/backup_support.cpp
  LIBS auditpitr_ops)
