build-dev/obj/storage/tokens.o: storage/tokens.c storage/db.h \
 common/err.h client/include/sbx/status.h storage/tokens.h common/arena.h \
 build-dev/gen/sbx/v1/tokens.pb-c.h
storage/db.h:
common/err.h:
client/include/sbx/status.h:
storage/tokens.h:
common/arena.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
