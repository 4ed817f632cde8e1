/* The segment store: a directory of segment files, opened for writing (one process, under an
 * flock on DIR/lock that the caller takes first) or for reading. Open scans every segment in order of first index and
 * checks that they chain; the write side cuts a torn tail of the last segment, buffers
 * frames, rotates past segment_bytes, refuses appends past max_bytes and makes batches
 * durable; any thread reads a synced record's body with pread (docs/ledger.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ignore.h"
#include "lstore.h"

#define BUF_BYTES (1u << 20)

typedef struct lseg {
  uint64_t first; /* index of its first record */
} lseg;

struct cnv__lstore {
  int dirfd;
  bool readonly;
  uint64_t segment_bytes, max_bytes;
  pthread_mutex_t mu; /* guards segs (growth), offs (growth), synced, rfd/rseg, and the current
                         segment's fd against rotation while a read uses it */
  lseg *segs;
  uint64_t nsegs, segcap;
  uint64_t *offs; /* frame offset of each record in its segment */
  uint64_t records, offcap;
  uint64_t synced;   /* records readable */
  uint64_t bytes;    /* all segments, written and buffered */
  int fd;            /* the current (last) segment, -1 when none; write mode */
  uint64_t seg_size; /* its size, written and buffered */
  uint64_t seg_written;
  uint8_t last[CNV_LEDGER_HASH_BYTES]; /* leaf of the last record appended */
  uint8_t *buf;
  size_t buf_len;
  cnv_status failed; /* CNV_EIO after a failed write: the store refuses everything after */
  int rfd;           /* a non-current segment open for reads, -1 when none */
  uint64_t rseg;
};

/* ---- small file helpers -------------------------------------------------------------- */

static bool write_all(int fd, const uint8_t *p, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, (off_t)off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
    off += (uint64_t)w;
  }
  return true;
}

static bool read_all(int fd, uint8_t *p, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t r = pread(fd, p, n, (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= (size_t)r;
    off += (uint64_t)r;
  }
  return true;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* "seg-" 16 lowercase hex ".log", exactly. */
static bool parse_name(const char *name, uint64_t *first) {
  if (strlen(name) != CNV__LSEG_NAME_MAX - 1 || memcmp(name, "seg-", 4) != 0 || strcmp(name + 20, ".log") != 0) {
    return false;
  }
  uint64_t v = 0;
  for (int i = 4; i < 20; i++) {
    int h = hexval(name[i]);
    if (h < 0) return false;
    v = (v << 4) | (uint64_t)h;
  }
  *first = v;
  return true;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* A segment's temporary name while new_segment creates it: "." + its name + ".tmp". */
static bool is_tmp_name(const char *name) {
  char seg[CNV__LSEG_NAME_MAX];
  uint64_t first;
  size_t n = strlen(name);
  if (n != CNV__LSEG_NAME_MAX + 4 || name[0] != '.' || strcmp(name + n - 4, ".tmp") != 0) return false;
  memcpy(seg, name + 1, CNV__LSEG_NAME_MAX - 1);
  seg[CNV__LSEG_NAME_MAX - 1] = '\0';
  return parse_name(seg, &first);
}

/* The segments' first indexes, sorted; stale temporary files removed in write mode. */
static cnv_status list_segments(int dirfd, bool readonly, uint64_t **out, uint64_t *n) {
  int dfd = dup(dirfd);
  if (dfd < 0) return CNV_EIO;
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    return CNV_EIO;
  }
  uint64_t *v = NULL, cnt = 0, cap = 0;
  cnv_status st = CNV_OK;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    uint64_t first;
    if (!readonly && is_tmp_name(de->d_name)) {
      /* a segment whose creation did not finish: never renamed, so never part of the log */
      (void)unlinkat(dirfd, de->d_name, 0);
      continue;
    }
    if (!parse_name(de->d_name, &first)) continue;
    if (cnt == cap) {
      uint64_t nc = cap ? cap * 2 : 16;
      uint64_t *nv = realloc(v, nc * sizeof *nv);
      if (!nv) {
        st = CNV_ENOMEM;
        break;
      }
      v = nv;
      cap = nc;
    }
    v[cnt++] = first;
  }
  closedir(d);
  if (st != CNV_OK) {
    free(v);
    return st;
  }
  if (cnt) qsort(v, cnt, sizeof *v, cmp_u64);
  *out = v;
  *n = cnt;
  return CNV_OK;
}

/* Reads a whole segment file. Only a regular file in DIR itself is one: O_NOFOLLOW keeps a
 * symlink from sending a write-mode open (which may cut a torn tail) outside DIR, O_NONBLOCK
 * keeps a FIFO from blocking the open, and the size bound keeps a huge (or sparse) file from
 * becoming one huge allocation. Anything but a regular file of at most CNV__LSEG_FILE_MAX
 * bytes is damage: CNV_ELEDGER_CORRUPT. */
static cnv_status read_file(int dirfd, const char *name, int flags, int *fdout, uint8_t **data, size_t *len) {
  int fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  /* ELOOP: a symlink; EISDIR: a directory opened for writing; neither is a segment */
  if (fd < 0) return errno == ELOOP || errno == EISDIR ? CNV_ELEDGER_CORRUPT : CNV_EIO;
  struct stat sb;
  if (fstat(fd, &sb) != 0 || sb.st_size < 0) {
    close(fd);
    return CNV_EIO;
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    return CNV_ELEDGER_CORRUPT;
  }
  if ((uint64_t)sb.st_size > CNV__LSEG_FILE_MAX) {
    close(fd);
    return CNV_ELEDGER_CORRUPT;
  }
  size_t n = (size_t)sb.st_size;
  uint8_t *p = malloc(n ? n : 1);
  if (!p) {
    close(fd);
    return CNV_ENOMEM;
  }
  if (!read_all(fd, p, n, 0)) {
    free(p);
    close(fd);
    return CNV_EIO;
  }
  *fdout = fd;
  *data = p;
  *len = n;
  return CNV_OK;
}

/* ---- open ---------------------------------------------------------------------------- */

typedef struct scan_ctx {
  cnv__lstore *s; /* NULL: scan only */
  cnv__lscan_fn fn;
  void *ctx;
  bool stopped, nomem;
  uint64_t last_checkpoint;
} scan_ctx;

static bool push_off(cnv__lstore *s, uint64_t off) {
  if (s->records == s->offcap) {
    uint64_t nc = s->offcap ? s->offcap * 2 : 1024;
    pthread_mutex_lock(&s->mu);
    uint64_t *nv = realloc(s->offs, nc * sizeof *nv);
    if (nv) {
      s->offs = nv;
      s->offcap = nc;
    }
    pthread_mutex_unlock(&s->mu);
    if (!nv) return false;
  }
  s->offs[s->records++] = off;
  return true;
}

static bool push_seg(cnv__lstore *s, uint64_t first) {
  pthread_mutex_lock(&s->mu);
  bool ok = true;
  if (s->nsegs == s->segcap) {
    uint64_t nc = s->segcap ? s->segcap * 2 : 16;
    lseg *nv = realloc(s->segs, nc * sizeof *nv);
    if (nv) {
      s->segs = nv;
      s->segcap = nc;
    } else {
      ok = false;
    }
  }
  if (ok) s->segs[s->nsegs++].first = first;
  pthread_mutex_unlock(&s->mu);
  return ok;
}

static int on_record(void *vctx, const cnv__lscan_rec *r) {
  scan_ctx *c = vctx;
  /* a CHECKPOINT's payload starts with its tree size (cnv_checkpoint_encode) */
  if (cnv__lget16(r->body + 40) == CNV_LREC_CHECKPOINT && r->body_len >= CNV_LEDGER_BODY_FIXED + 8) {
    c->last_checkpoint = cnv__lget64(r->body + CNV_LEDGER_BODY_FIXED);
  }
  if (c->s && !push_off(c->s, r->offset)) {
    c->nomem = true;
    return 1;
  }
  if (c->fn && c->fn(c->ctx, r) != 0) {
    c->stopped = true;
    return 1;
  }
  return 0;
}

static void store_free(cnv__lstore *s) {
  if (!s) return;
  if (s->fd >= 0) close(s->fd);
  if (s->rfd >= 0) close(s->rfd);
  if (s->dirfd >= 0) close(s->dirfd);
  pthread_mutex_destroy(&s->mu);
  free(s->segs);
  free(s->offs);
  free(s->buf);
  free(s);
}

static cnv_status open_dir(const char *dir, bool readonly, int *dirfd) {
  if (!readonly && mkdir(dir, 0700) != 0 && errno != EEXIST) return CNV_EIO;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return (errno == ENOENT || errno == ENOTDIR) ? CNV_ENOTFOUND : CNV_EIO;
  *dirfd = fd;
  return CNV_OK;
}

/* Scans every segment; in write mode cuts the torn tail and leaves the last segment open. */
static cnv_status scan_all(int dirfd, bool readonly, cnv__lstore *s, scan_ctx *c, cnv__lstore_found *f) {
  uint64_t *firsts = NULL, n = 0;
  cnv_status st = list_segments(dirfd, readonly, &firsts, &n);
  if (st != CNV_OK) return st;
  if (n == 0 && readonly) {
    free(firsts);
    return CNV_ENOTFOUND;
  }
  uint8_t last[CNV_LEDGER_HASH_BYTES] = {0};
  uint64_t next = 0;
  for (uint64_t i = 0; i < n && st == CNV_OK; i++) {
    bool is_last = i + 1 == n;
    char name[CNV__LSEG_NAME_MAX];
    cnv__lseg_name(name, firsts[i]);
    if (firsts[i] != next) {
      /* a gap or an overlap: the record expected next is missing or doubled */
      f->bad_index = next;
      st = CNV_ELEDGER_CORRUPT;
      break;
    }
    int fd = -1;
    uint8_t *data = NULL;
    size_t len = 0;
    st = read_file(dirfd, name, (readonly || !is_last) ? O_RDONLY : O_RDWR, &fd, &data, &len);
    if (st == CNV_ELEDGER_CORRUPT) f->bad_index = firsts[i]; /* not a regular file, or too large */
    if (st != CNV_OK) break;
    if (len >= CNV__LSEG_HEADER &&
        (cnv__lget64(data + 16) != firsts[i] || memcmp(data + 24, last, CNV_LEDGER_HASH_BYTES) != 0)) {
      /* the header does not continue the chain: name the segment's first record */
      f->bad_index = firsts[i];
      st = CNV_ELEDGER_CORRUPT;
    }
    cnv__lscan_result res;
    if (st == CNV_OK) {
      if (s && !push_seg(s, firsts[i])) st = CNV_ENOMEM;
    }
    if (st == CNV_OK) {
      st = cnv__lseg_scan(data, len, on_record, c, &res);
      if (st == CNV_ELEDGER_CORRUPT) f->bad_index = res.bad_index;
    }
    free(data);
    if (st == CNV_OK && (c->stopped || c->nomem)) {
      close(fd);
      if (c->nomem) st = CNV_ENOMEM;
      f->records += res.records;
      f->stopped = c->stopped;
      break;
    }
    /* no complete header (an empty file counts) is a tear too */
    bool torn = st == CNV_OK && (res.torn_bytes > 0 || res.good_bytes == 0);
    if (torn && !is_last) {
      /* a torn segment followed by another: not a crash's tail */
      f->bad_index = firsts[i] + res.records;
      st = CNV_ELEDGER_CORRUPT;
    }
    if (st != CNV_OK) {
      close(fd);
      break;
    }
    f->records += res.records;
    next = firsts[i] + res.records;
    /* without a complete header the chain goes on from the segment before */
    if (res.good_bytes > 0) memcpy(last, res.last, CNV_LEDGER_HASH_BYTES);
    f->segments++;
    f->bytes += res.good_bytes;
    if (torn) {
      f->torn = true;
      f->torn_bytes = res.torn_bytes;
      if (!readonly) {
        if (res.good_bytes == 0) {
          /* the header itself is torn: the segment never held a record */
          if (unlinkat(dirfd, name, 0) != 0 || fsync(dirfd) != 0) st = CNV_EIO;
          f->segments--;
          if (s) s->nsegs--;
          close(fd);
          fd = -1;
        } else if (ftruncate(fd, (off_t)res.good_bytes) != 0 || fsync(fd) != 0) {
          st = CNV_EIO;
        }
      }
    }
    if (s && is_last && !readonly && fd >= 0 && st == CNV_OK) {
      s->fd = fd;
      s->seg_size = s->seg_written = res.good_bytes;
    } else if (fd >= 0) {
      close(fd);
    }
  }
  free(firsts);
  if (s) {
    memcpy(s->last, last, CNV_LEDGER_HASH_BYTES);
    s->bytes = f->bytes;
    s->synced = s->records;
  }
  f->last_checkpoint = c->last_checkpoint;
  return st;
}

cnv_status cnv__lstore_open_ex(const char *dir, bool readonly, uint64_t segment_bytes, uint64_t max_bytes,
                               cnv__lscan_fn fn, void *ctx, cnv__lstore **out, cnv__lstore_found *f) {
  if (!dir || !f || (!readonly && !out)) return CNV_EINVAL;
  memset(f, 0, sizeof *f);
  f->bad_index = CNV_LEDGER_NONE;
  if (out) *out = NULL;
  int dirfd = -1;
  cnv_status st = open_dir(dir, readonly, &dirfd);
  if (st != CNV_OK) return st;
  cnv__lstore *s = NULL;
  if (out) {
    s = calloc(1, sizeof *s);
    if (!s || (!readonly && !(s->buf = malloc(BUF_BYTES)))) {
      free(s);
      close(dirfd);
      return CNV_ENOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->dirfd = dirfd;
    s->fd = s->rfd = -1;
    s->readonly = readonly;
    s->segment_bytes = segment_bytes ? segment_bytes : (UINT64_C(64) << 20);
    s->max_bytes = max_bytes;
    s->failed = CNV_OK;
  }
  scan_ctx c = {.s = s, .fn = fn, .ctx = ctx};
  if (st == CNV_OK) st = scan_all(dirfd, readonly, s, &c, f);
  if (st != CNV_OK || f->stopped) {
    if (s) {
      store_free(s);
    } else {
      close(dirfd);
    }
    return st;
  }
  if (s) {
    *out = s;
  } else {
    close(dirfd);
  }
  return CNV_OK;
}

cnv_status cnv__lstore_open(const char *dir, uint64_t segment_bytes, uint64_t max_bytes, cnv__lscan_fn fn, void *ctx,
                            cnv__lstore **out, cnv_ledger_recovery *rec) {
  if (!dir || !out) return CNV_EINVAL;
  cnv__lstore_found f;
  cnv_status st = cnv__lstore_open_ex(dir, false, segment_bytes, max_bytes, fn, ctx, out, &f);
  if (st == CNV_OK && f.stopped) st = CNV_ENOMEM; /* fn's only failure: growing its tree */
  if (rec) {
    rec->records = f.records;
    rec->segments = f.segments;
    rec->torn_bytes = f.torn_bytes;
    rec->last_checkpoint = f.last_checkpoint;
  }
  return st;
}

/* ---- append, rotation, sync ------------------------------------------------------------ */

static bool flush_buf(cnv__lstore *s) {
  if (s->buf_len == 0) return true;
  if (!write_all(s->fd, s->buf, s->buf_len, s->seg_written)) return false;
  s->seg_written += s->buf_len;
  s->buf_len = 0;
  return true;
}

/* A new segment starting at first: header under a temporary name, fsync, rename, fsync DIR. */
static cnv_status new_segment(cnv__lstore *s, uint64_t first) {
  char name[CNV__LSEG_NAME_MAX], tmp[CNV__LSEG_NAME_MAX + 8];
  cnv__lseg_name(name, first);
  memcpy(tmp, ".", 1);
  memcpy(tmp + 1, name, CNV__LSEG_NAME_MAX);
  memcpy(tmp + CNV__LSEG_NAME_MAX, ".tmp", 5);
  uint8_t h[CNV__LSEG_HEADER];
  cnv__lseg_header(h, first, s->last);
  int fd = openat(s->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return CNV_EIO;
  if (!write_all(fd, h, sizeof h, 0) || fsync(fd) != 0 || renameat(s->dirfd, tmp, s->dirfd, name) != 0 ||
      fsync(s->dirfd) != 0) {
    close(fd);
    (void)unlinkat(s->dirfd, tmp, 0);
    return CNV_EIO;
  }
  if (!push_seg(s, first)) {
    close(fd);
    return CNV_ENOMEM;
  }
  pthread_mutex_lock(&s->mu);
  int old = s->fd;
  s->fd = fd;
  s->seg_size = s->seg_written = CNV__LSEG_HEADER;
  pthread_mutex_unlock(&s->mu);
  if (old >= 0) close(old);
  s->bytes += CNV__LSEG_HEADER;
  return CNV_OK;
}

cnv_status cnv__lstore_append(cnv__lstore *s, uint64_t index, const uint8_t *body, size_t len,
                              const uint8_t leaf[CNV_LEDGER_HASH_BYTES]) {
  if (!s || !body || !leaf || s->readonly || index != s->records) return CNV_EINVAL;
  if (len < CNV_LEDGER_BODY_FIXED || len > CNV__LBODY_MAX) return CNV_ERANGE;
  if (s->failed != CNV_OK) return s->failed;
  uint64_t flen = CNV__LFRAME_OVERHEAD + len;
  bool rotate = s->fd < 0 || (s->seg_size >= s->segment_bytes && s->seg_size > CNV__LSEG_HEADER);
  uint64_t need = flen + (rotate ? CNV__LSEG_HEADER : 0);
  if (s->max_bytes && s->bytes + need > s->max_bytes) return CNV_EFULL;
  if (rotate) {
    /* the old segment is complete and durable before the next one exists, so only the last
       segment can ever end in a torn frame */
    if (s->fd >= 0 && (!flush_buf(s) || fdatasync(s->fd) != 0)) {
      s->failed = CNV_EIO;
      return CNV_EIO;
    }
    cnv_status st = new_segment(s, index);
    if (st != CNV_OK) {
      s->failed = st;
      return st;
    }
  }
  if (s->buf_len + flen > BUF_BYTES && !flush_buf(s)) {
    s->failed = CNV_EIO;
    return CNV_EIO;
  }
  if (!push_off(s, s->seg_size)) return CNV_ENOMEM;
  uint8_t *p = s->buf + s->buf_len;
  cnv__lput32(p, (uint32_t)len);
  memcpy(p + 4, body, len);
  memcpy(p + 4 + len, leaf, CNV_LEDGER_HASH_BYTES);
  s->buf_len += flen;
  s->seg_size += flen;
  s->bytes += flen;
  memcpy(s->last, leaf, CNV_LEDGER_HASH_BYTES);
  return CNV_OK;
}

cnv_status cnv__lstore_sync(cnv__lstore *s, int sync) {
  if (!s || s->readonly) return CNV_EINVAL;
  if (s->failed != CNV_OK) return s->failed;
  if (s->fd >= 0 && (!flush_buf(s) || (sync != 2 && fdatasync(s->fd) != 0))) {
    s->failed = CNV_EIO;
    return CNV_EIO;
  }
  pthread_mutex_lock(&s->mu);
  s->synced = s->records;
  pthread_mutex_unlock(&s->mu);
  return CNV_OK;
}

cnv_status cnv__lstore_flush(cnv__lstore *s, int *sync_fd, uint64_t *records) {
  if (!s || !sync_fd || !records || s->readonly) return CNV_EINVAL;
  *sync_fd = -1;
  if (s->failed != CNV_OK) return s->failed;
  if (s->fd >= 0 && (!flush_buf(s) || (*sync_fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0)) < 0)) {
    s->failed = CNV_EIO;
    return CNV_EIO;
  }
  *records = s->records;
  return CNV_OK;
}

cnv_status cnv__lstore_synced(cnv__lstore *s, uint64_t n, bool ok) {
  if (!s || s->readonly || n > s->records) return CNV_EINVAL;
  if (!ok && s->failed == CNV_OK) s->failed = CNV_EIO;
  if (s->failed != CNV_OK) return s->failed;
  pthread_mutex_lock(&s->mu);
  if (n > s->synced) s->synced = n;
  pthread_mutex_unlock(&s->mu);
  return CNV_OK;
}

/* ---- reads ----------------------------------------------------------------------------- */

cnv_status cnv__lstore_read(cnv__lstore *s, uint64_t index, uint8_t *buf, size_t cap, size_t *len) {
  if (!s || !buf || !len) return CNV_EINVAL;
  pthread_mutex_lock(&s->mu);
  cnv_status st = CNV_OK;
  if (index >= s->synced) {
    st = CNV_ERANGE;
    goto out;
  }
  /* the segment holding index: the last whose first index is <= index */
  uint64_t lo = 0, hi = s->nsegs;
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (s->segs[mid].first <= index) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  int fd;
  if (lo + 1 == s->nsegs && s->fd >= 0) {
    fd = s->fd;
  } else {
    if (s->rfd < 0 || s->rseg != lo) {
      char name[CNV__LSEG_NAME_MAX];
      cnv__lseg_name(name, s->segs[lo].first);
      int nfd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
      if (nfd < 0) {
        st = CNV_EIO;
        goto out;
      }
      if (s->rfd >= 0) close(s->rfd);
      s->rfd = nfd;
      s->rseg = lo;
    }
    fd = s->rfd;
  }
  uint8_t lb[4];
  if (!read_all(fd, lb, 4, s->offs[index])) {
    st = CNV_EIO;
    goto out;
  }
  uint32_t n = cnv__lget32(lb);
  if (n > cap) {
    st = CNV_EFULL;
    goto out;
  }
  if (n > CNV__LBODY_MAX || !read_all(fd, buf, n, s->offs[index] + 4)) {
    st = CNV_EIO;
    goto out;
  }
  *len = n;
out:
  pthread_mutex_unlock(&s->mu);
  return st;
}

uint64_t cnv__lstore_segments(const cnv__lstore *s) { return s ? s->nsegs : 0; }
uint64_t cnv__lstore_bytes(const cnv__lstore *s) { return s ? s->bytes : 0; }

void cnv__lstore_close(cnv__lstore *s) {
  if (!s) return;
  if (!s->readonly) {
    /* close has no way to report: a failure here leaves a torn tail the next open cuts */
    cnv__ignore_status(cnv__lstore_sync(s, 1));
  }
  store_free(s);
}
