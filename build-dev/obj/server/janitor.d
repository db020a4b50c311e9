build-dev/obj/server/janitor.o: server/janitor.c common/arena.h \
 common/clock.h server/daemon.h storage/db.h common/err.h \
 client/include/sbx/status.h storage/executions.h \
 build-dev/gen/sbx/v1/executions.pb-c.h \
 build-dev/gen/sbx/v1/common.pb-c.h storage/idempotency.h \
 server/janitor.h storage/sandboxes.h providers/provider.h \
 build-dev/gen/sbx/v1/sandboxes.pb-c.h server/services.h server/rpc.h \
 common/methods.h client/include/sbx/methods.def storage/tokens.h \
 build-dev/gen/sbx/v1/tokens.pb-c.h build-dev/gen/sbx/v1/settings.pb-c.h \
 storage/settings.h storage/fields.h
common/arena.h:
common/clock.h:
server/daemon.h:
storage/db.h:
common/err.h:
client/include/sbx/status.h:
storage/executions.h:
build-dev/gen/sbx/v1/executions.pb-c.h:
build-dev/gen/sbx/v1/common.pb-c.h:
storage/idempotency.h:
server/janitor.h:
storage/sandboxes.h:
providers/provider.h:
build-dev/gen/sbx/v1/sandboxes.pb-c.h:
server/services.h:
server/rpc.h:
common/methods.h:
client/include/sbx/methods.def:
storage/tokens.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
storage/settings.h:
storage/fields.h:
