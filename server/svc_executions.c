/* Executions service: its methods are defined in proto/sbx/v1/executions.proto and answer
 * UNIMPLEMENTED until the service lands. */
#include "services.h"

sbx_status svc_executions_start(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Executions.Start");
}

sbx_status svc_executions_wait(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Executions.Wait");
}

sbx_status svc_executions_get(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Executions.Get");
}

sbx_status svc_executions_list(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Executions.List");
}

sbx_status svc_executions_read_output(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Executions.ReadOutput");
}

sbx_status svc_executions_cancel(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Executions.Cancel");
}

sbx_status svc_executions_cost(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Executions.Cost");
}
