# Database failures classified by SQLSTATE on a server answering in German (its own binary: it
# changes the server's lc_messages, and skips, or fails under AUDITPITR_REQUIRE_PG=1, without the locale).
auditpitr_add_test(pg_sqlstate_tests
  SOURCES integration/sqlstate_pg_test.cpp integration/restore_fixture.cpp integration/replay_support.cpp
  LIBS auditpitr_ops)
