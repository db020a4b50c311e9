/* Where sbx keeps things, shared by the daemon and the CLI so that both
 * agree without configuration:
 *   data     $SBX_DATA_DIR, /var/lib/sbx as root, else $XDG_DATA_HOME/sbx
 *            or ~/.local/share/sbx
 *   runtime  $SBX_RUNTIME_DIR, /run/sbx as root, else $XDG_RUNTIME_DIR/sbx
 *            or /tmp/sbx-<uid>
 * All functions write a NUL-terminated path into buf and return 0, or -1
 * when it does not fit. */
#ifndef SBX_COMMON_PATHS_H
#define SBX_COMMON_PATHS_H

#include <stddef.h>

int paths_data_dir(char *buf, size_t cap);
int paths_runtime_dir(char *buf, size_t cap);
/* ipc://<runtime>/sbxd.sock and ipc://<runtime>/events.sock */
int paths_default_listen(char *buf, size_t cap);
int paths_default_events(char *buf, size_t cap);
/* <data>/admin.token */
int paths_admin_token(const char *data_dir, char *buf, size_t cap);

/* mkdir -p with `mode` for the directories it creates. 0 or -1 (errno). */
int paths_mkdirs(const char *path, unsigned mode);

#endif
