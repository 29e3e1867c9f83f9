"""The language in a page's address.

The public pages live under a language prefix (``/en/models/``, ``/zh-hans/models/``), so a
shared link opens in the language it was shared in. The data addresses (exports, feeds, the
API, downloads) have none: what they hold and link to is the same in every language (where
they have words, such as a feed's titles, those follow the reader's cookie or browser, and
addresses in files have no language either). A page's address without
its prefix, as every link made before the prefixes, redirects permanently to the prefixed one
in the visitor's language (cookie, then ``Accept-Language``).
"""

from django.conf import settings
from django.http import HttpResponsePermanentRedirect
from django.middleware.locale import LocaleMiddleware
from django.urls import translate_url
from django.utils import translation
from django.utils.cache import patch_cache_control

# Each language's name where others name it: hreflang takes a BCP 47 tag (Django's codes are
# lower case), Open Graph a locale, language_TERRITORY.
HREFLANG = {"en": "en", "zh-hans": "zh-Hans"}
OPEN_GRAPH_LOCALES = {"en": "en_US", "zh-hans": "zh_CN"}


def neutral_path(path):
    """``path`` without its language prefix: the address that suits every language (data
    files carry it), and redirects each visitor to their own."""
    for code, _name in settings.LANGUAGES:
        prefix = f"/{code}/"
        if path.startswith(prefix):
            return path[len(prefix) - 1 :]
    return path


def alternates(request):
    """(hreflang, address) of this page in each language, then ``x-default``: the unprefixed
    address, which picks the visitor's language. None off the prefixed pages."""
    if not translation.get_language_from_path(request.path_info):
        return []
    path = request.get_full_path()
    links = [(HREFLANG[code], translate_url(path, code)) for code, _name in settings.LANGUAGES]
    return [*links, ("x-default", neutral_path(path))]


class LanguagePrefixMiddleware(LocaleMiddleware):
    """Django's, but an unprefixed page address is moved for good: ``301``, not ``302``.
    The reader's language picks where it leads, so only the reader's own browser may keep
    the redirect, never a cache shared with others."""

    response_redirect_class = HttpResponsePermanentRedirect

    def process_response(self, request, response):
        response = super().process_response(request, response)
        if response.status_code == 301 and not translation.get_language_from_path(
            request.path_info
        ):
            patch_cache_control(response, private=True)
        return response
