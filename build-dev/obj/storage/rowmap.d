build-dev/obj/storage/rowmap.o: storage/rowmap.c storage/db.h \
 common/err.h client/include/sbx/status.h storage/rowmap.h common/arena.h
storage/db.h:
common/err.h:
client/include/sbx/status.h:
storage/rowmap.h:
common/arena.h:
