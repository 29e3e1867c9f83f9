"""What a page says about itself to search engines and link previews."""

import html
from urllib.parse import urljoin

from django import template
from django.conf import settings

from tracker import languages

register = template.Library()


class CaptureNode(template.Node):
    def __init__(self, nodelist, name):
        self.nodelist = nodelist
        self.name = name

    def render(self, context):
        text = html.unescape(self.nodelist.render(context))
        context[self.name] = " ".join(text.split())
        return ""


@register.tag
def capture(parser, token):
    """``{% capture name %}…{% endcapture %}``: what the enclosed template renders, as one
    line of plain text (escaped again where it is shown), in the variable ``name``.

    A block renders only once, but a page's title and description each appear in several
    tags: <title>, the description and the Open Graph tags.
    """
    try:
        _tag, name = token.split_contents()
    except ValueError:
        raise template.TemplateSyntaxError("capture takes one variable name") from None
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, name)


@register.simple_tag(takes_context=True)
def page_url(context):
    """This page's address at the site's public address (TRACKER_SITE_URL), not at the
    Host the request named: an error page for a refused Host must still render."""
    return urljoin(settings.SITE_URL, context["request"].get_full_path())


@register.simple_tag(takes_context=True)
def language_alternates(context):
    """(hreflang, public address) of this page in each language, for <link rel=alternate>."""
    return [
        (hreflang, urljoin(settings.SITE_URL, path))
        for hreflang, path in languages.alternates(context["request"])
    ]


@register.filter
def open_graph_locale(language_code):
    return languages.OPEN_GRAPH_LOCALES.get(language_code, languages.OPEN_GRAPH_LOCALES["en"])
