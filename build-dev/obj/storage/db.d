build-dev/obj/storage/db.o: storage/db.c common/clock.h storage/db.h \
 common/err.h client/include/sbx/status.h storage/migrate.h
common/clock.h:
storage/db.h:
common/err.h:
client/include/sbx/status.h:
storage/migrate.h:
