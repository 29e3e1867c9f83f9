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

from tracker.importing.lists import MAX_FILE_BYTES, ImportFileError, import_list
from tracker.models import Batch, FilingType

SESSION_KEY = "tracker_imports"
PREVIEW_ROWS = 200
STASH_MAX_AGE = 24 * 3600


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Published list"),
        help_text=gettext_lazy(
            "CSV (UTF-8 or GB18030) or XLSX with the columns 序号, 属地, 模型名称, 备案单位, "
            "备案号, 备案时间 under any of the published headers (大模型名称, 备案编号; the "
            "registration tables' 应用/功能名称, 登记单位, 上线编号, 登记时间; the on-device "
            "table's 适用场景), or seq_no, jurisdiction, model_name, applicant, filing_number, "
            "filing_date."
        ),
    )
    batch = forms.ModelChoiceField(queryset=Batch.objects.all(), label=gettext_lazy("Batch"))
    filing_type = forms.ChoiceField(
        choices=[("", gettext_lazy("As each row's number says")), *FilingType.choices],
        required=False,
        label=gettext_lazy("Type"),
        help_text=gettext_lazy(
            "A registration number carries an S serial after its date. Choose a type only "
            "to have rows whose number says otherwise reported."
        ),
    )
    unswap = forms.BooleanField(
        required=False,
        label=gettext_lazy("Read swapped rows the other way round"),
        help_text=gettext_lazy(
            "Rows whose model cell holds a company name and whose applicant cell holds a "
            "model are refused; tick this to import them with the cells exchanged, each "
            "listed in the preview and noted in the model's history."
        ),
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


def _stash(request, data, batch, options, name):
    """Keep the uploaded file until it is confirmed; the session says whose it is."""
    folder = _stash_dir()
    cutoff = time.time() - STASH_MAX_AGE
    for old in folder.iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(16)
    (folder / token).write_bytes(data)
    stashes = request.session.get(SESSION_KEY, {})
    stashes[token] = {"batch": batch.pk, "name": name, **options}
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
        options = {
            "filing_type": form.cleaned_data["filing_type"] or None,
            "unswap": form.cleaned_data["unswap"],
        }
        data = upload.read()
        try:
            result = import_list(data, batch=batch, dry_run=True, **options)
        except ImportFileError as error:
            form.add_error("file", str(error))
        else:
            token = _stash(request, data, batch, options, upload.name)
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
        options = {"filing_type": stash["filing_type"], "unswap": stash.get("unswap", False)}
        result = import_list(
            data,
            batch=batch,
            by=request.user,
            skip_invalid=request.POST.get("skip_invalid") == "on",
            **options,
        )
    except ImportFileError as error:
        messages.error(request, str(error))
        return redirect(request.path)
    if not result.written:
        # The register changed since the preview and some rows no longer fit: show them.
        token = _stash(request, data, batch, options, stash["name"])
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
