build-dev/obj/server/svc_agents.o: server/svc_agents.c \
 server/agent_clis.h build-dev/gen/sbx/v1/executions.pb-c.h \
 build-dev/gen/sbx/v1/common.pb-c.h storage/agents.h common/arena.h \
 common/err.h client/include/sbx/status.h storage/fields.h \
 build-dev/gen/sbx/v1/agents.pb-c.h server/events.h \
 build-dev/gen/sbx/v1/events.pb-c.h server/runs.h storage/executions.h \
 providers/provider.h server/rpc.h common/methods.h \
 client/include/sbx/methods.def storage/tokens.h \
 build-dev/gen/sbx/v1/tokens.pb-c.h storage/sandboxes.h \
 build-dev/gen/sbx/v1/sandboxes.pb-c.h storage/secrets.h \
 server/services.h build-dev/gen/sbx/v1/settings.pb-c.h \
 storage/settings.h
server/agent_clis.h:
build-dev/gen/sbx/v1/executions.pb-c.h:
build-dev/gen/sbx/v1/common.pb-c.h:
storage/agents.h:
common/arena.h:
common/err.h:
client/include/sbx/status.h:
storage/fields.h:
build-dev/gen/sbx/v1/agents.pb-c.h:
server/events.h:
build-dev/gen/sbx/v1/events.pb-c.h:
server/runs.h:
storage/executions.h:
providers/provider.h:
server/rpc.h:
common/methods.h:
client/include/sbx/methods.def:
storage/tokens.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
storage/sandboxes.h:
build-dev/gen/sbx/v1/sandboxes.pb-c.h:
storage/secrets.h:
server/services.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
storage/settings.h:
