/* doc_stream.c - see doc_stream.h.
 *
 * A window buf[pos, end) over the file, refilled by read(2). A value that
 * is parsed must lie whole in the window (it grows to the largest one); a
 * value that is skipped is consumed as it is scanned. The scanner only
 * matches brackets and strings to find where a value ends; jansson checks
 * the value itself. Line and column of buf[pos] are kept for messages. */
#include "doc_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "results/result_doc.h"

#define BLOCK (1u << 20)

struct rd {
  int fd;
  const char *path;
  char *buf;
  size_t cap, pos, end;
  bool eof;
  long line, col; /* of buf[pos], from 1 */
  char *err;
  size_t errlen;
};

/* More bytes into the window: 1, 0 at the end of the file, -1 on error. */
static int fill(struct rd *r) {
  if (r->eof) return 0;
  if (r->pos) {
    memmove(r->buf, r->buf + r->pos, r->end - r->pos);
    r->end -= r->pos;
    r->pos = 0;
  }
  if (r->end == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : BLOCK;
    char *b = realloc(r->buf, cap);
    if (!b) return msg__fail(r->err, r->errlen, "%s: out of memory reading it", r->path);
    r->buf = b;
    r->cap = cap;
  }
  for (;;) {
    ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return msg__fail(r->err, r->errlen, "%s: cannot read: %s", r->path, strerror(errno));
    if (!n) {
      r->eof = true;
      return 0;
    }
    r->end += (size_t)n;
    return 1;
  }
}

static void advance(struct rd *r, size_t n) {
  const char *p = r->buf + r->pos, *e = p + n, *nl;
  while ((nl = memchr(p, '\n', (size_t)(e - p)))) {
    r->line++;
    r->col = 1;
    p = nl + 1;
  }
  r->col += e - p;
  r->pos += n;
}

/* The next byte (not consumed), or -1 at the end (-2 on a read error). */
static int peek(struct rd *r) {
  while (r->pos == r->end) {
    int f = fill(r);
    if (f <= 0) return f < 0 ? -2 : -1;
  }
  return (unsigned char)r->buf[r->pos];
}

static int skip_ws(struct rd *r) {
  for (;;) {
    int c = peek(r);
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return c;
    size_t i = r->pos;
    while (i < r->end &&
           (r->buf[i] == ' ' || r->buf[i] == '\t' || r->buf[i] == '\n' || r->buf[i] == '\r'))
      i++;
    advance(r, i - r->pos);
  }
}

static int syntax(struct rd *r, const char *what, int c) {
  char near[16];
  if (c == -1)
    snprintf(near, sizeof(near), "end of file");
  else
    snprintf(near, sizeof(near), "'%c'", c);
  return msg__fail(r->err, r->errlen, "%s:%ld:%ld: not valid JSON: %s expected near %s", r->path,
                   r->line, r->col, what, near);
}

/* Scanner state for finding where a value ends. */
struct scan {
  size_t i;      /* bytes of the value seen, from pos */
  int depth;     /* open brackets */
  bool str, esc; /* inside a string, after a backslash */
  bool scalar;   /* a number, true, false or null: ends at a delimiter */
  bool started;
};

/* Scan buf[pos + s->i, end): true when the value ends there (s->i is its
 * length). */
static bool scan_some(struct rd *r, struct scan *s) {
  const char *b = r->buf + r->pos;
  size_t n = r->end - r->pos;
  if (!s->started) {
    s->started = true;
    char c = b[0];
    s->scalar = c != '{' && c != '[' && c != '"';
  }
  for (; s->i < n; s->i++) {
    char c = b[s->i];
    if (s->scalar) {
      if (c == ',' || c == ']' || c == '}' || c == ' ' || c == '\n' || c == '\t' || c == '\r')
        return true;
      continue;
    }
    if (s->str) {
      if (s->esc)
        s->esc = false;
      else if (c == '\\')
        s->esc = true;
      else if (c == '"') {
        s->str = false;
        if (!s->depth) {
          s->i++;
          return true;
        }
      }
      continue;
    }
    if (c == '"') {
      s->str = true;
    } else if (c == '{' || c == '[') {
      s->depth++;
    } else if (c == '}' || c == ']') {
      if (--s->depth <= 0) {
        s->i++;
        return true;
      }
    }
  }
  return false;
}

/* The value at pos whole in the window: its length (at the end of the file,
 * what there is: jansson then says what is missing); -1 on a read error. */
static long extent(struct rd *r) {
  struct scan s = {0};
  while (!scan_some(r, &s)) {
    int f = fill(r);
    if (f < 0) return -1;
    if (!f) break;
  }
  return (long)s.i;
}

/* Consume the value at pos without keeping it whole. 0 or -1. */
static int skip_value(struct rd *r) {
  struct scan s = {0};
  while (!scan_some(r, &s)) {
    advance(r, s.i);
    s.i = 0;
    int f = fill(r);
    if (f < 0) return -1;
    if (!f) return syntax(r, s.str ? "'\"'" : "']' or '}'", -1);
  }
  advance(r, s.i);
  return 0;
}

/* Parse and consume the value at pos; NULL with the message set. */
static json_t *parse_value(struct rd *r) {
  long n = extent(r);
  if (n < 0) return NULL;
  if (n == 0) {
    syntax(r, "a value", peek(r));
    return NULL;
  }
  json_error_t je;
  json_t *v = json_loadb(r->buf + r->pos, (size_t)n, JSON_DECODE_ANY, &je);
  if (!v) {
    long line = r->line + (je.line > 1 ? je.line - 1 : 0);
    long col = je.line > 1 ? je.column : r->col + (je.column > 0 ? je.column - 1 : 0);
    msg__fail(r->err, r->errlen, "%s:%ld:%ld: not valid JSON: %s", r->path, line, col, je.text);
    return NULL;
  }
  advance(r, (size_t)n);
  return v;
}

/* The elements of the array at pos, each parsed and passed to fn (or, with
 * fn NULL, skipped). 0 or -1. */
static int each_element(struct rd *r, bool parse, int (*fn)(struct rd *, json_t *, void *),
                        void *arg, size_t *count) {
  advance(r, 1); /* '[' */
  int c = skip_ws(r);
  if (c == ']') {
    advance(r, 1);
    return 0;
  }
  for (;;) {
    if (c < 0) return c == -2 ? -1 : syntax(r, "a value", c);
    if (!parse) {
      if (skip_value(r)) return -1;
    } else {
      json_t *v = parse_value(r);
      if (!v) return -1;
      int rc = fn ? fn(r, v, arg) : 0;
      json_decref(v);
      if (rc) return -1;
    }
    (*count)++;
    c = skip_ws(r);
    if (c == ',') {
      advance(r, 1);
      c = skip_ws(r);
      continue;
    }
    if (c == ']') {
      advance(r, 1);
      return 0;
    }
    return c == -2 ? -1 : syntax(r, "',' or ']'", c);
  }
}

struct run_cb {
  doc_stream_run_fn fn;
  void *ctx;
  size_t n;
};

static int one_run(struct rd *r, json_t *run, void *arg) {
  struct run_cb *cb = arg;
  char why[512] = "";
  if (!cb->fn(run, cb->n++, cb->ctx, why, sizeof(why))) return 0;
  return msg__fail(r->err, r->errlen, "%s: %s", r->path, why);
}

/* The checks of result_doc__read on the envelope. */
static int check_envelope(struct rd *r, const json_t *doc, bool runs_array, bool aggs_ok) {
  const json_t *schema = json_object_get(doc, "schema");
  const json_t *name = json_object_get(schema, "name");
  const json_t *version = json_object_get(schema, "version");
  const char *p = r->path;
  if (!json_is_object(schema))
    return msg__fail(r->err, r->errlen, "%s: no \"schema\" object (not a vtbench result document)",
                     p);
  if (!json_is_string(name) || strcmp(json_string_value(name), VTB_SCHEMA_NAME))
    return msg__fail(r->err, r->errlen, "%s: schema.name is %s%s%s, expected \"%s\"", p,
                     json_is_string(name) ? "\"" : "",
                     json_is_string(name) ? json_string_value(name) : "missing",
                     json_is_string(name) ? "\"" : "", VTB_SCHEMA_NAME);
  if (!json_is_integer(version) || json_integer_value(version) < 1)
    return msg__fail(r->err, r->errlen, "%s: schema.version is missing or not a positive integer",
                     p);
  if (json_integer_value(version) > VTB_SCHEMA_VERSION)
    return msg__fail(r->err, r->errlen,
                     "%s: schema.version %lld is newer than this vtbench understands (%d): use a "
                     "newer vtbench",
                     p, (long long)json_integer_value(version), VTB_SCHEMA_VERSION);
  if (!json_is_object(json_object_get(doc, "context")))
    return msg__fail(r->err, r->errlen, "%s: \"context\" is missing or not an object", p);
  if (!runs_array)
    return msg__fail(r->err, r->errlen, "%s: \"runs\" is missing or not an array", p);
  if (!aggs_ok) return msg__fail(r->err, r->errlen, "%s: \"aggregates\" is not an array", p);
  return 0;
}

