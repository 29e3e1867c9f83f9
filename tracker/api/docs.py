"""/api/: the API's documentation for people, written from its own OpenAPI schema, so the
page lists exactly the endpoints and parameters the API has. A plain page: no script and
nothing from another site, so it works under the site's content security policy."""

from functools import cache

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from tracker.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from tracker.public.conditional import conditional


@cache
def schema():
    """The OpenAPI schema: code, not data, so one per process."""
    return SchemaGenerator().get_schema(request=None, public=True)


def endpoints():
    """(path, summary, parameters) of each GET operation, in the schema's order."""
    result = []
    for path, operations in schema()["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        parameters = [
            {
                "name": p["name"],
                "where": p["in"],
                "description": p.get("description", ""),
                "type": _type_label(p.get("schema", {})),
            }
            for p in operation.get("parameters", [])
        ]
        result.append(
            {"path": path, "summary": operation.get("description", ""), "parameters": parameters}
        )
    return result


def _type_label(schema):
    if schema.get("type") == "array":
        return f"{_type_label(schema['items'])}, repeatable"
    if "enum" in schema:
        return " | ".join(schema["enum"])
    return schema.get("format") or schema.get("type", "")


@conditional
def api_docs(request):
    base = request.build_absolute_uri("/").rstrip("/")
    context = {
        "base": base,
        "api_root": request.build_absolute_uri(reverse("api:api-root")),
        "schema_url": request.build_absolute_uri(reverse("api:schema")),
        "endpoints": endpoints(),
        "models_page": reverse("tracker:model_list"),
        "downloads_page": reverse("data:downloads"),
        "rate": settings.API_RATE,
        "default_page_size": DEFAULT_PAGE_SIZE,
        "max_page_size": MAX_PAGE_SIZE,
    }
    return render(request, "tracker/api_docs.html", context)
