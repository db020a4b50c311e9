build-dev/obj/storage/migrate.o: storage/migrate.c storage/db.h \
 common/err.h client/include/sbx/status.h storage/migrate.h
storage/db.h:
common/err.h:
client/include/sbx/status.h:
storage/migrate.h:
