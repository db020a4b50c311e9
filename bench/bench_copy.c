/* Copies: a 256 MiB tar archive into a native sandbox and back out through
 * sbxd (libsbx's parts, the daemon's staging, tar in the sandbox) against
 * tar(1) unpacking and packing the same archive on the host; rounds taken
 * in turns, medians reported. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "harness.h"

#define FILE_MB 256
#define ROUNDS 3

static struct daemon d;

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "bench: failed: %s\n", cmd);
		exit(1);
	}
}

/* MB/s of `bytes` moved in `us`. */
static double mbps(double bytes, double us)
{
	return bytes / us;
}

int main(void)
{
	if (harness_start(&d) != 0) {
		return 1;
	}
	harness_cleanup_at_exit(&d);
	sbx_options o = {.address = d.addr, .token = d.admin_token, .timeout_ms = 120000};
	sbx_client *c = NULL;
	if (sbx_connect(&c, &o, NULL) != SBX_OK) {
		return 1;
	}
	char sandbox[64];
	snprintf(sandbox, sizeof(sandbox), "%s", harness_sandbox(c, "copies", 0, 0, NULL));
	char cmd[2048], tar[400], host_dir[400], out_tar[400];
	snprintf(tar, sizeof(tar), "%s/in.tar", d.dir);
	snprintf(out_tar, sizeof(out_tar), "%s/out.tar", d.dir);
	snprintf(host_dir, sizeof(host_dir), "%s/host", d.dir);
	/* Random bytes: nothing on either path gets to skip work. */
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/src/data %s && head -c %dM /dev/urandom > %s/src/data/blob && tar -C %s/src -cf %s data",
		 d.dir, host_dir, FILE_MB, d.dir, d.dir, tar);
	sh(cmd);
	struct stat st;
	stat(tar, &st);
	double bytes = (double)st.st_size;

	double in_ours[ROUNDS], in_raw[ROUNDS], out_ours[ROUNDS], out_raw[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		int fd = open(tar, O_RDONLY | O_CLOEXEC);
		sbx_error e;
		double t0 = bench_now_us();
		if (sbx_copy_in_fd(c, sandbox, "/workspace", fd, &e) != SBX_OK) {
			fprintf(stderr, "bench: copy in: %s\n", e.message);
			return 1;
		}
		in_ours[r] = mbps(bytes, bench_now_us() - t0);
		close(fd);

		snprintf(cmd, sizeof(cmd), "tar -x -f %s -C %s", tar, host_dir);
		t0 = bench_now_us();
		sh(cmd);
		in_raw[r] = mbps(bytes, bench_now_us() - t0);

		fd = open(out_tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		t0 = bench_now_us();
		if (sbx_copy_out_fd(c, sandbox, "/workspace/data", fd, &e) != SBX_OK) {
			fprintf(stderr, "bench: copy out: %s\n", e.message);
			return 1;
		}
		out_ours[r] = mbps(bytes, bench_now_us() - t0);
		close(fd);

		snprintf(cmd, sizeof(cmd), "tar -c -f %s -C %s data", out_tar, host_dir);
		t0 = bench_now_us();
		sh(cmd);
		out_raw[r] = mbps(bytes, bench_now_us() - t0);
	}
	/* What came out is what went in. */
	snprintf(cmd, sizeof(cmd), "rm -rf %s/check && mkdir %s/check && tar -x -f %s -C %s/check && cmp %s/check/data/blob %s/src/data/blob",
		 d.dir, d.dir, out_tar, d.dir, d.dir, d.dir);
	sh(cmd);
	printf("bench: a %d MiB tar archive into a native sandbox and out, median of %d rounds, vs tar(1) on the host\n",
	       FILE_MB, ROUNDS);
	bench_report("copy_in_throughput", bench_percentile(in_ours, ROUNDS, 0.5), bench_percentile(in_raw, ROUNDS, 0.5),
		     "MB/s");
	bench_report("copy_out_throughput", bench_percentile(out_ours, ROUNDS, 0.5),
		     bench_percentile(out_raw, ROUNDS, 0.5), "MB/s");
	sbx_disconnect(c);
	harness_cleanup(&d);
	return 0;
}
