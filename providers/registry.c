/* The provider table. A provider exists in this build when it is listed
 * here; the database's catalogue says which are enabled. */
#include <stdio.h>
#include <string.h>

#include "provider.h"

extern const provider_ops local_provider;
extern const provider_ops docker_provider;

static const provider_ops *const drivers[] = {
	&local_provider,
	&docker_provider,
};

const provider_ops *provider_find(const char *id)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		if (strcmp(drivers[i]->id, id) == 0) {
			return drivers[i];
		}
	}
	return NULL;
}

const provider_ops *provider_at(size_t i)
{
	return i < sizeof(drivers) / sizeof(drivers[0]) ? drivers[i] : NULL;
}

sbx_status providers_init(const char *data_dir, err_t *e)
{
	sbx_status first = SBX_OK;
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		err_t pe;
		err_clear(&pe);
		if (drivers[i]->init != NULL && drivers[i]->init(data_dir, &pe) != SBX_OK) {
			/* Not fatal: that provider answers with the reason. */
			fprintf(stderr, "sbxd: provider %s unavailable: %s\n", drivers[i]->id, pe.message);
			if (first == SBX_OK) {
				first = pe.code;
				*e = pe;
			}
		}
	}
	return first;
}

sbx_status provider_unimplemented(const provider_ops *p, const char *op, err_t *e)
{
	return err_set(e, SBX_UNIMPLEMENTED, "provider \"%s\" does not support %s in this build",
		       p->id, op);
}
