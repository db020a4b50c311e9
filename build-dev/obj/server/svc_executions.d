build-dev/obj/server/svc_executions.o: server/svc_executions.c \
 common/clock.h server/daemon.h storage/db.h common/err.h \
 client/include/sbx/status.h server/events.h \
 build-dev/gen/sbx/v1/events.pb-c.h storage/executions.h common/arena.h \
 build-dev/gen/sbx/v1/executions.pb-c.h \
 build-dev/gen/sbx/v1/common.pb-c.h providers/provider.h server/runs.h \
 server/rpc.h common/methods.h client/include/sbx/methods.def \
 storage/tokens.h build-dev/gen/sbx/v1/tokens.pb-c.h storage/sandboxes.h \
 build-dev/gen/sbx/v1/sandboxes.pb-c.h server/services.h \
 build-dev/gen/sbx/v1/settings.pb-c.h common/wire.h
common/clock.h:
server/daemon.h:
storage/db.h:
common/err.h:
client/include/sbx/status.h:
server/events.h:
build-dev/gen/sbx/v1/events.pb-c.h:
storage/executions.h:
common/arena.h:
build-dev/gen/sbx/v1/executions.pb-c.h:
build-dev/gen/sbx/v1/common.pb-c.h:
providers/provider.h:
server/runs.h:
server/rpc.h:
common/methods.h:
client/include/sbx/methods.def:
storage/tokens.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
storage/sandboxes.h:
build-dev/gen/sbx/v1/sandboxes.pb-c.h:
server/services.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
common/wire.h:
