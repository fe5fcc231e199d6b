# analyze over scripted events (src/ops/analyze*.cpp): no server.
auditpitr_add_test(analyze_unit_tests SOURCES unit/analyze_test.cpp LIBS auditpitr_ops)
