# Unit tests of the audit-log reader (replay/time_parse, log_line, log_files, log_reader, event_stream).
auditpitr_add_test(time_parse_test SOURCES unit/replay/time_parse_test.cpp LIBS auditpitr_replay)
auditpitr_add_test(log_line_test SOURCES unit/replay/log_line_test.cpp LIBS auditpitr_replay)
auditpitr_add_test(log_reader_test SOURCES unit/replay/log_reader_test.cpp LIBS auditpitr_replay)
auditpitr_add_test(event_stream_test SOURCES unit/replay/event_stream_test.cpp LIBS auditpitr_replay)