/* The top-level object: its members into doc, runs through cb. */
static int read_top(struct rd *r, json_t *doc, struct run_cb *cb, bool parse_runs) {
  int c = skip_ws(r);
  if (c == '[')
    return msg__fail(r->err, r->errlen,
                     "%s: the top level is not an object (not a vtbench result document)", r->path);
  if (c != '{') return c == -2 ? -1 : syntax(r, "'[' or '{'", c);
  advance(r, 1);
  bool runs_array = false, aggs_ok = true, have_runs = false;
  c = skip_ws(r);
  if (c == '}') {
    advance(r, 1);
    return check_envelope(r, doc, false, true);
  }
  for (;;) {
    if (c != '"') return c == -2 ? -1 : syntax(r, "string or '}'", c);
    json_t *k = parse_value(r);
    if (!k) return -1;
    char key[256];
    snprintf(key, sizeof(key), "%s", json_string_value(k));
    json_decref(k);
    c = skip_ws(r);
    if (c != ':') return c == -2 ? -1 : syntax(r, "':'", c);
    advance(r, 1);
    c = skip_ws(r);
    if (json_object_get(doc, key) || (!strcmp(key, "runs") && have_runs))
      return msg__fail(r->err, r->errlen, "%s:%ld:%ld: \"%s\" appears twice at the top level",
                       r->path, r->line, r->col, key);
    size_t count = 0;
    if (!strcmp(key, "runs") && c == '[') {
      have_runs = runs_array = true;
      if (each_element(r, parse_runs, one_run, cb, &count)) return -1;
      cb->n = count;
    } else if (!strcmp(key, "aggregates") && c == '[') {
      if (each_element(r, true, NULL, NULL, &count)) return -1; /* checked, not kept */
      json_object_set_new(doc, key, json_array());
    } else {
      json_t *v = parse_value(r);
      if (!v) return -1;
      if (!strcmp(key, "runs")) {
        have_runs = true; /* not an array: refused below */
        json_decref(v);
      } else {
        if (!strcmp(key, "aggregates")) aggs_ok = json_is_array(v);
        json_object_set_new(doc, key, v);
      }
    }
    c = skip_ws(r);
    if (c == ',') {
      advance(r, 1);
      c = skip_ws(r);
      continue;
    }
    if (c != '}') return c == -2 ? -1 : syntax(r, "',' or '}'", c);
    advance(r, 1);
    break;
  }
  c = skip_ws(r);
  if (c != -1) return c == -2 ? -1 : syntax(r, "end of file", c);
  return check_envelope(r, doc, runs_array, aggs_ok);
}

json_t *doc_stream__read(const char *path, doc_stream_run_fn on_run, void *ctx, size_t *nruns,
                         char *err, size_t len) {
  struct stat st;
  if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
    msg__fail(err, len, "%s is a directory, not a result document: give a JSON file", path);
    return NULL;
  }
  struct rd r = {.path = path, .line = 1, .col = 1, .err = err, .errlen = len};
  r.fd = open(path, O_RDONLY | O_CLOEXEC);
  if (r.fd < 0) {
    msg__fail(err, len, "%s: cannot read: unable to open %s: %s", path, path, strerror(errno));
    return NULL;
  }
  json_t *doc = json_object();
  struct run_cb cb = {on_run, ctx, 0};
  int rc = doc ? read_top(&r, doc, &cb, on_run != NULL) : -1;
  close(r.fd);
  free(r.buf);
  if (rc) {
    json_decref(doc);
    return NULL;
  }
  json_object_set_new(doc, "runs", json_array());
  if (!json_object_get(doc, "aggregates")) json_object_set_new(doc, "aggregates", json_array());
  if (nruns) *nruns = cb.n;
  return doc;
}
