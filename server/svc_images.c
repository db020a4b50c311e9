/* Images for native sandboxes: root filesystems imported from tarballs
 * into <data>/images/<name>/rootfs, shared read-only by every sandbox that
 * uses them (each writes to its own overlay layer). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "db.h"
#include "services.h"
#include "sbx/v1/sandboxes.pb-c.h"

static int valid_image_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128 || strcmp(s, "host") == 0 || !isalnum((unsigned char)s[0])) {
		return 0;
	}
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && strchr("._-:", *s) == NULL) {
			return 0;
		}
	}
	return 1;
}

static __thread int64_t tree_bytes;

static int add_size(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)p;
	(void)ftw;
	if (flag == FTW_F) {
		tree_bytes += sb->st_size;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void remove_tree(const char *dir)
{
	nftw(dir, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Extracts with GNU tar, which refuses absolute and ".." member names;
 * ownership is kept (--numeric-owner) since sandboxes run as their users. */
static sbx_status extract(rpc_call *call, const char *tar_path, const char *dir)
{
	char *argv[] = {"tar", "-x", "-f", (char *)tar_path, "-C", (char *)dir, "--numeric-owner",
			"--same-permissions", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	int rc = posix_spawn(&pid, "/bin/tar", &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		return RPC_FAIL(call, SBX_FAILED_PRECONDITION, "cannot run tar: %s", strerror(rc));
	}
	int st = 0;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "tar_path", "%s is not a readable tar archive",
				 tar_path);
	}
	return SBX_OK;
}

/* Images named `name` ("" = all) into `list`; NOT_FOUND naming the field
 * when a named one does not exist. */
static sbx_status image_rows(rpc_call *call, const char *name, Sbx__V1__ListImagesResponse *list)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(call->db,
				  "SELECT i.name, i.provider, i.size_bytes, i.created_at, coalesce(i.created_by,''),"
				  " (SELECT count(*) FROM sandboxes s WHERE s.image = i.name AND s.status != 'terminated')"
				  " FROM images i WHERE (?1 = '' OR i.name = ?1) ORDER BY i.name",
				  &st, &call->err);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int found = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		Sbx__V1__Image *im = ARENA_MSG(call->arena, Sbx__V1__Image, sbx__v1__image__init);
		if (im == NULL) {
			break;
		}
		im->name = arena_strdup(call->arena, db_text(st, 0));
		im->provider = arena_strdup(call->arena, db_text(st, 1));
		im->size_bytes = sqlite3_column_int64(st, 2);
		im->created_at = arena_strdup(call->arena, db_text(st, 3));
		im->created_by = arena_strdup(call->arena, db_text(st, 4));
		im->sandboxes = sqlite3_column_int(st, 5);
		arena_append(call->arena, (void ***)&list->images, &list->n_images, im);
		found = 1;
	}
	sqlite3_finalize(st);
	if (name[0] != '\0' && !found) {
		return RPC_FIELD(call, SBX_NOT_FOUND, "name", "no image \"%.128s\"", name);
	}
	return SBX_OK;
}

