# The audit-log reader's and the mapper's benchmark driver (bench/log_reader_bench.sh runs it; not a test).
add_executable(log_scan ${CMAKE_CURRENT_LIST_DIR}/log_scan.cpp)
target_link_libraries(log_scan PRIVATE auditpitr_replay_log auditpitr_replay_mapping)
