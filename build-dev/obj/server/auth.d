build-dev/obj/server/auth.o: server/auth.c server/auth.h common/err.h \
 client/include/sbx/status.h storage/tokens.h common/arena.h \
 build-dev/gen/sbx/v1/tokens.pb-c.h common/clock.h storage/db.h
server/auth.h:
common/err.h:
client/include/sbx/status.h:
storage/tokens.h:
common/arena.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
common/clock.h:
storage/db.h:
