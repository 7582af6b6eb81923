"""Reference side of the pySigma differential test: converts Sigma rules with pySigma's SQLite backend
and runs the queries over the given events in an in-memory SQLite database.

stdin:  {"rules": [{"id": str, "yaml": str}], "events": [{"raw": {...}, "text": str}]}
stdout: {"rule id": [matching event indexes] | {"error": str}}
Nested objects become dotted columns (`objectRef.resource`); `_raw` holds the event's JSON text for
keyword search. Columns compare case-insensitively (COLLATE NOCASE), as Sigma wants.
"""
import json
import re
import sqlite3
import sys

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection


def flatten(obj, prefix=""):
    out = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def sql_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        raise ValueError("arrays are not comparable in SQLite; keep differential events scalar")
    return value


def regexp(pattern, value):
    if value is None:
        return False
    return re.search(pattern, str(value)) is not None


def main():
    data = json.load(sys.stdin)
    rows = [flatten(e["raw"]) for e in data["events"]]
    columns = sorted({c for row in rows for c in row} | {"_raw"})
    db = sqlite3.connect(":memory:")
    db.create_function("regexp", 2, regexp, deterministic=True)
    quoted = ", ".join(f'"{c}" COLLATE NOCASE' for c in columns)
    db.execute(f"CREATE TABLE logs ({quoted})")
    for row, event in zip(rows, data["events"]):
        values = [event["text"] if c == "_raw" else sql_value(row.get(c)) for c in columns]
        db.execute(f"INSERT INTO logs VALUES ({', '.join('?' for _ in columns)})", values)
    backend = sqliteBackend(fulltext_field="_raw")
    results = {}
    for rule in data["rules"]:
        try:
            queries = backend.convert(SigmaCollection.from_yaml(rule["yaml"]))
            hits = set()
            for query in queries:
                sql = query.replace("SELECT *", "SELECT rowid", 1)
                hits.update(r[0] - 1 for r in db.execute(sql))
            results[rule["id"]] = sorted(hits)
        except Exception as error:  # a rule pySigma cannot convert is reported, not compared
            results[rule["id"]] = {"error": f"{type(error).__name__}: {error}"}
    json.dump(results, sys.stdout)


main()
