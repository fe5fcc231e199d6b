# Off-site copies (push, pull, list --remote, prune --remote) through the real rclone: a local folder
# remote, and rclone serve webdav / sftp on 127.0.0.1; real backups of a real server.
auditpitr_add_test(pg_remote_tests
  SOURCES integration/backup_support.cpp integration/remote_test.cpp
  LIBS auditpitr_ops)
