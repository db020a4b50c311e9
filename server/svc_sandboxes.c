/* Sandboxes service: its methods are defined in proto/sbx/v1/sandboxes.proto and answer
 * UNIMPLEMENTED until the service lands. */
#include "services.h"

sbx_status svc_sandboxes_create(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.Create");
}

sbx_status svc_sandboxes_get(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.Get");
}

sbx_status svc_sandboxes_list(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.List");
}

sbx_status svc_sandboxes_start(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.Start");
}

sbx_status svc_sandboxes_stop(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.Stop");
}

sbx_status svc_sandboxes_restart(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.Restart");
}

sbx_status svc_sandboxes_pause(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.Pause");
}

sbx_status svc_sandboxes_resume(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.Resume");
}

sbx_status svc_sandboxes_destroy(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.Destroy");
}

sbx_status svc_sandboxes_clean(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.Clean");
}

sbx_status svc_sandboxes_set_env(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.SetEnv");
}

sbx_status svc_sandboxes_add_volume(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.AddVolume");
}

sbx_status svc_sandboxes_remove_volume(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.RemoveVolume");
}

sbx_status svc_templates_create(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.CreateTemplate");
}

sbx_status svc_templates_get(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.GetTemplate");
}

sbx_status svc_templates_list(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.ListTemplates");
}

sbx_status svc_templates_delete(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Sandboxes.DeleteTemplate");
}
