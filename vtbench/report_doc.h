/* report_doc.h - the report as one document (a JSON array of blocks: headings,
 * paragraphs, notes, lists, tables, key/value facts, figures) built once and
 * written by two renderers, HTML and Markdown, so both say the same thing.
 *
 * Cell and paragraph text is plain text; a newline inside a table cell is a
 * line break in both renderers. A table may name a column whose cells are
 * modes ("paging/tlb/nmi/irq"): the HTML shows each with its fixed colour. */
#ifndef VTBENCH_REPORT_DOC_H
#define VTBENCH_REPORT_DOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

json_t *report_doc__new(void);
void report_doc__heading(json_t *doc, int level, const char *id, const char *text);
void report_doc__para(json_t *doc, const char *text);
/* A paragraph shown as a highlighted note (an incomplete session, ...). */
void report_doc__note(json_t *doc, const char *text);
/* A bulleted list; items is an array of strings (stolen). */
void report_doc__list(json_t *doc, json_t *items);
/* [label, value] pairs (stolen); values are shown as code. */
void report_doc__facts(json_t *doc, json_t *pairs);
/* A table with these column heads (stolen array of strings). num_from: the
 * first right-aligned (numeric) column, -1 none; mode_col: the column of
 * modes, -1 none. Returns the (borrowed) rows array: append arrays of
 * strings, one per row, as long as the head. */
json_t *report_doc__table(json_t *doc, json_t *head, int num_from, int mode_col);
/* A plot: base name of base.png / base.svg, its title and its CSV. */
void report_doc__figure(json_t *doc, const char *base, const char *title, const char *csv,
                        bool svg);
/* Links to files of the report: [[text, href], ...] (stolen). */
void report_doc__links(json_t *doc, const char *lead, json_t *links);

/* Write the document. 0, or -1 with errno set from the stream. */
int report_doc__write_html(const json_t *doc, const char *title, FILE *f);
int report_doc__write_md(const json_t *doc, FILE *f);

#endif
