# Keep the old Makefile targets working on top of auditpitr: add `include contrib/auditpitr.mk`
# (the path to this file) to the application's Makefile (and remove the old db-* targets).
#   make db-backup                    -> auditpitr backup
#   make db-restore BACKUP=latest     -> auditpitr restore latest (asks for 'yes')
#   make db-list-backups              -> auditpitr list
AUDITPITR ?= auditpitr
AUDITPITR_CONFIG ?= auditpitr.toml
BACKUP ?= latest

.PHONY: db-backup db-restore db-list-backups db-check-backup
db-backup:
	$(AUDITPITR) -c $(AUDITPITR_CONFIG) backup
db-restore:
	$(AUDITPITR) -c $(AUDITPITR_CONFIG) restore $(BACKUP)
db-list-backups:
	$(AUDITPITR) -c $(AUDITPITR_CONFIG) list
db-check-backup:
	$(AUDITPITR) -c $(AUDITPITR_CONFIG) check $(BACKUP)
