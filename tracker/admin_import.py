"""The admin page that imports a published list: upload, preview, confirm.

The file is checked with a dry run of the importer and kept aside until staff confirm;
the confirmed import runs the same ``import_list`` as the ``import_filings`` command.
"""

import secrets
import tempfile
import time
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .importer import MAX_FILE_BYTES, ImportFileError, import_list
from .models import Batch, FilingType

SESSION_KEY = "tracker_imports"
PREVIEW_ROWS = 200
STASH_MAX_AGE = 24 * 3600


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Published list"),
        help_text=gettext_lazy(
            "CSV (UTF-8 or GB18030) or XLSX with the columns 序号, 属地, 模型名称, 备案单位, "
            "备案号, 备案时间 (or seq_no, jurisdiction, model_name, applicant, filing_number, "
            "filing_date)."
        ),
    )
    batch = forms.ModelChoiceField(queryset=Batch.objects.all(), label=gettext_lazy("Batch"))
    filing_type = forms.ChoiceField(
        choices=FilingType.choices, initial=FilingType.FILING, label=gettext_lazy("Type")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s MB; a published list is at most %(limit)s MB.")
                % {"size": upload.size // 2**20, "limit": MAX_FILE_BYTES // 2**20}
            )
        return upload


def _stash_dir():
    path = Path(tempfile.gettempdir()) / "tracker-imports"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _stash(request, data, batch, filing_type, name):
    """Keep the uploaded file until it is confirmed; the session says whose it is."""
    folder = _stash_dir()
    cutoff = time.time() - STASH_MAX_AGE
    for old in folder.iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(16)
    (folder / token).write_bytes(data)
    stashes = request.session.get(SESSION_KEY, {})
    stashes[token] = {"batch": batch.pk, "filing_type": filing_type, "name": name}
    request.session[SESSION_KEY] = stashes
    return token


def _unstash(request, token):
    stashes = request.session.get(SESSION_KEY, {})
    stash = stashes.pop(token, None)
    request.session[SESSION_KEY] = stashes
    if stash is None:
        return None, None
    path = _stash_dir() / token
    try:
        data = path.read_bytes()
    except OSError:
        return None, None
    path.unlink(missing_ok=True)
    return stash, data


def _preview(request, context, result, token, batch, filename):
    context.update(
        result=result,
        preview_rows=result.to_create[:PREVIEW_ROWS],
        more_rows=max(len(result.to_create) - PREVIEW_ROWS, 0),
        token=token,
        batch=batch,
        filename=filename,
        title=_("Check the import"),
    )
    return render(request, "admin/tracker/import_preview.html", context)


def import_page(request):
    # Each row of a published list enters the register approved: a review decision.
    if not request.user.has_perms(["tracker.add_aimodel", "tracker.change_status"]):
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": _("Import a published list")}
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request, context)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = form.cleaned_data["batch"]
        filing_type = form.cleaned_data["filing_type"]
        data = upload.read()
        try:
            result = import_list(data, batch=batch, filing_type=filing_type, dry_run=True)
        except ImportFileError as error:
            form.add_error("file", str(error))
        else:
            token = _stash(request, data, batch, filing_type, upload.name)
            return _preview(request, context, result, token, batch, upload.name)
    context["form"] = form
    return render(request, "admin/tracker/import.html", context)


def _confirm(request, context):
    stash, data = _unstash(request, request.POST["token"])
    batch = Batch.objects.filter(pk=stash["batch"]).first() if stash else None
    if batch is None:
        messages.error(
            request, _("That upload has expired or was already imported: upload it again.")
        )
        return redirect(request.path)
    try:
        result = import_list(
            data,
            batch=batch,
            filing_type=stash["filing_type"],
            by=request.user,
            skip_invalid=request.POST.get("skip_invalid") == "on",
        )
    except ImportFileError as error:
        messages.error(request, str(error))
        return redirect(request.path)
    if not result.written:
        # The register changed since the preview and some rows no longer fit: show them.
        token = _stash(request, data, batch, stash["filing_type"], stash["name"])
        return _preview(request, context, result, token, batch, stash["name"])
    messages.success(
        request,
        _(
            "Imported %(models)s models and %(applicants)s new applicants into %(batch)s; "
            "%(unchanged)s rows were already in the register, %(rejected)s were rejected."
        )
        % {
            "models": result.created_models,
            "applicants": result.created_applicants,
            "batch": batch,
            "unchanged": len(result.unchanged),
            "rejected": len(result.bad_rows),
        },
    )
    return redirect(request.path)
