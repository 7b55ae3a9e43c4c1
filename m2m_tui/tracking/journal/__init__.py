"""The journal: one durable timeline of requests, polls, callbacks, rejections and lookups.

One interface, two backends, each in its own modules:

- :mod:`.interface`: what the rest of the program uses of a journal (protocols, locations);
  :mod:`.open`: open one from a path (sqlite) or a ``postgresql://`` URL (PostgreSQL).
- sqlite, the embedded default: :mod:`.sqlite` (the writes), :mod:`.sqlite_schema` (tables,
  migrations, checks before a file is touched), :mod:`.sqlite_writer` (group commit),
  :mod:`.sqlite_watch` (the file under the path replaced or deleted).
- PostgreSQL, for a team: :mod:`.pg` (the writes), :mod:`.pg_schema`, :mod:`.pg_writer`,
  :mod:`.pg_store`, :mod:`.pg_follow` (LISTEN/NOTIFY).
- Shared by both, written once in a :class:`~.dialect.Dialect` (placeholders, list matching):
  :mod:`.dialect` (columns, request rows, the requests filter), :mod:`.shared` (every read,
  recording a request and a device lookup), :mod:`.attempts` (a requestId given out again),
  :mod:`.callbacks` (what a stored callback is: redaction, the duplicate key),
  :mod:`.diagnoses` (a diagnosis beside its lookup).

Nothing is imported here: importing a backend is the caller's choice, so psycopg is loaded only
for a URL and the first frame pays for neither.
"""
