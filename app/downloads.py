"""Downloads that never end half-done: a file written first (Excel, FEC) and a streamed CSV.

A file written to a temporary file: whatever happens, the file is closed (and so gone: a
``TemporaryFile`` has no name left on POSIX) — at once when the writer fails, after the
response is sent when it succeeds. A writer's failure answers with a French error page,
never a 500 trace.

A CSV export: the first ``BUFFER_LIMIT`` bytes are produced before anything is sent. An export
that fits (nearly all of them: a month of a firm's timesheets is a few hundred kilobytes) is
sent whole with its Content-Length, so a failure while producing it is a French error page and
the browser never saves a partial file. Only a larger one is streamed, so that it never sits
in memory: if its query fails after the first bytes are out, the status line is gone and the
only honest signal left is the connection itself. The error is logged and re-raised; both
Werkzeug and gunicorn then drop the connection without the final zero-length chunk, so
browsers and curl report a failed download instead of saving a file that looks complete
(nginx in front does the same when its upstream closes early).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from flask import Response, current_app, render_template, request, send_file, stream_with_context
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.download_cache import MAX_BYTES, RenderedDownloads, content_key, small_rows

#: Bytes of a CSV export produced before answering: below, sent whole; above, streamed.
BUFFER_LIMIT = 1 << 20
#: The whole Content-Type of a CSV (given as a mimetype, Werkzeug appended a second charset).
CSV_MIMETYPE = "text/csv; charset=utf-8"

FAILED_TITLE = "Export impossible"
FAILED_MESSAGE = (
    "Le fichier n'a pas pu être produit : aucun fichier partiel n'a été envoyé et rien n'a été "
    "enregistré. Réessayez ; si l'erreur persiste, prévenez l'administrateur."
)


def _failed(error: Exception) -> Response:
    """The French page of a download that could not be produced. Database and HTTP errors
    keep their own answers (503 busy, 400 out of range, 404...): they are re-raised."""
    if isinstance(error, SQLAlchemyError | HTTPException):
        raise error
    current_app.logger.exception("download failed on %s %s", request.method, request.path)
    page = render_template("errors/error.html", code=500, title=FAILED_TITLE,
                           message=FAILED_MESSAGE)  # fmt: skip
    return Response(page, status=500, mimetype="text/html")


def send_written(
    write: Callable[[IO[bytes]], object], *, mimetype: str, download_name: str
) -> Response:
    """Send the file that ``write`` writes into a temporary file (never all in memory).

    The handle is closed on every path: at once if ``write`` raises, after the response is
    sent otherwise (``send_file`` closes it at the end of the body, and ``call_on_close``
    covers a response never iterated, such as a HEAD request or a client gone early)."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed below on every path
    try:
        write(handle)
        handle.seek(0)
    except Exception as error:
        handle.close()
        return _failed(error)
    try:
        response = send_file(handle, mimetype=mimetype, as_attachment=True,
                             download_name=download_name)  # fmt: skip
    except BaseException:
        handle.close()
        raise
    response.call_on_close(handle.close)
    return response


def rendered_downloads() -> RenderedDownloads:
    """The app's cache of rendered downloads (one per app, hence per worker process)."""
    cache = current_app.extensions.get("mutualise_downloads")
    if cache is None:
        size = int(current_app.config.get("DOWNLOAD_CACHE_BYTES", MAX_BYTES))
        cache = current_app.extensions["mutualise_downloads"] = RenderedDownloads(size)
    return cache


def send_rows_written(
    rows: Iterable[tuple[Any, ...]],
    write: Callable[[Iterable[tuple[Any, ...]], IO[bytes]], object],
    *,
    kind: str,
    mimetype: str,
    download_name: str,
) -> Response:
    """Send the file ``write(rows, handle)`` makes of ``rows``. Up to
    :data:`app.download_cache.MAX_ROWS` rows, it is rendered in memory once per worker and the
    same bytes are sent again while the rows are the same (``kind`` names the file format in
    the key); a larger export goes through :func:`send_written`, never cached."""
    small, every_row = small_rows(rows)
    if small is None:
        return send_written(lambda handle: write(every_row, handle), mimetype=mimetype,
                            download_name=download_name)  # fmt: skip

    def render() -> bytes:
        buffer = io.BytesIO()
        write(small, buffer)
        return buffer.getvalue()

    try:
        data = rendered_downloads().get_or_render(content_key(kind, small), render)
    except Exception as error:
        return _failed(error)
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=download_name)  # fmt: skip


def send_rows_csv(
    rows: Iterable[tuple[Any, ...]],
    lines: Callable[[Iterable[tuple[Any, ...]]], Iterable[str]],
    *,
    kind: str,
    download_name: str,
) -> Response:
    """Send the CSV ``lines(rows)`` makes of ``rows``. Up to
    :data:`app.download_cache.MAX_ROWS` rows it is produced whole before answering, kept like
    the Excel files (formatting a month of 480 rows cost more CPU than the page that links to
    it, and the same month is downloaded again and again) and sent with its length; a larger
    export is streamed by :func:`send_csv`."""
    try:
        small, every_row = small_rows(rows)
    except Exception as error:
        return _failed(error)
    if small is None:
        return send_csv(lines(every_row), download_name=download_name)

    def render() -> bytes:
        return "".join(lines(small)).encode()

    try:
        data = rendered_downloads().get_or_render(content_key(kind, small), render)
    except Exception as error:
        return _failed(error)
    return Response(data, content_type=CSV_MIMETYPE, headers=_attachment(download_name))


def _attachment(download_name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{download_name}"'}


def send_csv(
    chunks: Iterable[str], *, download_name: str, buffer_limit: int | None = None
) -> Response:
    """Send a CSV produced chunk by chunk: whole when it fits in ``buffer_limit`` bytes,
    streamed beyond (see the module's docstring for why, and what a late failure does)."""
    headers = _attachment(download_name)
    mimetype = CSV_MIMETYPE
    limit = BUFFER_LIMIT if buffer_limit is None else buffer_limit
    iterator = iter(chunks)
    head: list[bytes] = []
    size = 0
    try:
        for chunk in iterator:
            data = chunk.encode()
            head.append(data)
            size += len(data)
            if size >= limit:
                break
        else:
            return Response(b"".join(head), content_type=mimetype, headers=headers)
    except Exception as error:
        return _failed(error)
    return Response(stream_with_context(_rest(head, iterator)), content_type=mimetype,
                    headers=headers)  # fmt: skip


def _rest(head: list[bytes], iterator: Iterator[str]) -> Iterator[bytes]:
    yield from head
    head.clear()
    try:
        for chunk in iterator:
            yield chunk.encode()
    except Exception:
        current_app.logger.exception(
            "streamed download failed on %s %s: connection dropped so the client sees an "
            "incomplete file", request.method, request.path,
        )
        raise
