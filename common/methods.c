#include <string.h>

#include "methods.h"
#include "sbx/v1/agents.pb-c.h"
#include "sbx/v1/executions.pb-c.h"
#include "sbx/v1/health.pb-c.h"
#include "sbx/v1/providers.pb-c.h"
#include "sbx/v1/sandboxes.pb-c.h"
#include "sbx/v1/server.pb-c.h"
#include "sbx/v1/settings.pb-c.h"
#include "sbx/v1/tokens.pb-c.h"

const sbx_method_info sbx_methods[SBX_MID_COUNT] = {
#define SBX_METHOD(Svc, svc, Meth, fn, In, Out, fl)                                \
	{"/sbx.v1." #Svc "/" #Meth, "sbx.v1." #Svc, #Meth, "sbx.v1." #In,         \
	 "sbx.v1." #Out, &sbx__v1__##svc##__descriptor, (fl)},
#include "sbx/methods.def"
#undef SBX_METHOD
};

const sbx_method_info *sbx_method_find(const char *name, size_t len)
{
	for (size_t i = 0; i < SBX_MID_COUNT; i++) {
		const char *n = sbx_methods[i].name;
		if (strlen(n) == len && memcmp(n, name, len) == 0) {
			return &sbx_methods[i];
		}
	}
	return NULL;
}

static const ProtobufCMethodDescriptor *method_desc(const sbx_method_info *m)
{
	return protobuf_c_service_descriptor_get_method_by_name(m->service_desc,
								 m->method);
}

const ProtobufCMessageDescriptor *sbx_method_input(const sbx_method_info *m)
{
	const ProtobufCMethodDescriptor *d = method_desc(m);
	if (d == NULL || strcmp(d->input->name, m->input_type) != 0) {
		return NULL;
	}
	return d->input;
}

const ProtobufCMessageDescriptor *sbx_method_output(const sbx_method_info *m)
{
	const ProtobufCMethodDescriptor *d = method_desc(m);
	if (d == NULL || strcmp(d->output->name, m->output_type) != 0) {
		return NULL;
	}
	return d->output;
}
