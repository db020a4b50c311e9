build-dev/obj/storage/settings.o: storage/settings.c storage/db.h \
 common/err.h client/include/sbx/status.h storage/rowmap.h common/arena.h \
 storage/settings.h storage/fields.h build-dev/gen/sbx/v1/settings.pb-c.h
storage/db.h:
common/err.h:
client/include/sbx/status.h:
storage/rowmap.h:
common/arena.h:
storage/settings.h:
storage/fields.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
