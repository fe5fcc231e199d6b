# auditpitr status through the binary, against a real server's backups and audit logs written by the test.
auditpitr_add_test(pg_status_tests
  SOURCES integration/status_pg_test.cpp integration/replay_support.cpp
  LIBS auditpitr_ops)
