build-dev/obj/common/methods.o: common/methods.c common/methods.h \
 client/include/sbx/methods.def build-dev/gen/sbx/v1/agents.pb-c.h \
 build-dev/gen/sbx/v1/executions.pb-c.h \
 build-dev/gen/sbx/v1/common.pb-c.h build-dev/gen/sbx/v1/health.pb-c.h \
 build-dev/gen/sbx/v1/providers.pb-c.h \
 build-dev/gen/sbx/v1/sandboxes.pb-c.h build-dev/gen/sbx/v1/server.pb-c.h \
 build-dev/gen/sbx/v1/settings.pb-c.h build-dev/gen/sbx/v1/tokens.pb-c.h
common/methods.h:
client/include/sbx/methods.def:
build-dev/gen/sbx/v1/agents.pb-c.h:
build-dev/gen/sbx/v1/executions.pb-c.h:
build-dev/gen/sbx/v1/common.pb-c.h:
build-dev/gen/sbx/v1/health.pb-c.h:
build-dev/gen/sbx/v1/providers.pb-c.h:
build-dev/gen/sbx/v1/sandboxes.pb-c.h:
build-dev/gen/sbx/v1/server.pb-c.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