sbx_status svc_images_import(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__ImportImageRequest *r = (const Sbx__V1__ImportImageRequest *)req;
	if (!valid_image_name(r->name)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "name",
				 "1-128 letters, digits, '.', '_', '-' or ':', not \"host\"");
	}
	struct stat st;
	if (r->tar_path[0] != '/' || stat(r->tar_path, &st) != 0 || !S_ISREG(st.st_mode)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "tar_path",
				 "must be an absolute path to a tar file on the daemon's host");
	}
	char dir[1200], tmp[1300], rootfs[1400], final[1300];
	snprintf(dir, sizeof(dir), "%s/images", daemon_info.data_dir);
	mkdir(dir, 0711);
	snprintf(final, sizeof(final), "%s/%s", dir, r->name);
	if (stat(final, &st) == 0) {
		return RPC_FIELD(call, SBX_ALREADY_EXISTS, "name", "image \"%s\" already exists", r->name);
	}
	unsigned char rnd[6];
	char hex[13];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(tmp, sizeof(tmp), "%s/.import-%s", dir, hex);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmp);
	if (mkdir(tmp, 0711) != 0 || mkdir(rootfs, 0755) != 0 || chmod(rootfs, 0755) != 0) {
		return RPC_FAIL(call, SBX_INTERNAL, "mkdir %s: %s", rootfs, strerror(errno));
	}
	sbx_status s = extract(call, r->tar_path, rootfs);
	tree_bytes = 0;
	if (s == SBX_OK) {
		nftw(rootfs, add_size, 32, FTW_PHYS | FTW_MOUNT);
		sqlite3_stmt *ins;
		s = db_prepare(call->db, "INSERT INTO images(name, size_bytes, created_by) VALUES(?1, ?2, ?3)",
			       &ins, &call->err);
		if (s == SBX_OK) {
			sqlite3_bind_text(ins, 1, r->name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 2, tree_bytes);
			sqlite3_bind_text(ins, 3, call->caller.user, -1, SQLITE_STATIC);
			int rc = sqlite3_step(ins);
			sqlite3_finalize(ins);
			s = rc == SQLITE_DONE ? SBX_OK : db_error(call->db, rc, "images", &call->err);
		}
	}
	/* The directory appears under its name only once complete. */
	if (s == SBX_OK && rename(tmp, final) != 0) {
		s = RPC_FAIL(call, SBX_INTERNAL, "rename %s: %s", final, strerror(errno));
		sqlite3_stmt *del;
		if (db_prepare(call->db, "DELETE FROM images WHERE name = ?1", &del, NULL) == SBX_OK) {
			sqlite3_bind_text(del, 1, r->name, -1, SQLITE_STATIC);
			sqlite3_step(del);
			sqlite3_finalize(del);
		}
	}
	if (s != SBX_OK) {
		remove_tree(tmp);
		return s;
	}
	Sbx__V1__ListImagesResponse one = SBX__V1__LIST_IMAGES_RESPONSE__INIT;
	s = image_rows(call, r->name, &one);
	if (s == SBX_OK) {
		svc_announce(call, "events.images.", "image.imported", r->name, NULL, 0);
		*resp = &one.images[0]->base;
	}
	return s;
}

sbx_status svc_images_list(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	Sbx__V1__ListImagesResponse *out =
		ARENA_MSG(call->arena, Sbx__V1__ListImagesResponse, sbx__v1__list_images_response__init);
	*resp = &out->base;
	return image_rows(call, "", out);
}

sbx_status svc_images_delete(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__ImageRef *r = (const Sbx__V1__ImageRef *)req;
	Sbx__V1__ListImagesResponse one = SBX__V1__LIST_IMAGES_RESPONSE__INIT;
	sbx_status s = image_rows(call, r->name, &one);
	if (s != SBX_OK) {
		return s;
	}
	Sbx__V1__Image *im = one.images[0];
	if (im->sandboxes > 0) {
		return RPC_FIELD(call, SBX_FAILED_PRECONDITION, "name",
				 "image \"%s\" is used by %d sandbox(es): remove them first", im->name,
				 im->sandboxes);
	}
	sqlite3_stmt *del;
	if ((s = db_prepare(call->db, "DELETE FROM images WHERE name = ?1", &del, &call->err)) != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(del, 1, r->name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(del);
	sqlite3_finalize(del);
	if (rc != SQLITE_DONE) {
		return db_error(call->db, rc, "images", &call->err);
	}
	char dir[1300];
	snprintf(dir, sizeof(dir), "%s/images/%s", daemon_info.data_dir, r->name);
	remove_tree(dir);
	svc_announce(call, "events.images.", "image.deleted", r->name, NULL, 0);
	*resp = &ARENA_MSG(call->arena, Sbx__V1__Empty, sbx__v1__empty__init)->base;
	return SBX_OK;
}
