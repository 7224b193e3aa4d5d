"""The reference uploader: the seed's PHP uploader rebuilt on Starlette and SQLAlchemy Core.

    GET  / and /index.php            the form, the session's last message, the 20 newest uploads
    POST /index.php?action=save      multipart field `file`, streamed into the data directory
    GET  /files/{id}                 the stored bytes, as an attachment
    GET  /healthz                    200 when the database answers and the data dir is writable

Modules, one concept each: `database` (engine, unit of work, outages), `workers` (the threads
that keep database waits off the event loop), `queries` (Core statements run on the raw
cursor), `schema` (tables), `sessions` (PHP-like sessions in the DB), `filenames`
(client-supplied names), `files` (the data directory), `upload` (streaming multipart, its
limits and timeouts), `records` (rows of uploaded files), `pages` (HTML), `app` (routes),
`server` (uvicorn), `reset`, `verify` and `repair` (maintenance).
"""
