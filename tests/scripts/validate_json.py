#!/usr/bin/python3
"""validate_json.py - check vtbench result documents against results/schema.json.

usage: validate_json.py [--schema SCHEMA] FILE...

Exit 0 when every file validates; 1 when any does not (each error printed as
FILE: JSON-PATH: message); 2 on a usage error, a missing validator or a bad
schema. Needs python3-jsonschema (Debian package; `make deps` installs it).
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.normpath(os.path.join(HERE, "..", "..", "results", "schema.json"))


def json_path(parts):
    out = "$"
    for p in parts:
        out += "[%d]" % p if isinstance(p, int) else ".%s" % p
    return out


def main():
    ap = argparse.ArgumentParser(description="validate vtbench result documents")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    try:
        import jsonschema
    except ImportError:
        print("validate_json.py: python3-jsonschema is missing: run `make deps` "
              "(apt-get install python3-jsonschema)", file=sys.stderr)
        return 2
    try:
        with open(args.schema) as f:
            schema = json.load(f)
        cls = getattr(jsonschema, "Draft202012Validator", None) or jsonschema.Draft7Validator
        cls.check_schema(schema)
        validator = cls(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        print("%s: bad schema: %s" % (args.schema, e), file=sys.stderr)
        return 2
    bad = 0
    for path in args.files:
        try:
            with open(path) as f:
                doc = json.load(f)
        except OSError as e:
            print("%s: cannot read: %s" % (path, e.strerror), file=sys.stderr)
            bad += 1
            continue
        except ValueError as e:
            print("%s: not valid JSON: %s" % (path, e), file=sys.stderr)
            bad += 1
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
        for e in errors:
            print("%s: %s: %s" % (path, json_path(e.absolute_path), e.message), file=sys.stderr)
        if errors:
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
