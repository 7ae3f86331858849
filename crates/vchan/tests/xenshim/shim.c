/*
 * Replacement libxenstore.so.4, libxengnttab.so.1 and libxenevtchn.so.1 for running Debian's
 * unmodified libxenvchan without Xen, on the on-disk layout of unistack-vchan's `linux`
 * backend (see crates/vchan/src/linux.rs):
 *
 *   $UNISTACK_VCHAN_ROOT/grants/<d>/<p>/<ref>    a 4096-byte page file, mapped MAP_SHARED
 *   $UNISTACK_VCHAN_ROOT/events/<d>/<p>/<port>   a Unix datagram socket (4 bytes = one event)
 *   $UNISTACK_VCHAN_ROOT/events/<d>/<p>/<port>.peer   the binder's own port, in decimal
 *   $UNISTACK_VCHAN_ROOT/store/<key>             a store value
 *
 * This process is domain $UNISTACK_VCHAN_DOMID. The same source builds all three libraries;
 * each exports only its own symbols (version scripts VERS_4.0 / VERS_1.0, as the real ones).
 * Test code only: errors come back as NULL/-1 with errno, as the real libraries do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define PAGE 4096

static const char *root(void)
{
	const char *r = getenv("UNISTACK_VCHAN_ROOT");
	return r ? r : "/dev/shm/unistack-vchan";
}

static int self(void)
{
	const char *d = getenv("UNISTACK_VCHAN_DOMID");
	return d ? atoi(d) : 0;
}

/* mkdir -p of the directory part of `path`. */
static void mkdirs(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			mkdir(buf, 0700);
			*p = '/';
		}
	}
}

static void port_path(char *out, size_t n, int owner, int peer, uint32_t port, const char *ext)
{
	snprintf(out, n, "%s/events/%d/%d/%u%s", root(), owner, peer, port, ext);
}

/* Send one event from our `port` (bound towards `peer`) to the port at `path`. */
static int send_event(uint32_t port, const char *path)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	uint8_t b[4] = {port, port >> 8, port >> 16, port >> 24};
	ssize_t r = sendto(fd, b, 4, 0, (struct sockaddr *)&a, sizeof a);
	close(fd);
	/* A full queue means an event is pending already; a missing peer is no one to tell. */
	if (r < 0 && errno != EAGAIN && errno != ENOENT && errno != ECONNREFUSED)
		return -1;
	return 0;
}

/* Notify the other end of our port `port` towards `peer` (who bound to it, or whom we
 * bound to: `remote` >= 0). */
static int notify_port(int peer, uint32_t port, int remote)
{
	char path[PATH_MAX];
	if (remote < 0) {
		port_path(path, sizeof path, self(), peer, port, ".peer");
		FILE *f = fopen(path, "r");
		if (!f)
			return 0; /* not bound yet */
		if (fscanf(f, "%d", &remote) != 1)
			remote = -1;
		fclose(f);
		if (remote < 0)
			return 0;
	}
	port_path(path, sizeof path, peer, self(), remote, "");
	return send_event(port, path);
}

/* ------------------------------------------------------------------ libxenstore.so.4 */
#ifdef SHIM_XENSTORE

typedef uint32_t xs_transaction_t;
struct xs_handle {
	int unused;
};
struct xs_permissions {
	unsigned int id;
	int perms;
};

static void store_path(char *out, size_t n, const char *key)
{
	if (key[0] == '/')
		snprintf(out, n, "%s/store/%s", root(), key + 1);
	else /* relative to the domain's home, as xenstored resolves it */
		snprintf(out, n, "%s/store/local/domain/%d/%s", root(), self(), key);
}

struct xs_handle *xs_open(unsigned long flags)
{
	(void)flags;
	return calloc(1, sizeof(struct xs_handle));
}

void xs_close(struct xs_handle *h)
{
	free(h);
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len)
{
	(void)h;
	(void)t;
	char p[PATH_MAX];
	store_path(p, sizeof p, path);
	FILE *f = fopen(p, "r");
	if (!f) {
		if (strcmp(path, "domid") == 0) {
			char *v = malloc(16);
			if (!v)
				return NULL;
			int n = snprintf(v, 16, "%d", self());
			if (len)
				*len = n;
			return v;
		}
		errno = ENOENT;
		return NULL;
	}
	char *v = malloc(4097);
	size_t n = v ? fread(v, 1, 4096, f) : 0;
	fclose(f);
	if (!v)
		return NULL;
	v[n] = 0;
	if (len)
		*len = n;
	return v;
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data,
	      unsigned int len)
{
	(void)h;
	(void)t;
	char p[PATH_MAX], tmp[PATH_MAX + 32];
	store_path(p, sizeof p, path);
	mkdirs(p);
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", p, getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return false;
	bool ok = fwrite(data, 1, len, f) == len;
	ok = (fclose(f) == 0) && ok;
	return ok && rename(tmp, p) == 0;
}

