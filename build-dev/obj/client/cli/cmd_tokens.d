build-dev/obj/client/cli/cmd_tokens.o: client/cli/cmd_tokens.c \
 client/cli/commands.h client/cli/cli.h common/arena.h \
 client/include/sbx/sbx.h client/include/sbx/status.h \
 build-dev/gen/sbx/v1/agents.pb-c.h build-dev/gen/sbx/v1/events.pb-c.h \
 build-dev/gen/sbx/v1/executions.pb-c.h \
 build-dev/gen/sbx/v1/common.pb-c.h build-dev/gen/sbx/v1/health.pb-c.h \
 build-dev/gen/sbx/v1/providers.pb-c.h \
 build-dev/gen/sbx/v1/sandboxes.pb-c.h build-dev/gen/sbx/v1/server.pb-c.h \
 build-dev/gen/sbx/v1/settings.pb-c.h build-dev/gen/sbx/v1/tokens.pb-c.h \
 client/include/sbx/methods.def
client/cli/commands.h:
client/cli/cli.h:
common/arena.h:
client/include/sbx/sbx.h:
client/include/sbx/status.h:
build-dev/gen/sbx/v1/agents.pb-c.h:
build-dev/gen/sbx/v1/events.pb-c.h:
build-dev/gen/sbx/v1/executions.pb-c.h:
build-dev/gen/sbx/v1/common.pb-c.h:
build-dev/gen/sbx/v1/health.pb-c.h:
build-dev/gen/sbx/v1/providers.pb-c.h:
build-dev/gen/sbx/v1/sandboxes.pb-c.h:
build-dev/gen/sbx/v1/server.pb-c.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
client/include/sbx/methods.def:
