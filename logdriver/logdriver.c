//go:build ignore

/*
 * minilet-log-driver: the logging binary containerd's shim runs for each of
 * minilet's containers.
 *
 * The shim starts it with the container's stdout on fd 3, stderr on fd 4
 * and a pipe on fd 5 that it closes once the log file is open (the
 * shim's "ready" signal), and passes its arguments as key, value pairs in
 * no fixed order:
 *
 *   minilet-log-driver log-driver /var/log/pods/ns_web_uid/app/0.log \
 *       --max-size 10485760 --max-files 5
 *
 * It writes every line of both streams to the file as a CRI log record,
 *
 *   2026-11-26T01:02:03.456789Z stdout F text
 *
 * and rotates the file by size, exactly as minilet's Go writer
 * (pkg/containerlog) does; logdriver_test.go checks the two against each
 * other. It is C, single-threaded and static so that each container's
 * logs cost well under 1 MiB of memory; the Go writer stays as the
 * fallback (`minilet log-driver`) where this program is not installed.
 *
 * Lines end at "\n"; a "\r\n" ending is dropped whole. A line longer than
 * 16 KiB is cut into 16 KiB pieces tagged P (partial); its last piece is
 * tagged F. Text left without a newline when a stream ends is one more P
 * record. The file is opened for appending; when it cannot be opened or
 * written, records are dropped (and counted) and the file is tried again
 * a second later, so the container never finds its output without a
 * reader. On SIGTERM (the shim stops the driver after the container
 * exited) the streams are read for up to 5 more seconds.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { STDOUT_FD = 3, STDERR_FD = 4, READY_FD = 5 };

#define DEFAULT_MAX_SIZE (10LL << 20)
#define DEFAULT_MAX_FILES 5
#define MAX_LINE 16384             /* longest text of one record */
#define READ_SIZE 65536            /* bytes read from a stream at once */
#define FLUSH_AT 65536             /* pending records written at this size */
#define RETRY_NS 1000000000LL      /* a failed file is tried again after */
#define DRAIN_NS 5000000000LL      /* reading on after SIGTERM */
#define PARTIAL_FLUSH_MS 100       /* a line without its newline waits this long */
#define ROTATED_SUFFIX_LEN 22      /* 20060102-150405.000000 */
#define KUBELET_SUFFIX_LEN 15      /* 20060102-150405 */

/* options are the driver's arguments. */
struct options {
	const char *path;
	long long max_size; /* 0: never rotate */
	int max_files;      /* files kept, the current one included */
	const char *stdin_path;  /* the container's stdin fifo, or NULL */
	const char *attach_path; /* the socket attach clients write stdin to */
	int stdin_once;          /* stdin closes when the first client leaves */
	long long partial_flush_ms; /* 0: text without a newline waits for it */
};

/* writer appends records to the log file and rotates it. */
struct writer {
	struct options o;
	int fd;             /* -1 while the file is unusable */
	long long size;
	int64_t retry_at;   /* fd < 0: when to open the file again */
	int64_t rotate_at;  /* a failed rotation is tried again from then on */
	int partial;        /* the file ends with a cut record */
	unsigned long long dropped;
	char last_err[512];
	char *buf;          /* pending records, not yet written */
	size_t cap, blen;
	unsigned long long bcount; /* records in buf */
};

/* stream is one of the container's outputs. */
struct stream {
	int fd;             /* -1 once it ended */
	const char *name;   /* "stdout" or "stderr" */
	char *line;         /* text of the current line, not yet written */
	size_t len;
	int64_t held_at;    /* when line began to hold text; 0 when it holds none */
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL) {
		fputs("log-driver: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

/*
 * format_time writes t as Go's time.RFC3339Nano in the local zone:
 * 2006-01-02T15:04:05.999999999Z07:00 (fraction without trailing zeros,
 * none at all when zero; "Z" for UTC).
 */
static size_t format_time(char *out, size_t n, int64_t t)
{
	time_t sec = (time_t)(t / 1000000000LL);
	long nsec = (long)(t % 1000000000LL);
	struct tm tm;
	localtime_r(&sec, &tm);
	size_t k = (size_t)snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (nsec > 0) {
		char frac[10];
		snprintf(frac, sizeof frac, "%09ld", nsec);
		int end = 9;
		while (end > 0 && frac[end - 1] == '0')
			end--;
		frac[end] = '\0';
		k += (size_t)snprintf(out + k, n - k, ".%s", frac);
	}
	long off = tm.tm_gmtoff;
	if (off == 0) {
		k += (size_t)snprintf(out + k, n - k, "Z");
	} else {
		char sign = off < 0 ? '-' : '+';
		if (off < 0)
			off = -off;
		k += (size_t)snprintf(out + k, n - k, "%c%02ld:%02ld", sign, off / 3600, (off / 60) % 60);
	}
	return k;
}

static void set_err(struct writer *w, const char *what, const char *path, int err)
{
	snprintf(w->last_err, sizeof w->last_err, "%s %s: %s", what, path, strerror(err));
}

/* open_file opens the log for appending and learns its size. */
static int open_file(struct writer *w)
{
	int fd = open(w->o.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		set_err(w, "open", w->o.path, errno);
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		set_err(w, "stat", w->o.path, errno);
		close(fd);
		return -1;
	}
	w->fd = fd;
	w->size = st.st_size;
	return 0;
}

/* ready tells whether the file is open, opening it again once due. */
static int ready(struct writer *w, int64_t now)
{
	if (w->fd >= 0)
		return 1;
	if (now < w->retry_at)
		return 0;
	if (open_file(w) < 0) {
		w->retry_at = now + RETRY_NS;
		return 0;
	}
	return 1;
}

/* rotated_name writes a free name for the file rotated at t (UTC). */
static int rotated_name(const struct writer *w, int64_t t, char *out, size_t n)
{
	int64_t us = t / 1000;
	for (int i = 0; i < 1000; i++, us++) {
		time_t sec = (time_t)(us / 1000000);
		struct tm tm;
		gmtime_r(&sec, &tm);
		int k = snprintf(out, n, "%s.%04d%02d%02d-%02d%02d%02d.%06ld", w->o.path,
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			(long)(us % 1000000));
		if (k < 0 || (size_t)k >= n)
			return -1;
		struct stat st;
		if (lstat(out, &st) < 0 && errno == ENOENT)
			return 0;
	}
	return -1;
}

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

static int days_in(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (month == 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
		return 29;
	return days[month - 1];
}

/*
 * rotated_key parses the time suffix of a rotated file (ours, or the
 * kubelet's without a fraction) into a sortable key; 0 when it is none.
 */
static int rotated_key(const char *suffix, long long *key)
{
	size_t n = strlen(suffix);
	int y, mo, d, h, mi, s, us = 0;
	if (n != ROTATED_SUFFIX_LEN && n != KUBELET_SUFFIX_LEN)
		return 0;
	if (!digits(suffix, 4, &y) || !digits(suffix + 4, 2, &mo) || !digits(suffix + 6, 2, &d) ||
	    suffix[8] != '-' || !digits(suffix + 9, 2, &h) || !digits(suffix + 11, 2, &mi) ||
	    !digits(suffix + 13, 2, &s))
		return 0;
	if (n == ROTATED_SUFFIX_LEN && (suffix[15] != '.' || !digits(suffix + 16, 6, &us)))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo) || h > 23 || mi > 59 || s > 59)
		return 0;
	*key = ((((((long long)y * 100 + mo) * 100 + d) * 100 + h) * 100 + mi) * 100 + s) * 1000000LL + us;
	return 1;
}

struct rotated {
	long long key;
	char *name;
};

static int cmp_rotated(const void *a, const void *b)
{
	const struct rotated *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* prune removes the oldest rotated files so that at most keep remain. */
static void prune(struct writer *w, int keep)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(w->o.path, '/');
	size_t dlen = (size_t)(slash - w->o.path);
	if (dlen == 0)
		dlen = 1; /* the file is in / */
	if (dlen >= sizeof dir)
		return;
	memcpy(dir, w->o.path, dlen);
	dir[dlen] = '\0';
	const char *base = slash + 1;
	size_t blen = strlen(base);

	DIR *dp = opendir(dir);
	if (dp == NULL) {
		set_err(w, "list rotated logs of", w->o.path, errno);
		return;
	}
	struct rotated *list = NULL;
	size_t count = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(dp)) != NULL) {
		long long key;
		if (strncmp(e->d_name, base, blen) != 0 || e->d_name[blen] != '.' ||
		    !rotated_key(e->d_name + blen + 1, &key))
			continue;
		if (e->d_type != DT_REG) {
			struct stat st;
			if (e->d_type != DT_UNKNOWN || fstatat(dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
		}
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			struct rotated *grown = realloc(list, cap * sizeof *list);
			if (grown == NULL)
				break;
			list = grown;
		}
		list[count].key = key;
		list[count].name = strdup(e->d_name);
		if (list[count].name == NULL)
			break;
		count++;
	}
	qsort(list, count, sizeof *list, cmp_rotated);
	for (size_t i = 0; i < count; i++) {
		if (count - i > (size_t)(keep > 0 ? keep : 0) && unlinkat(dirfd(dp), list[i].name, 0) < 0 &&
		    errno != ENOENT)
			set_err(w, "remove old log", list[i].name, errno);
		free(list[i].name);
	}
	free(list);
	closedir(dp);
}

/*
 * maybe_rotate rotates the file when n more bytes would take it over the
 * maximum: the file is renamed with a time suffix, the oldest rotated
 * files are removed and a new file is opened.
 */
static void maybe_rotate(struct writer *w, int64_t now, long long n)
{
	if (w->o.max_size <= 0 || w->size == 0 || w->size + n <= w->o.max_size || now < w->rotate_at)
		return;
	char name[PATH_MAX];
	if (rotated_name(w, now, name, sizeof name) < 0) {
		snprintf(w->last_err, sizeof w->last_err, "rotate %s: no free rotated name", w->o.path);
		w->rotate_at = now + RETRY_NS;
		return;
	}
	if (rename(w->o.path, name) < 0) {
		set_err(w, "rotate", w->o.path, errno);
		w->rotate_at = now + RETRY_NS;
		return;
	}
	close(w->fd);
	w->fd = -1;
	w->partial = 0;
	prune(w, w->o.max_files - 1);
	if (open_file(w) < 0)
		w->retry_at = now + RETRY_NS;
}

/*
 * write_record appends records. A write that fails halfway is cut off
 * again, so that the file holds whole records; when even that fails, the
 * next record starts on a new line.
 */
static int write_record(struct writer *w, const char *b, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t k = write(w->fd, b + done, n - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int err = k < 0 ? errno : EIO;
			if (done > 0 && ftruncate(w->fd, w->size) < 0) {
				w->size += (long long)done;
				w->partial = b[done - 1] != '\n';
			}
			set_err(w, "write", w->o.path, err);
			return -1;
		}
		done += (size_t)k;
	}
	w->size += (long long)n;
	w->partial = 0;
	return 0;
}

/*
 * flush writes the pending records with one write. When that fails, the
 * file is closed and tried again a second later, and the records are
 * dropped.
 */
static void flush(struct writer *w, int64_t now)
{
	if (w->blen == 0)
		return;
	if (write_record(w, w->buf, w->blen) < 0) {
		close(w->fd);
		w->fd = -1;
		w->retry_at = now + RETRY_NS;
		w->dropped += w->bcount;
	}
	w->blen = 0;
	w->bcount = 0;
}

/*
 * record adds one record of stream, timestamped now, to the pending ones.
 * Records are written in batches (what one read of a stream gave, up to
 * FLUSH_AT bytes) rather than one system call each; the file gets the same
 * bytes, rotated at the same records, as if each were written alone.
 */
static void record(struct writer *w, const char *stream, int partial, const char *text, size_t len)
{
	int64_t now = now_ns();
	if (w->buf == NULL) {
		w->cap = FLUSH_AT + MAX_LINE + 256;
		w->buf = xmalloc(w->cap);
	}
	char head[96];
	size_t h = format_time(head, 64, now);
	h += (size_t)sprintf(head + h, " %s %c ", stream, partial ? 'P' : 'F');
	size_t k = h + len + 1;
	if (!ready(w, now)) {
		w->dropped++;
		return;
	}
	/* The rotation is decided on the file as it would be with every
	 * pending record written. */
	size_t lead = (w->blen == 0 && w->partial) ? 1 : 0;
	if (w->blen > 0 && w->o.max_size > 0 && w->size + (long long)(w->blen + k) > w->o.max_size) {
		flush(w, now);
		lead = w->partial ? 1 : 0;
	}
	if (w->fd >= 0)
		maybe_rotate(w, now, (long long)(lead + k));
	if (w->fd < 0) {
		w->dropped++;
		return;
	}
	lead = (w->blen == 0 && w->partial) ? 1 : 0; /* a rotation starts clean */
	char *b = w->buf + w->blen;
	if (lead)
		*b++ = '\n';
	memcpy(b, head, h);
	memcpy(b + h, text, len);
	b[h + len] = '\n';
	w->blen += lead + k;
	w->bcount++;
	if (w->blen >= FLUSH_AT)
		flush(w, now);
}

/* held_text is how much of a stream's line could be written now: all of
 * it but a trailing "\r", which may be the start of a "\r\n" ending. */
static size_t held_text(const struct stream *s)
{
	return s->len - (s->len > 0 && s->line[s->len - 1] == '\r' ? 1 : 0);
}

/*
 * feed splits n bytes of a stream into records. Pieces of MAX_LINE bytes
 * are written as soon as a line is known to be longer; a "\r" at the end
 * of what has come so far is held back, as it may be the start of a
 * "\r\n" ending.
 */
static void feed(struct writer *w, struct stream *s, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		size_t off = 0;
		while (take - off > 0) {
			/* s->len <= MAX_LINE + 1 here: room for one byte at least. */
			size_t room = MAX_LINE + 2 - s->len;
			size_t c = take - off < room ? take - off : room;
			memcpy(s->line + s->len, p + off, c);
			s->len += c;
			off += c;
			/* Hold at most MAX_LINE bytes, plus a trailing '\r'. */
			size_t held = s->len - (s->line[s->len - 1] == '\r' ? 1 : 0);
			if (held > MAX_LINE) {
				record(w, s->name, 1, s->line, MAX_LINE);
				s->len -= MAX_LINE;
				memmove(s->line, s->line + MAX_LINE, s->len);
			}
		}
		if (nl == NULL) {
			if (s->held_at == 0 && held_text(s) > 0)
				s->held_at = now_ns();
			return;
		}
		size_t len = s->len;
		if (len > 0 && s->line[len - 1] == '\r')
			len--;
		record(w, s->name, 0, s->line, len);
		s->len = 0;
		s->held_at = 0;
		p = nl + 1;
		n -= take + 1;
	}
}

/*
 * flush_held writes the text a stream has held for partial_flush_ms without
 * its newline as a partial record, so that a prompt, or a container's last
 * words before it fails (`echo -n DONE; false`), reach the log while the
 * shim still holds the pipe open. The rest of the line follows as more
 * records; a reader joins them.
 */
static void flush_held(struct writer *w, struct stream *s)
{
	size_t n = held_text(s);
	if (n > 0) {
		record(w, s->name, 1, s->line, n);
		memmove(s->line, s->line + n, s->len - n);
		s->len -= n;
	}
	s->held_at = 0;
}

/* finish writes what is left of a stream that ended, as partial records. */
static void finish(struct writer *w, struct stream *s)
{
	size_t off = 0;
	while (s->len - off > MAX_LINE) {
		record(w, s->name, 1, s->line + off, MAX_LINE);
		off += MAX_LINE;
	}
	if (s->len > off)
		record(w, s->name, 1, s->line + off, s->len - off);
	s->len = 0;
	s->held_at = 0;
	close(s->fd);
	s->fd = -1;
}

/* relay carries attach clients' input to the container's stdin fifo. */
struct relay {
	int in_fd;      /* the fifo's writing end; -1 once stdin is closed */
	int listen_fd;  /* the attach socket; -1 when none */
	int client_fd;  /* the attached client; -1 when none */
	const char *path;
	int once;
	char buf[READ_SIZE];
	size_t len, off; /* bytes read from the client, not yet in the fifo */
};

static void relay_close(struct relay *r)
{
	if (r->client_fd >= 0)
		close(r->client_fd);
	if (r->listen_fd >= 0) {
		close(r->listen_fd);
		unlink(r->path);
	}
	if (r->in_fd >= 0)
		close(r->in_fd);
	r->client_fd = r->listen_fd = r->in_fd = -1;
	r->len = r->off = 0;
}

/* relay_open opens the fifo (the shim's reader waits for it) and the
 * socket. */
static int relay_open(struct relay *r, const struct options *o)
{
	r->in_fd = r->listen_fd = r->client_fd = -1;
	r->len = r->off = 0;
	r->path = o->attach_path;
	r->once = o->stdin_once;
	if (o->stdin_path == NULL)
		return 0;
	r->in_fd = open(o->stdin_path, O_WRONLY | O_CLOEXEC);
	if (r->in_fd < 0) {
		fprintf(stderr, "log driver: open stdin %s: %s\n", o->stdin_path, strerror(errno));
		return -1;
	}
	fcntl(r->in_fd, F_SETFL, O_NONBLOCK);
	if (r->path == NULL)
		return 0;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(r->path) >= sizeof a.sun_path) {
		fprintf(stderr, "log driver: attach socket path too long: %s\n", r->path);
		return -1;
	}
	strcpy(a.sun_path, r->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	unlink(r->path);
	mode_t old = umask(0077);
	int err = bind(fd, (struct sockaddr *)&a, sizeof a);
	umask(old);
	if (err < 0 || listen(fd, 4) < 0) {
		fprintf(stderr, "log driver: attach socket %s: %s\n", r->path, strerror(errno));
		close(fd);
		return -1;
	}
	r->listen_fd = fd;
	return 0;
}

/* relay_flush writes what is pending into the fifo, as far as it takes
 * it. */
static void relay_flush(struct relay *r)
{
	while (r->in_fd >= 0 && r->off < r->len) {
		ssize_t k = write(r->in_fd, r->buf + r->off, r->len - r->off);
		if (k > 0) {
			r->off += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return;
		relay_close(r); /* the container's stdin is gone */
		return;
	}
	r->len = r->off = 0;
}

/* relay_client reads from the attached client; its end ends the session
 * (and stdin, with --stdin-once). */
static void relay_client(struct relay *r)
{
	ssize_t k = read(r->client_fd, r->buf, sizeof r->buf);
	if (k > 0) {
		r->len = (size_t)k;
		r->off = 0;
		relay_flush(r);
		return;
	}
	if (k < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	close(r->client_fd);
	r->client_fd = -1;
	if (r->once)
		relay_close(r);
}

static int parse_count(const char *key, const char *val, long long min, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || v < min) {
		if (strcmp(key, "--max-size") == 0)
			fprintf(stderr, "log driver: --max-size \"%s\": want bytes\n", val);
		else if (strcmp(key, "--partial-flush-ms") == 0)
			fprintf(stderr, "log driver: --partial-flush-ms \"%s\": want milliseconds\n", val);
		else
			fprintf(stderr, "log driver: --max-files \"%s\": want at least 1\n", val);
		return -1;
	}
	*out = v;
	return 0;
}

/* parse_args reads the key, value pairs the shim passes, in any order. */
static int parse_args(int argc, char **argv, struct options *o)
{
	o->path = NULL;
	o->max_size = DEFAULT_MAX_SIZE;
	o->max_files = DEFAULT_MAX_FILES;
	o->stdin_path = NULL;
	o->attach_path = NULL;
	o->stdin_once = 0;
	o->partial_flush_ms = PARTIAL_FLUSH_MS;
	for (int i = 1; i < argc; i += 2) {
		const char *key = argv[i];
		if (i + 1 >= argc) {
			fprintf(stderr, "log driver: \"%s\" has no value\n", key);
			return -1;
		}
		const char *val = argv[i + 1];
		long long v;
		if (strcmp(key, "log-driver") == 0 || strcmp(key, "--path") == 0) {
			o->path = val;
		} else if (strcmp(key, "--max-size") == 0) {
			if (parse_count(key, val, 0, &v) < 0)
				return -1;
			o->max_size = v;
		} else if (strcmp(key, "--stdin") == 0) {
			o->stdin_path = val;
		} else if (strcmp(key, "--attach") == 0) {
			o->attach_path = val;
		} else if (strcmp(key, "--stdin-once") == 0) {
			if (strcmp(val, "true") != 0 && strcmp(val, "false") != 0) {
				fprintf(stderr, "log driver: --stdin-once \"%s\": want true or false\n", val);
				return -1;
			}
			o->stdin_once = strcmp(val, "true") == 0;
		} else if (strcmp(key, "--partial-flush-ms") == 0) {
			if (parse_count(key, val, 0, &v) < 0)
				return -1;
			o->partial_flush_ms = v > 3600000 ? 3600000 : v;
		} else if (strcmp(key, "--max-files") == 0) {
			if (parse_count(key, val, 1, &v) < 0)
				return -1;
			o->max_files = v > INT_MAX ? INT_MAX : (int)v;
		} else {
			fprintf(stderr, "log driver: unknown argument \"%s\"\n", key);
			return -1;
		}
	}
	if (o->path == NULL || o->path[0] != '/') {
		fprintf(stderr, "log driver: needs the absolute path of the log file, got \"%s\"\n",
			o->path ? o->path : "");
		return -1;
	}
	if ((o->stdin_path != NULL && o->stdin_path[0] != '/') || (o->attach_path != NULL && o->attach_path[0] != '/')) {
		fprintf(stderr, "log driver: --stdin and --attach need absolute paths\n");
		return -1;
	}
	if (o->attach_path != NULL && o->stdin_path == NULL) {
		fprintf(stderr, "log driver: --attach needs --stdin\n");
		return -1;
	}
	if (strlen(o->path) > PATH_MAX - 64) {
		fprintf(stderr, "log driver: path too long: %s\n", o->path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	tzset();

	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	int sfd = signalfd(-1, &term, SFD_CLOEXEC);

	signal(SIGPIPE, SIG_IGN); /* a fifo whose reader is gone: EPIPE */
	struct writer w = { .o = o, .fd = -1 };
	if (open_file(&w) < 0)
		w.retry_at = now_ns() + RETRY_NS;
	close(READY_FD); /* tells the shim to start the container */
	static struct relay rl;
	if (relay_open(&rl, &o) < 0)
		relay_close(&rl); /* the container runs on, its stdin closed */

	struct stream streams[2] = { { STDOUT_FD, "stdout", NULL, 0, 0 }, { STDERR_FD, "stderr", NULL, 0, 0 } };
	int64_t hold = o.partial_flush_ms * 1000000LL;
	for (int i = 0; i < 2; i++) {
		if (fcntl(streams[i].fd, F_GETFD) < 0)
			streams[i].fd = -1;
		else
			streams[i].line = xmalloc(MAX_LINE + 2);
	}
	char *buf = xmalloc(READ_SIZE);
	int64_t deadline = 0; /* set by SIGTERM */
	int code = 0;
	for (;;) {
		struct pollfd pfd[6];
		int n = 0, idx[2] = { -1, -1 };
		for (int i = 0; i < 2; i++) {
			if (streams[i].fd >= 0) {
				idx[i] = n;
				pfd[n++] = (struct pollfd){ .fd = streams[i].fd, .events = POLLIN };
			}
		}
		if (n == 0)
			break;
		int lidx = -1, cidx = -1, iidx = -1;
		if (rl.listen_fd >= 0 && rl.client_fd < 0) {
			lidx = n;
			pfd[n++] = (struct pollfd){ .fd = rl.listen_fd, .events = POLLIN };
		}
		if (rl.client_fd >= 0 && rl.len == 0) {
			cidx = n;
			pfd[n++] = (struct pollfd){ .fd = rl.client_fd, .events = POLLIN };
		}
		if (rl.in_fd >= 0 && rl.len > 0) {
			iidx = n;
			pfd[n++] = (struct pollfd){ .fd = rl.in_fd, .events = POLLOUT };
		}
		int sidx = -1;
		if (sfd >= 0 && deadline == 0) {
			sidx = n;
			pfd[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		}
		int timeout = -1;
		if (deadline != 0) {
			int64_t left = deadline - now_ns();
			if (left <= 0) {
				fprintf(stderr, "log driver of %s stopped before the container's output ended\n", o.path);
				code = 1;
				break;
			}
			timeout = (int)(left / 1000000) + 1;
		}
		for (int i = 0; i < 2 && hold > 0; i++) {
			if (streams[i].fd < 0 || streams[i].held_at == 0)
				continue;
			int64_t left = streams[i].held_at + hold - now_ns();
			int ms = left <= 0 ? 0 : (int)(left / 1000000) + 1;
			if (timeout < 0 || ms < timeout)
				timeout = ms;
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "log driver of %s: poll: %s\n", o.path, strerror(errno));
			code = 1;
			break;
		}
		if (lidx >= 0 && (pfd[lidx].revents & POLLIN))
			rl.client_fd = accept4(rl.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cidx >= 0 && pfd[cidx].revents != 0)
			relay_client(&rl);
		if (iidx >= 0 && pfd[iidx].revents != 0)
			relay_flush(&rl);
		if (sidx >= 0 && (pfd[sidx].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) > 0)
				deadline = now_ns() + DRAIN_NS;
		}
		for (int i = 0; i < 2; i++) {
			if (idx[i] < 0 || pfd[idx[i]].revents == 0)
				continue;
			ssize_t k = read(streams[i].fd, buf, READ_SIZE);
			if (k > 0) {
				feed(&w, &streams[i], buf, (size_t)k);
				flush(&w, now_ns());
			} else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
				if (k < 0) {
					fprintf(stderr, "log driver of %s: read %s: %s\n", o.path, streams[i].name, strerror(errno));
					code = 1;
				}
				finish(&w, &streams[i]);
				flush(&w, now_ns());
			}
		}
		for (int i = 0; i < 2 && hold > 0; i++) {
			if (streams[i].fd >= 0 && streams[i].held_at != 0 && now_ns() - streams[i].held_at >= hold) {
				flush_held(&w, &streams[i]);
				flush(&w, now_ns());
			}
		}
	}
	/* Stopped before a stream ended (the shim's SIGTERM and the drain
	 * time ran out, or poll failed): what a stream held of a line without
	 * its newline yet (`echo -n DONE; false`) is written as partial
	 * records, not lost. */
	for (int i = 0; i < 2; i++) {
		if (streams[i].fd >= 0) {
			finish(&w, &streams[i]);
			flush(&w, now_ns());
		}
	}
	relay_close(&rl);
	if (w.fd >= 0 && close(w.fd) < 0) {
		fprintf(stderr, "log driver: close %s: %s\n", o.path, strerror(errno));
		code = 1;
	}
	if (w.dropped > 0)
		fprintf(stderr, "log-driver: %llu records of %s could not be written: %s\n", w.dropped, o.path, w.last_err);
	return code;
}
