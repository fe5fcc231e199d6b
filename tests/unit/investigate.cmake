# history (and the other investigations) over the fixture application's logs and generated lines: no server.
auditpitr_add_test(investigate_unit_tests SOURCES unit/history_test.cpp unit/changes_test.cpp unit/row_map_test.cpp unit/row_fields_test.cpp unit/compact_folding_test.cpp LIBS auditpitr_ops)
