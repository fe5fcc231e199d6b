# history and changes end to end: the built binary on the fixture application's logs, the schema
# read from a real PostgreSQL (tests/support/test_cluster).
auditpitr_add_test(pg_investigate_tests
  SOURCES integration/investigate_pg_test.cpp integration/replay_support.cpp
  LIBS auditpitr_ops)

# state: a backup made by auditpitr, logged events after it, the row read at several moments.
auditpitr_add_test(pg_state_tests
  SOURCES integration/state_pg_test.cpp integration/replay_support.cpp
  LIBS auditpitr_ops)

# lost: rows deleted and changed behind the logs' back, found, scripted and restored; the values it
# renders without PostgreSQL against the server's rendering; the fold's cascades over moved children.
auditpitr_add_test(pg_lost_tests
  SOURCES integration/lost_pg_test.cpp integration/render_pg_test.cpp integration/fold_cascade_test.cpp integration/replay_support.cpp
  LIBS auditpitr_ops)
