#include "daemon.h"

/* Filled by main() before the RPC server starts; read-only afterwards. */
struct daemon_info daemon_info;
