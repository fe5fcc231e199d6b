# libFuzzer target for the audit-log line parser (scripts/fuzz-smoke builds and runs it).
add_executable(log_line_fuzz ${CMAKE_CURRENT_LIST_DIR}/log_line_fuzz.cpp)
target_compile_options(log_line_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_options(log_line_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_libraries(log_line_fuzz PRIVATE auditpitr_replay_log)
