build-dev/obj/storage/providers.o: storage/providers.c storage/db.h \
 common/err.h client/include/sbx/status.h storage/providers.h \
 common/arena.h storage/fields.h build-dev/gen/sbx/v1/providers.pb-c.h \
 storage/rowmap.h storage/secrets.h
storage/db.h:
common/err.h:
client/include/sbx/status.h:
storage/providers.h:
common/arena.h:
storage/fields.h:
build-dev/gen/sbx/v1/providers.pb-c.h:
storage/rowmap.h:
storage/secrets.h:
