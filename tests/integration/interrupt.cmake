# Ctrl-C and SIGTERM mid-way through the long commands, against a real PostgreSQL.
auditpitr_add_test(pg_interrupt_tests SOURCES integration/interrupt_test.cpp integration/restore_fixture.cpp LIBS auditpitr_ops)
