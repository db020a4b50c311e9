build-dev/obj/server/sbxd.o: server/sbxd.c server/auth.h common/err.h \
 client/include/sbx/status.h storage/tokens.h common/arena.h \
 build-dev/gen/sbx/v1/tokens.pb-c.h common/clock.h server/daemon.h \
 storage/db.h server/events.h build-dev/gen/sbx/v1/events.pb-c.h \
 server/janitor.h common/paths.h providers/provider.h server/rpc.h \
 common/methods.h client/include/sbx/methods.def storage/secrets.h \
 server/runs.h storage/executions.h \
 build-dev/gen/sbx/v1/executions.pb-c.h \
 build-dev/gen/sbx/v1/common.pb-c.h server/services.h \
 build-dev/gen/sbx/v1/settings.pb-c.h common/wire.h
server/auth.h:
common/err.h:
client/include/sbx/status.h:
storage/tokens.h:
common/arena.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
common/clock.h:
server/daemon.h:
storage/db.h:
server/events.h:
build-dev/gen/sbx/v1/events.pb-c.h:
server/janitor.h:
common/paths.h:
providers/provider.h:
server/rpc.h:
common/methods.h:
client/include/sbx/methods.def:
storage/secrets.h:
server/runs.h:
storage/executions.h:
build-dev/gen/sbx/v1/executions.pb-c.h:
build-dev/gen/sbx/v1/common.pb-c.h:
server/services.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
common/wire.h:
