build-dev/obj/server/rpc.o: server/rpc.c server/auth.h common/err.h \
 client/include/sbx/status.h storage/tokens.h common/arena.h \
 build-dev/gen/sbx/v1/tokens.pb-c.h common/clock.h storage/db.h \
 storage/idempotency.h server/rpc.h common/methods.h \
 client/include/sbx/methods.def server/services.h \
 build-dev/gen/sbx/v1/settings.pb-c.h common/wire.h server/workq.h \
 build-dev/gen/sbx/v1/rpc.pb-c.h
server/auth.h:
common/err.h:
client/include/sbx/status.h:
storage/tokens.h:
common/arena.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
common/clock.h:
storage/db.h:
storage/idempotency.h:
server/rpc.h:
common/methods.h:
client/include/sbx/methods.def:
server/services.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
common/wire.h:
server/workq.h:
build-dev/gen/sbx/v1/rpc.pb-c.h:
