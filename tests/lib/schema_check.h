/* schema_check.h - validate result documents against results/schema.json
 * from C tests, by running tests/scripts/validate_json.py (python3-jsonschema)
 * as a subprocess.
 *
 * The validator is found at $VTB_VALIDATOR, else
 * $VTB_SRCDIR/tests/scripts/validate_json.py, else that path relative to the
 * current directory (tests run from the repository root).
 */
#ifndef TESTS_LIB_SCHEMA_CHECK_H
#define TESTS_LIB_SCHEMA_CHECK_H

#include <jansson.h>
#include <stddef.h>

/* 0: valid. 1: invalid, the validator's messages (FILE: JSON-PATH: problem)
 * in err. -1: the validator could not run (missing python3-jsonschema, no
 * script), the reason in err. */
int schema_check__file(const char *path, char *err, size_t len);
/* Same for an in-memory document (written to a temporary file). */
int schema_check__json(const json_t *doc, char *err, size_t len);

#endif
