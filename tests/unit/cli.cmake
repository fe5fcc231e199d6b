# The built binary's command line and messages where no server is needed: parse errors, global
# options, configuration messages, list on an empty folder.
auditpitr_add_test(unit_cli_tests SOURCES unit/cli_test.cpp LIBS auditpitr_ops)
