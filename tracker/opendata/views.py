"""/downloads/: the bulk files as the last build left them, and each file itself."""

import datetime
import mimetypes
from pathlib import PurePosixPath

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import condition

from tracker import stamp as register_stamp
from tracker.models import in_language
from tracker.opendata import files
from tracker.public.conditional import conditional

DESCRIPTIONS = {
    files.SQLITE_NAME: _(
        "The whole public register as one SQLite database: jurisdictions, applicants, "
        "batches, models, their history and sources, with primary and foreign keys, indexes "
        "and a README table that describes every table and column in English and Chinese. "
        "It opens as it is in sqlite3 and Datasette."
    ),
    files.ZIP_NAME: _(
        "Models, applicants, batches and history as CSV (the columns of the site's exports) "
        "and as JSON Lines, with a datapackage.json (Frictionless Data Package) that gives "
        "every field's type and meaning in English and Chinese."
    ),
}
CONTENT_TYPES = {
    ".sqlite": "application/vnd.sqlite3",
    ".zip": "application/zip",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
}


def _moment(text):
    return datetime.datetime.fromisoformat(text) if text else None


def _build(request):
    """The build the page lists, and when it was made: part of the page's validators."""
    current = files.published()
    if current is None:
        return None, None
    return current.directory.name, _moment(current.manifest["built_at"])


def _file_etag(request, name):
    """A file's own checksum (the manifest's: the build that wrote it)."""
    current = files.published()
    if current is None:
        return None
    entry = current.entry(name)
    return entry["sha256"] if entry else current.directory.name


def _file_built_at(request, name):
    current = files.published()
    return None if current is None else _moment(current.manifest["built_at"])


@conditional(depends_on=_build)
def index(request):
    current = files.published()
    context = {"current": current, "stale": False}
    if current is not None:
        manifest = current.manifest
        main, lists = [], []
        for entry in manifest["files"]:
            if "batch" in entry:
                title = in_language(entry["title_zh"], entry["title_en"]) or entry["batch"]
                lists.append({**entry, "title": title})
            else:
                main.append({**entry, "description": DESCRIPTIONS.get(entry["name"], "")})
        context |= {
            "main_files": main,
            "list_files": lists,
            "built_at": _moment(manifest["built_at"]),
            "register_changed_at": _moment(manifest["register_changed_at"]),
            "stale": not files.is_current(manifest, register_stamp.current()),
            "manifest_url": reverse("data:download_file", args=[files.MANIFEST_NAME]),
        }
    return render(request, "tracker/downloads.html", context)


@condition(etag_func=_file_etag, last_modified_func=_file_built_at)
def download(request, name):
    """One file of the current build, by a name its manifest lists: nothing else of the
    directory can be named, so no path leads out of it."""
    current = files.published()
    if current is None:
        raise Http404("No downloads have been built yet.")
    if name != files.MANIFEST_NAME and current.entry(name) is None:
        raise Http404("No such file.")
    try:
        handle = open(current.directory / name, "rb")  # noqa: SIM115 - FileResponse closes it
    except FileNotFoundError as error:
        raise Http404("No such file.") from error
    suffix = PurePosixPath(name).suffix
    content_type = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0]
    return FileResponse(
        handle,
        as_attachment=True,
        filename=PurePosixPath(name).name,
        content_type=content_type or "application/octet-stream",
    )
