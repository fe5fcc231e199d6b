# The replay benchmark's workload generator (bench/replay_bench.sh runs it; not a test).
add_executable(replay_workload ${CMAKE_CURRENT_LIST_DIR}/replay_workload.cpp)
target_link_libraries(replay_workload PRIVATE auditpitr_replay_log)
