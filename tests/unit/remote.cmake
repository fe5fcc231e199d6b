# Off-site stores without a remote: [[remotes]] configuration, RcloneStore's argv through a recording runner,
# push and pull over an in-memory store that damages copies.
auditpitr_add_test(unit_remote_tests SOURCES unit/remote_store_test.cpp LIBS auditpitr_ops)
