/* The RPC method table shared by libsbx and sbxd (see client/include/sbx/methods.def). */
#ifndef SBX_COMMON_METHODS_H
#define SBX_COMMON_METHODS_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

enum sbx_method_flag {
	M_READONLY = 1u << 0,
	M_IDEMPOTENT = 1u << 1,
	M_ADMIN = 1u << 2,
	M_TXN = 1u << 3,
	M_NOAUTH = 1u << 4,
	M_SECRET_REPLY = 1u << 5,
	M_SLOW = 1u << 6,
};

typedef struct sbx_method_info {
	const char *name;        /* "/sbx.v1.Settings/Get" */
	const char *service;     /* "sbx.v1.Settings" */
	const char *method;      /* "Get" */
	const char *input_type;  /* "sbx.v1.GetSettingsRequest" */
	const char *output_type; /* "sbx.v1.SandboxSettings" */
	const ProtobufCServiceDescriptor *service_desc;
	unsigned flags;
} sbx_method_info;

enum sbx_method_id {
#define SBX_METHOD(Svc, svc, Meth, fn, In, Out, flags) SBX_MID_##fn,
#include "sbx/methods.def"
#undef SBX_METHOD
	SBX_MID_COUNT
};

extern const sbx_method_info sbx_methods[SBX_MID_COUNT];

/* The entry for a full method name (not NUL-terminated), or NULL. */
const sbx_method_info *sbx_method_find(const char *name, size_t len);

/* Input and output message descriptors from the protoc-c service
 * descriptor; NULL if the table and the .proto disagree. */
const ProtobufCMessageDescriptor *sbx_method_input(const sbx_method_info *m);
const ProtobufCMessageDescriptor *sbx_method_output(const sbx_method_info *m);

#endif
