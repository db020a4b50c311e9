/* sbx health, sbx info */
#include <stdio.h>
#include <string.h>

#include "commands.h"

int cmd_health(struct cli *c, int argc, char **argv)
{
	if (argc > 1) {
		return cli_usage("health [SERVICE]", "too many arguments");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__HealthCheckRequest req = SBX__V1__HEALTH_CHECK_REQUEST__INIT;
	req.service = argc == 1 ? argv[0] : "";
	Sbx__V1__HealthCheckResponse *resp = NULL;
	sbx_error e;
	if (sbx_health_check(c->client, &req, &resp, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	int serving = resp->status == SBX__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	if (c->json) {
		cli_print_json(&resp->base);
	} else {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
			&sbx__v1__health_check_response__serving_status__descriptor, resp->status);
		printf("%s\n", v ? v->name : "UNKNOWN");
	}
	sbx_free(resp);
	return serving ? 0 : 1;
}

int cmd_info(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 0) {
		return cli_usage("info", "no arguments expected");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__Empty req = SBX__V1__EMPTY__INIT;
	Sbx__V1__ServerInfoResponse *r = NULL;
	sbx_error e;
	if (sbx_server_info(c->client, &req, &r, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&r->base);
		sbx_free(r);
		return 0;
	}
	printf("version:      %s\n", r->version);
	printf("address:      %s\n", sbx_client_address(c->client));
	for (size_t i = 0; i < r->n_listen_addresses; i++) {
		printf("listening:    %s\n", r->listen_addresses[i]);
	}
	printf("events:       %s\n", r->event_address);
	printf("boot id:      %s\n", r->boot_id);
	printf("caller:       %s%s\n", r->caller, r->caller_is_admin ? " (admin)" : "");
	printf("max message:  %lld bytes\n", (long long)r->max_message_bytes);
	printf("reflection:   %zu-byte FileDescriptorSet\n", r->file_descriptor_set.len);
	printf("services:\n");
	for (size_t i = 0; i < r->n_services; i++) {
		int total = 0, ready = 0;
		for (size_t k = 0; k < r->n_methods; k++) {
			if (strncmp(r->methods[k]->name + 1, r->services[i], strlen(r->services[i])) == 0 &&
			    r->methods[k]->name[strlen(r->services[i]) + 1] == '/') {
				total++;
				ready += r->methods[k]->implemented;
			}
		}
		printf("  %-22s %d/%d methods implemented\n", r->services[i], ready, total);
	}
	sbx_free(r);
	return 0;
}
