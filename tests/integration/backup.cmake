# Backups against a real server: files, manifests, list, check, prune, failures, crashes.
auditpitr_add_test(pg_backup_tests
  SOURCES integration/backup_support.cpp integration/backup_test.cpp integration/backup_failure_test.cpp
          integration/list_check_prune_test.cpp integration/backup_set_test.cpp
          integration/files_archive_test.cpp
  LIBS auditpitr_ops)
# The disk-full backup: its own binary, since it needs root (a tmpfs mount) and exits 77 (skipped) without.
auditpitr_add_test(pg_backup_disk_full_tests
  SOURCES integration/backup_support.cpp integration/backup_disk_full_test.cpp LIBS auditpitr_ops)
# Encryption at rest with age: backup, check with and without the identity, restore, refusals.
auditpitr_add_test(pg_backup_encryption_tests
  SOURCES integration/backup_support.cpp integration/backup_encryption_test.cpp LIBS auditpitr_ops)