static int rm_tree(const char *p)
{
	struct stat st;
	if (lstat(p, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(p);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
	return system(cmd) == 0 ? 0 : -1;
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	(void)h;
	(void)t;
	char p[PATH_MAX];
	store_path(p, sizeof p, path);
	return rm_tree(p) == 0;
}

/* Permissions are not modelled (neither does the Rust backend). */
bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t, const char *path,
			struct xs_permissions *perms, unsigned int num)
{
	(void)h;
	(void)t;
	(void)path;
	(void)perms;
	(void)num;
	return true;
}

/* Each write is atomic on its own (rename); a transaction is just a scope here. */
xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
	(void)h;
	return 1;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
	(void)h;
	(void)t;
	(void)abort;
	return true;
}

#endif

/* ------------------------------------------------------------------ libxengnttab.so.1 */
#ifdef SHIM_GNTTAB

/* A mapping or a share, with Xen's unmap notification: on unmap/unshare the byte at
 * `notify_off` is cleared and an event is sent on `notify_port`. */
struct region {
	struct region *next;
	uint8_t *addr;
	uint32_t count;
	int peer;
	int64_t notify_off;
	int64_t notify_port;
	uint32_t *refs; /* shares: the files to unlink */
};

typedef struct xengnttab_handle {
	struct region *regions;
} xengnttab_handle;
typedef struct xengntshr_handle {
	struct region *regions;
} xengntshr_handle;

static void grant_path(char *out, size_t n, int owner, int peer, uint32_t ref)
{
	snprintf(out, n, "%s/grants/%d/%d/%u", root(), owner, peer, ref);
}

