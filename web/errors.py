"""Every error response in one place: JSON for the API, ``error.html`` for pages."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from archive.errors import IndexNotFoundError, QueryError, StoreUnavailableError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """API and health-check requests get JSON errors; everything else an HTML page."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, message: str, param: str | None = None) -> Response:
    """The response for an error, in the shape the request expects."""
    if wants_json():
        response = jsonify({"ok": False, "error": message, "status": status, "param": param})
    else:
        response = Response(
            render_template("error.html", status=status, message=message, param=param), mimetype="text/html"
        )
    response.status_code = status
    return response


def _query_error(error: QueryError) -> Response:
    return error_response(400, str(error), error.param)


def _no_index(error: IndexNotFoundError) -> Response:
    log.error("%s", error)
    return error_response(503, str(error))


def _store_down(error: StoreUnavailableError) -> Response:
    log.error("%s", error)  # names the servers tried (without passwords); the reader gets no addresses
    return error_response(503, "The archive's database is not answering right now. Please try again in a minute.")


def _http_error(error: HTTPException) -> Response:
    response = error_response(error.code or 500, error.description or error.name)
    if error.code == 405 and (allowed := error.get_response().headers.get("Allow")):
        response.headers["Allow"] = allowed
    return response


def _unexpected(error: Exception) -> Response:
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return error_response(500, "Something went wrong on our side; the error has been logged.")


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""
    app.register_error_handler(QueryError, _query_error)
    app.register_error_handler(IndexNotFoundError, _no_index)
    app.register_error_handler(StoreUnavailableError, _store_down)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
