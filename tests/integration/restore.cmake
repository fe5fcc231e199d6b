# Restore and export against a real PostgreSQL (tests/support/test_cluster).
auditpitr_add_test(pg_restore_tests SOURCES integration/restore_test.cpp integration/restore_fixture.cpp LIBS auditpitr_ops)
auditpitr_add_test(pg_restore_crash_tests SOURCES integration/restore_crash_test.cpp integration/restore_fixture.cpp LIBS auditpitr_ops)
auditpitr_add_test(pg_restore_prompt_tests SOURCES integration/restore_prompt_test.cpp integration/restore_fixture.cpp LIBS auditpitr_ops)
auditpitr_add_test(pg_restore_server_tests SOURCES integration/restore_server_test.cpp integration/restore_fixture.cpp LIBS auditpitr_ops)
auditpitr_add_test(pg_kept_tests SOURCES integration/kept_test.cpp integration/restore_fixture.cpp LIBS auditpitr_ops)
