"""The admin page that imports a published list: upload, preview, confirm.

The file is checked with a dry run of the importer and kept in the database (a
``PendingImport``) until its uploader confirms it; the confirmed import runs the same
``import_list`` as the ``import_filings`` command. AIModelAdmin routes the page.
"""

import secrets

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tracker.importing.lists import MAX_FILE_BYTES, ImportFileError, import_list, rejected_export
from tracker.models import AIModel, Batch, FilingType, PendingImport
from tracker.opendata import files

PREVIEW_ROWS = 200


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


def _stash(request, data, batch, options, name):
    """Keep the uploaded file until its uploader confirms it; a day old, it expires. An
    upload replaces the uploader's earlier one still waiting."""
    PendingImport.expired().delete()
    PendingImport.objects.filter(created_by=request.user).delete()
    pending = PendingImport.objects.create(
        token=secrets.token_urlsafe(32),
        created_by=request.user,
        name=name[:255],
        data=data,
        batch=batch,
        filing_type=options["filing_type"] or "",
        unswap=options["unswap"],
    )
    return pending.token


def _waiting(request, token):
    """The upload ``token`` names, if this user made it and it has not expired."""
    return (
        PendingImport.objects.select_related("batch")
        .filter(token=token, created_by=request.user)
        .exclude(pk__in=PendingImport.expired())
        .first()
    )


def _unstash(request, token):
    """The upload ``token`` names (see ``_waiting``), taken away, so a second confirmation
    finds nothing."""
    pending = _waiting(request, token)
    # Whoever deletes it confirms it: a second click finds nothing to import.
    if pending is None or not PendingImport.objects.filter(pk=pending.pk).delete()[0]:
        return None
    return pending


def _preview(request, context, result, token, batch, filename, refusal=None):
    context.update(
        refusal=refusal,
        result=result,
        preview_rows=result.to_create[:PREVIEW_ROWS],
        more_rows=max(len(result.to_create) - PREVIEW_ROWS, 0),
        token=token,
        batch=batch,
        filename=filename,
        title=_("Check the import"),
    )
    return render(request, "admin/tracker/import_preview.html", context)


def _check_permission(request):
    # Each row of a published list enters the register approved: a review decision.
    if not request.user.has_perms(["tracker.add_aimodel", "tracker.change_status"]):
        raise PermissionDenied


def import_page(request):
    _check_permission(request)
    context = {
        **admin.site.each_context(request),
        "title": _("Import a published list"),
        "opts": AIModel._meta,
    }
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
    pending = _unstash(request, request.POST["token"])
    if pending is None:
        messages.error(
            request, _("That upload has expired or was already imported: upload it again.")
        )
        return redirect(request.path)
    data, batch = bytes(pending.data), pending.batch
    options = {"filing_type": pending.filing_type or None, "unswap": pending.unswap}
    try:
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
        # Rows with problems, left in without being asked to, or found since the preview
        # because the register changed: nothing was written. Show them again.
        refusal = ngettext(
            "Nothing was imported: %(count)s row has a problem. Tick “Import the good rows "
            "and leave out the rows with problems” to import the others, or fix the file "
            "and upload it again.",
            "Nothing was imported: %(count)s rows have problems. Tick “Import the good rows "
            "and leave out the rows with problems” to import the others, or fix the file "
            "and upload it again.",
            len(result.bad_rows),
        ) % {"count": len(result.bad_rows)}
        token = _stash(request, data, batch, options, pending.name)
        return _preview(request, context, result, token, batch, pending.name, refusal)
    if result.created_models or result.created_applicants:
        files.rebuild_soon()
    messages.success(request, _imported_message(result, batch))
    return redirect(request.path)


def _imported_message(result, batch):
    """What an import wrote, with links to the batch's models in the admin and in public."""
    summary = _(
        "Imported %(models)s models and %(applicants)s new applicants into %(batch)s; "
        "%(unchanged)s rows were already in the register, %(rejected)s were rejected."
    ) % {
        "models": result.created_models,
        "applicants": result.created_applicants,
        "batch": batch,
        "unchanged": len(result.unchanged),
        "rejected": len(result.bad_rows),
    }
    in_admin = f"{reverse('admin:tracker_aimodel_changelist')}?batch__id__exact={batch.pk}"
    return format_html(
        '{} <a href="{}">{}</a> · <a href="{}">{}</a>',
        summary,
        in_admin,
        _("See the batch's models"),
        batch.get_absolute_url(),
        _("its public page"),
    )


def rejected_rows(request, token):
    """The rows of a waiting upload that have problems, with the reasons, as CSV: the file
    ``import_filings --skip-invalid`` writes, to fix and upload again."""
    _check_permission(request)
    pending = _waiting(request, token)
    if pending is None:
        raise Http404(_("That upload has expired or was already imported: upload it again."))
    try:
        result = import_list(
            bytes(pending.data),
            batch=pending.batch,
            dry_run=True,
            filing_type=pending.filing_type or None,
            unswap=pending.unswap,
        )
    except ImportFileError as error:
        raise Http404(str(error)) from error
    return rejected_export(result).response()