/* Map `count` page files at consecutive addresses. */
static uint8_t *map_files(const int *fds, uint32_t count, int prot)
{
	uint8_t *base = mmap(NULL, (size_t)count * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	for (uint32_t i = 0; i < count; i++) {
		void *p = mmap(base + (size_t)i * PAGE, PAGE, prot, MAP_SHARED | MAP_FIXED, fds[i], 0);
		if (p == MAP_FAILED) {
			munmap(base, (size_t)count * PAGE);
			return NULL;
		}
	}
	return base;
}

#include <dirent.h>

/* The port the other end uses with our `port`: from our `.peer` file when it bound to us,
 * or, when we bound to it, the name of its port whose `.peer` file names ours. */
static int find_remote(int peer, uint32_t port)
{
	char path[PATH_MAX];
	port_path(path, sizeof path, self(), peer, port, ".peer");
	FILE *f = fopen(path, "r");
	int remote = -1;
	if (f) {
		if (fscanf(f, "%d", &remote) != 1)
			remote = -1;
		fclose(f);
		return remote;
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/events/%d/%d", root(), peer, self());
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	while (remote < 0 && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".peer") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *pf = fopen(path, "r");
		unsigned mine;
		if (pf && fscanf(pf, "%u", &mine) == 1 && mine == port)
			remote = atoi(e->d_name);
		if (pf)
			fclose(pf);
	}
	closedir(d);
	return remote;
}

/* Xen's unmap notification: clear the byte, send the event. */
static void notify_region(struct region *r)
{
	if (r->notify_off >= 0 && (uint64_t)r->notify_off < (uint64_t)r->count * PAGE)
		__atomic_store_n(r->addr + r->notify_off, 0, __ATOMIC_SEQ_CST);
	if (r->notify_port >= 0) {
		int remote = find_remote(r->peer, (uint32_t)r->notify_port);
		if (remote >= 0)
			notify_port(r->peer, (uint32_t)r->notify_port, remote);
	}
}

static struct region *take_region(struct region **list, void *addr)
{
	for (struct region **p = list; *p; p = &(*p)->next) {
		if ((*p)->addr == addr) {
			struct region *r = *p;
			*p = r->next;
			return r;
		}
	}
	return NULL;
}

xengnttab_handle *xengnttab_open(void *logger, unsigned int flags)
{
	(void)logger;
	(void)flags;
	return calloc(1, sizeof(xengnttab_handle));
}

int xengnttab_close(xengnttab_handle *h)
{
	if (!h)
		return 0;
	while (h->regions) {
		struct region *r = h->regions;
		h->regions = r->next;
		munmap(r->addr, (size_t)r->count * PAGE);
		free(r);
	}
	free(h);
	return 0;
}

static void *map_refs(xengnttab_handle *h, uint32_t count, int domid, const uint32_t *refs,
		      int prot, int64_t notify_off, int64_t notify_port)
{
	int *fds = calloc(count, sizeof(int));
	struct region *r = calloc(1, sizeof *r);
	if (!fds || !r) {
		free(fds);
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	uint32_t opened = 0;
	uint8_t *addr = NULL;
	for (; opened < count; opened++) {
		char path[PATH_MAX];
		grant_path(path, sizeof path, domid, self(), refs[opened]);
		fds[opened] = open(path, O_RDWR | O_CLOEXEC);
		if (fds[opened] < 0)
			goto out;
	}
	addr = map_files(fds, count, prot);
out:
	for (uint32_t i = 0; i < opened; i++)
		close(fds[i]);
	free(fds);
	if (!addr) {
		free(r);
		errno = EINVAL;
		return NULL;
	}
	r->addr = addr;
	r->count = count;
	r->peer = domid;
	r->notify_off = notify_off;
	r->notify_port = notify_port;
	r->next = h->regions;
	h->regions = r;
	return addr;
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *h, uint32_t count, uint32_t domid,
				      uint32_t *refs, int prot)
{
	return map_refs(h, count, (int)domid, refs, prot, -1, -1);
}

void *xengnttab_map_grant_ref_notify(xengnttab_handle *h, uint32_t domid, uint32_t ref,
				     int prot, uint32_t notify_offset, uint32_t notify_port)
{
	return map_refs(h, 1, (int)domid, &ref, prot, notify_offset, notify_port);
}

int xengnttab_unmap(xengnttab_handle *h, void *start, uint32_t count)
{
	struct region *r = take_region(&h->regions, start);
	if (!r || r->count != count) {
		errno = EINVAL;
		return -1;
	}
	notify_region(r);
	munmap(r->addr, (size_t)count * PAGE);
	free(r);
	return 0;
}

xengntshr_handle *xengntshr_open(void *logger, unsigned int flags)
{
	(void)logger;
	(void)flags;
	return calloc(1, sizeof(xengntshr_handle));
}

static void unshare_region(struct region *r)
{
	notify_region(r);
	munmap(r->addr, (size_t)r->count * PAGE);
	for (uint32_t i = 0; i < r->count; i++) {
		char path[PATH_MAX];
		grant_path(path, sizeof path, self(), r->peer, r->refs[i]);
		unlink(path);
	}
	free(r->refs);
	free(r);
}

int xengntshr_close(xengntshr_handle *h)
{
	if (!h)
		return 0;
	while (h->regions) {
		struct region *r = h->regions;
		h->regions = r->next;
		unshare_region(r);
	}
	free(h);
	return 0;
}

static uint32_t next_ref = 8;

static void *share(xengntshr_handle *h, uint32_t domid, int count, uint32_t *refs,
		   int64_t notify_off, int64_t notify_port)
{
	if (count <= 0) {
		errno = EINVAL;
		return NULL;
	}
	int *fds = calloc(count, sizeof(int));
	struct region *r = calloc(1, sizeof *r);
	uint32_t *mine = calloc(count, sizeof(uint32_t));
	if (!fds || !r || !mine)
		goto fail;
	int made = 0;
	for (; made < count; made++) {
		for (;;) {
			char path[PATH_MAX];
			uint32_t ref = next_ref++;
			grant_path(path, sizeof path, self(), (int)domid, ref);
			mkdirs(path);
			int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			if (fd < 0 && errno == EEXIST)
				continue;
			if (fd < 0 || ftruncate(fd, PAGE) != 0) {
				if (fd >= 0)
					close(fd);
				goto fail_files;
			}
			fds[made] = fd;
			mine[made] = ref;
			break;
		}
	}
	uint8_t *addr = map_files(fds, count, PROT_READ | PROT_WRITE);
	for (int i = 0; i < made; i++)
		close(fds[i]);
	free(fds);
	fds = NULL;
	if (!addr)
		goto fail_unlink;
	memcpy(refs, mine, count * sizeof(uint32_t));
	r->addr = addr;
	r->count = count;
	r->peer = (int)domid;
	r->notify_off = notify_off;
	r->notify_port = notify_port;
	r->refs = mine;
	r->next = h->regions;
	h->regions = r;
	return addr;
fail_files:
	for (int i = 0; i < made; i++)
		close(fds[i]);
fail_unlink:
	for (int i = 0; i < made; i++) {
		char path[PATH_MAX];
		grant_path(path, sizeof path, self(), (int)domid, mine[i]);
		unlink(path);
	}
fail:
	free(fds);
	free(r);
	free(mine);
	errno = ENOMEM;
	return NULL;
}

void *xengntshr_share_pages(xengntshr_handle *h, uint32_t domid, int count, uint32_t *refs,
			    int writable)
{
	(void)writable;
	return share(h, domid, count, refs, -1, -1);
}

void *xengntshr_share_page_notify(xengntshr_handle *h, uint32_t domid, uint32_t *ref,
				  int writable, uint32_t notify_offset,
				  uint32_t notify_port)
{
	(void)writable;
	return share(h, domid, 1, ref, notify_offset, notify_port);
}

int xengntshr_unshare(xengntshr_handle *h, void *start_address, uint32_t count)
{
	struct region *r = take_region(&h->regions, start_address);
	if (!r || r->count != count) {
		errno = EINVAL;
		return -1;
	}
	unshare_region(r);
	return 0;
}

#endif

/* ------------------------------------------------------------------ libxenevtchn.so.1 */
#ifdef SHIM_EVTCHN

#define MAX_PORTS 16

struct port {
	uint32_t port;
	int peer;
	int remote; /* the peer's port when we bound to it, else -1 (read its .peer file) */
	int fd;
	char path[PATH_MAX];
};

typedef struct xenevtchn_handle {
	struct port ports[MAX_PORTS];
	int n;
} xenevtchn_handle;

typedef int xenevtchn_port_or_error_t;
typedef uint32_t evtchn_port_t;

static uint32_t next_port = 1;

xenevtchn_handle *xenevtchn_open(void *logger, unsigned int flags)
{
	(void)logger;
	(void)flags;
	return calloc(1, sizeof(xenevtchn_handle));
}

static void drop_port(struct port *p)
{
	close(p->fd);
	unlink(p->path);
	char peer_file[PATH_MAX + 8];
	snprintf(peer_file, sizeof peer_file, "%s.peer", p->path);
	unlink(peer_file);
}

int xenevtchn_close(xenevtchn_handle *h)
{
	if (!h)
		return 0;
	for (int i = 0; i < h->n; i++)
		drop_port(&h->ports[i]);
	free(h);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *h)
{
	return h->n > 0 ? h->ports[0].fd : -1;
}

static struct port *new_port(xenevtchn_handle *h, int peer)
{
	if (h->n >= MAX_PORTS) {
		errno = ENOSPC;
		return NULL;
	}
	struct port *p = &h->ports[h->n];
	for (;;) {
		uint32_t port = next_port++;
		port_path(p->path, sizeof p->path, self(), peer, port, "");
		mkdirs(p->path);
		int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return NULL;
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		snprintf(a.sun_path, sizeof a.sun_path, "%s", p->path);
		if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
			int e = errno;
			close(fd);
			if (e == EADDRINUSE)
				continue;
			errno = e;
			return NULL;
		}
		char peer_file[PATH_MAX + 8];
		snprintf(peer_file, sizeof peer_file, "%s.peer", p->path);
		unlink(peer_file);
		p->port = port;
		p->peer = peer;
		p->remote = -1;
		p->fd = fd;
		h->n++;
		return p;
	}
}

static struct port *find_port(xenevtchn_handle *h, uint32_t port)
{
	for (int i = 0; i < h->n; i++)
		if (h->ports[i].port == port)
			return &h->ports[i];
	return NULL;
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *h, uint32_t domid)
{
	struct port *p = new_port(h, (int)domid);
	return p ? (int)p->port : -1;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *h, uint32_t domid,
						     evtchn_port_t remote_port)
{
	char target[PATH_MAX], peer_file[PATH_MAX + 8], tmp[PATH_MAX + 32];
	port_path(target, sizeof target, (int)domid, self(), remote_port, "");
	snprintf(peer_file, sizeof peer_file, "%s.peer", target);
	if (access(target, F_OK) != 0 || access(peer_file, F_OK) == 0) {
		errno = EINVAL;
		return -1;
	}
	struct port *p = new_port(h, (int)domid);
	if (!p)
		return -1;
	p->remote = (int)remote_port;
	snprintf(tmp, sizeof tmp, "%s.%d", peer_file, getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%u", p->port);
	fclose(f);
	if (rename(tmp, peer_file) != 0)
		return -1;
	send_event(p->port, target);
	return (int)p->port;
}

int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	for (int i = 0; i < h->n; i++) {
		if (h->ports[i].port == port) {
			drop_port(&h->ports[i]);
			h->ports[i] = h->ports[--h->n];
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	struct port *p = find_port(h, port);
	if (!p) {
		errno = EINVAL;
		return -1;
	}
	return notify_port(p->peer, p->port, p->remote);
}

/* Block until an event arrives on the first port; several queued are one. */
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
	if (h->n == 0) {
		errno = EINVAL;
		return -1;
	}
	struct port *p = &h->ports[0];
	uint8_t b[16];
	for (;;) {
		ssize_t r = recv(p->fd, b, sizeof b, 0);
		if (r >= 0)
			break;
		if (errno != EINTR)
			return -1;
	}
	while (recv(p->fd, b, sizeof b, MSG_DONTWAIT) >= 0) {
	}
	return (int)p->port;
}

int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	(void)h;
	(void)port;
	return 0;
}

#endif
