# Unit tests of the restore area (no server).
auditpitr_add_test(pg_restore_unit_tests SOURCES unit/pg_restore_test.cpp LIBS auditpitr_core)
