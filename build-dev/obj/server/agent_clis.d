build-dev/obj/server/agent_clis.o: server/agent_clis.c \
 server/agent_clis.h build-dev/gen/sbx/v1/executions.pb-c.h \
 build-dev/gen/sbx/v1/common.pb-c.h
server/agent_clis.h:
build-dev/gen/sbx/v1/executions.pb-c.h:
build-dev/gen/sbx/v1/common.pb-c.h:
