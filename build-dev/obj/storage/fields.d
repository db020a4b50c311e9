build-dev/obj/storage/fields.o: storage/fields.c storage/db.h \
 common/err.h client/include/sbx/status.h storage/fields.h \
 storage/rowmap.h common/arena.h
storage/db.h:
common/err.h:
client/include/sbx/status.h:
storage/fields.h:
storage/rowmap.h:
common/arena.h:
