# Unit tests of the audit-log reader (replay/log: time_parse, log_line, log_files, log_reader, event_stream).
auditpitr_add_test(time_parse_test SOURCES unit/replay/log/time_parse_test.cpp LIBS auditpitr_replay_log)
auditpitr_add_test(log_line_test SOURCES unit/replay/log/log_line_test.cpp LIBS auditpitr_replay_log)
auditpitr_add_test(log_files_test SOURCES unit/replay/log/log_files_test.cpp LIBS auditpitr_replay_log)
auditpitr_add_test(log_reader_test SOURCES unit/replay/log/log_reader_test.cpp LIBS auditpitr_replay_log)
auditpitr_add_test(event_stream_test SOURCES unit/replay/log/event_stream_test.cpp LIBS auditpitr_replay_log)
# The -mavx2 object shares no inline function with code that runs on any CPU (see the script).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  add_test(NAME avx2_isolation_test
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/check-avx2-isolation ${CMAKE_NM} log_line_haswell.cpp
            $<TARGET_OBJECTS:auditpitr_replay_log> $<TARGET_OBJECTS:auditpitr_replay_mapping>
            $<TARGET_OBJECTS:auditpitr_util> $<TARGET_OBJECTS:auditpitr_core> $<TARGET_OBJECTS:auditpitr_verify>
            $<TARGET_OBJECTS:auditpitr_ops> $<TARGET_OBJECTS:auditpitr_cli>
    COMMAND_EXPAND_LISTS)
endif()
