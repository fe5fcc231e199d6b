# The README's main command, end to end (it starts its own throwaway server).
auditpitr_add_test(pg_demo_tests SOURCES integration/demo_test.cpp LIBS auditpitr_ops)
