/* report_doc.c - the report's document model and its HTML and Markdown
 * renderers (report_doc.h). */
#include "report_doc.h"

#include <errno.h>
#include <string.h>

#include "report_order.h"

json_t *report_doc__new(void) {
  return json_array();
}

static void add(json_t *doc, const char *kind, json_t *body) {
  json_array_append_new(doc, json_pack("{s:s,s:o}", "kind", kind, "body", body));
}

void report_doc__heading(json_t *doc, int level, const char *id, const char *text) {
  add(doc, "heading", json_pack("{s:i,s:s?,s:s}", "level", level, "id", id, "text", text));
}
void report_doc__para(json_t *doc, const char *text) {
  add(doc, "para", json_string(text));
}
void report_doc__note(json_t *doc, const char *text) {
  add(doc, "note", json_string(text));
}
void report_doc__list(json_t *doc, json_t *items) {
  add(doc, "list", items);
}
void report_doc__facts(json_t *doc, json_t *pairs) {
  add(doc, "facts", pairs);
}
json_t *report_doc__table(json_t *doc, json_t *head, int num_from, int mode_col) {
  json_t *rows = json_array();
  add(doc, "table",
      json_pack("{s:o,s:o,s:i,s:i}", "head", head, "rows", rows, "num_from", num_from, "mode_col",
                mode_col));
  return rows;
}
void report_doc__figure(json_t *doc, const char *base, const char *title, const char *csv,
                        bool svg) {
  add(doc, "figure",
      json_pack("{s:s,s:s,s:s,s:b}", "base", base, "title", title, "csv", csv, "svg", svg));
}
void report_doc__links(json_t *doc, const char *lead, json_t *links) {
  add(doc, "links", json_pack("{s:s,s:o}", "lead", lead, "links", links));
}

static const char *str(const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

/* ---- HTML ------------------------------------------------------------------------ */

static void esc(FILE *f, const char *s, bool breaks) {
  for (; s && *s; s++) {
    switch (*s) {
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '&':
      fputs("&amp;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    case '\n':
      fputs(breaks ? "<br>" : " ", f);
      break;
    default:
      fputc(*s, f);
    }
  }
}

/* Wraps at most 1240 px wide, tables and code wrap instead of widening the
 * page: nothing scrolls sideways in a 1280 px window. */
static const char css[] =
    "body{font-family:sans-serif;margin:1.5em auto;max-width:1240px;padding:0 12px;color:#222;"
    "box-sizing:border-box}\n"
    "table{border-collapse:collapse;margin:1em 0;max-width:100%}\n"
    "td,th{border:1px solid #bbb;padding:3px 6px;font-size:85%;vertical-align:top;"
    "overflow-wrap:anywhere}\nth{background:#eee}td.num{text-align:right}\n"
    "code{white-space:pre-wrap;overflow-wrap:anywhere}.note{background:#fff3cd;padding:.5em}\n"
    "figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #ddd}\n"
    "table.facts th{text-align:left;background:none;border:none;padding-right:1em;"
    "white-space:nowrap}table.facts td{border:none}\nli{margin:.25em 0}\n"
    ".sw{display:inline-block;width:.8em;height:.8em;margin-right:.3em;border:1px solid #444;"
    "vertical-align:middle}\n.save{color:#1a7f37}.cost{color:#b42318}.na{color:#777}\n";

static void html_cell(FILE *f, const char *text, bool num, bool mode) {
  fprintf(f, "<td%s>", num ? " class=\"num\"" : "");
  if (mode && *text && strcmp(text, "-"))
    fprintf(f, "<span class=\"sw\" style=\"background:%s\"></span>", report_order__colour(text));
  /* savings cells: the verdict word coloured */
  const char *cls = !strncmp(text, "saves", 5)   ? "save"
                    : !strncmp(text, "costs", 5) ? "cost"
                    : (!strncmp(text, "not measured", 12) || strstr(text, ": always ") ||
                       strstr(text, "not switchable"))
                        ? "na"
                        : NULL;
  /* the verdict (the first line) in colour, the rest plain */
  const char *nl = strchr(text, '\n');
  if (cls) {
    fprintf(f, "<span class=\"%s\">", cls);
    if (nl) {
      char first[256];
      snprintf(first, sizeof(first), "%.*s", (int)(nl - text), text);
      esc(f, first, true);
      fputs("</span>", f);
      esc(f, nl, true);
    } else {
      esc(f, text, true);
      fputs("</span>", f);
    }
  } else {
    esc(f, text, true);
  }
  fputs("</td>", f);
}

int report_doc__write_html(const json_t *doc, const char *title, FILE *f) {
  fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
  esc(f, title, false);
  fprintf(f, "</title>\n<style>\n%s</style></head><body>\n", css);
  size_t i;
  json_t *b;
  json_array_foreach(doc, i, b) {
    const char *kind = str(b, "kind");
    const json_t *body = json_object_get(b, "body");
    if (!strcmp(kind, "heading")) {
      int lv = (int)json_integer_value(json_object_get(body, "level"));
      fprintf(f, "<h%d", lv);
      if (*str(body, "id")) fprintf(f, " id=\"%s\"", str(body, "id"));
      fputs(">", f);
      esc(f, str(body, "text"), false);
      fprintf(f, "</h%d>\n", lv);
    } else if (!strcmp(kind, "para") || !strcmp(kind, "note")) {
      fputs(strcmp(kind, "note") ? "<p>" : "<p class=\"note\">", f);
      esc(f, json_string_value(body), true);
      fputs("</p>\n", f);
    } else if (!strcmp(kind, "list")) {
      size_t k;
      json_t *it;
      fputs("<ul>\n", f);
      json_array_foreach(body, k, it) {
        fputs("<li>", f);
        esc(f, json_string_value(it), true);
        fputs("</li>\n", f);
      }
      fputs("</ul>\n", f);
    } else if (!strcmp(kind, "facts")) {
      size_t k;
      json_t *it;
      fputs("<table class=\"facts\">\n", f);
      json_array_foreach(body, k, it) {
        fputs("<tr><th>", f);
        esc(f, json_string_value(json_array_get(it, 0)), false);
        fputs("</th><td><code>", f);
        esc(f, json_string_value(json_array_get(it, 1)), false);
        fputs("</code></td></tr>\n", f);
      }
      fputs("</table>\n", f);
    } else if (!strcmp(kind, "table")) {
      int num_from = (int)json_integer_value(json_object_get(body, "num_from"));
      int mode_col = (int)json_integer_value(json_object_get(body, "mode_col"));
      size_t k, c;
      json_t *it, *cell;
      fputs("<table>\n<tr>", f);
      json_array_foreach(json_object_get(body, "head"), c, cell) {
        fputs("<th>", f);
        esc(f, json_string_value(cell), true);
        fputs("</th>", f);
      }
      fputs("</tr>\n", f);
      json_array_foreach(json_object_get(body, "rows"), k, it) {
        fputs("<tr>", f);
        json_array_foreach(it, c, cell) html_cell(
            f, json_string_value(cell), num_from >= 0 && (int)c >= num_from, (int)c == mode_col);
        fputs("</tr>\n", f);
      }
      fputs("</table>\n", f);
    } else if (!strcmp(kind, "figure")) {
      const char *base = str(body, "base");
      bool svg = json_is_true(json_object_get(body, "svg"));
      fprintf(f, "<figure><img src=\"%s.%s\" alt=\"", base, svg ? "svg" : "png");
      esc(f, str(body, "title"), false);
      fputs("\"><figcaption>", f);
      esc(f, str(body, "title"), false);
      fprintf(f, " (<a href=\"%s.png\">PNG</a>", base);
      if (svg) fprintf(f, ", <a href=\"%s.svg\">SVG</a>", base);
      fprintf(f, ", <a href=\"%s\">data</a>)</figcaption></figure>\n", str(body, "csv"));
    } else if (!strcmp(kind, "links")) {
      size_t k;
      json_t *it;
      fputs("<p>", f);
      esc(f, str(body, "lead"), false);
      json_array_foreach(json_object_get(body, "links"), k, it) {
        fprintf(f, "%s<a href=\"%s\">", k ? " &middot; " : " ",
                json_string_value(json_array_get(it, 1)));
        esc(f, json_string_value(json_array_get(it, 0)), false);
        fputs("</a>", f);
      }
      fputs("</p>\n", f);
    }
  }
  fputs("</body></html>\n", f);
  return ferror(f) ? (errno = errno ? errno : EIO, -1) : 0;
}

/* ---- Markdown ---------------------------------------------------------------------- */

/* Table cells: '|' escaped, newlines as <br> (GitHub renders both). */
static void md_cell(FILE *f, const char *s) {
  for (; s && *s; s++) {
    if (*s == '|')
      fputs("\\|", f);
    else if (*s == '\n')
      fputs("<br>", f);
    else
      fputc(*s, f);
  }
}

/* Inline code with a fence longer than any backtick run inside. */
static void md_code(FILE *f, const char *s) {
  size_t run = 0, best = 0;
  for (const char *p = s; *p; p++)
    run = *p == '`' ? run + 1 : 0, best = run > best ? run : best;
  for (size_t i = 0; i <= best; i++)
    fputc('`', f);
  fprintf(f, "%s%s%s", s[0] == '`' ? " " : "", s, *s && s[strlen(s) - 1] == '`' ? " " : "");
  for (size_t i = 0; i <= best; i++)
    fputc('`', f);
}

int report_doc__write_md(const json_t *doc, FILE *f) {
  size_t i;
  json_t *b;
  json_array_foreach(doc, i, b) {
    const char *kind = str(b, "kind");
    const json_t *body = json_object_get(b, "body");
    if (!strcmp(kind, "heading")) {
      int lv = (int)json_integer_value(json_object_get(body, "level"));
      fprintf(f, "%s%.*s %s\n\n", i ? "\n" : "", lv, "######", str(body, "text"));
    } else if (!strcmp(kind, "para")) {
      fprintf(f, "%s\n\n", json_string_value(body));
    } else if (!strcmp(kind, "note")) {
      fprintf(f, "> **%s**\n\n", json_string_value(body));
    } else if (!strcmp(kind, "list")) {
      size_t k;
      json_t *it;
      json_array_foreach(body, k, it) fprintf(f, "- %s\n", json_string_value(it));
      fputs("\n", f);
    } else if (!strcmp(kind, "facts")) {
      size_t k;
      json_t *it;
      json_array_foreach(body, k, it) {
        fprintf(f, "- **%s**: ", json_string_value(json_array_get(it, 0)));
        md_code(f, json_string_value(json_array_get(it, 1)));
        fputs("\n", f);
      }
      fputs("\n", f);
    } else if (!strcmp(kind, "table")) {
      size_t k, c;
      json_t *it, *cell;
      int num_from = (int)json_integer_value(json_object_get(body, "num_from"));
      fputs("|", f);
      json_array_foreach(json_object_get(body, "head"), c, cell) {
        fputs(" ", f);
        md_cell(f, json_string_value(cell));
        fputs(" |", f);
      }
      fputs("\n|", f);
      json_array_foreach(json_object_get(body, "head"), c, cell)
          fputs(num_from >= 0 && (int)c >= num_from ? "---:|" : "---|", f);
      fputs("\n", f);
      json_array_foreach(json_object_get(body, "rows"), k, it) {
        fputs("|", f);
        json_array_foreach(it, c, cell) {
          fputs(" ", f);
          md_cell(f, json_string_value(cell));
          fputs(" |", f);
        }
        fputs("\n", f);
      }
      fputs("\n", f);
    } else if (!strcmp(kind, "figure")) {
      fprintf(f, "![%s](%s.png)\n\n", str(body, "title"), str(body, "base"));
    } else if (!strcmp(kind, "links")) {
      size_t k;
      json_t *it;
      fputs(str(body, "lead"), f);
      json_array_foreach(json_object_get(body, "links"), k, it)
          fprintf(f, "%s[%s](%s)", k ? ", " : " ", json_string_value(json_array_get(it, 0)),
                  json_string_value(json_array_get(it, 1)));
      fputs("\n", f);
    }
  }
  return ferror(f) ? (errno = errno ? errno : EIO, -1) : 0;
}
