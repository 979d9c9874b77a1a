"""The self-refreshing parts of the pages (board rows, My queue, the incident page's live parts) answer
with an ETag, and 304 Not Modified when the poller's If-None-Match still names it.

The tag is a hash of the HTML with what changes on every render and means nothing taken out: the
countdowns' text (the page ticks them itself) and the CSRF tokens' signatures. The fragment is still
drawn to know whether it changed (reading a version per table behind a page would miss one some day);
what the 304 saves is the bytes and the browser's work of swapping unchanged HTML in. Werkzeug's
Response.make_conditional does the If-None-Match comparison, as for any conditional GET.
"""

import hashlib
import re
import time

from flask import Response, request

COUNTDOWN_TEXT = re.compile(r'(<time class="countdown"[^>]*>)[^<]*')
CSRF_VALUE = re.compile(r'(csrf_token" type="hidden" value=")[^"]*')
# The tag changes every half hour even when nothing else did, so a page left open gets fresh CSRF
# tokens in its live parts long before their limit (WTF_CSRF_TIME_LIMIT: a session's longest life) refuses them.
TOKEN_REFRESH_SECONDS = 1800


def tag_of(html: str) -> str:
    """The ETag of a fragment: the same for two renders that differ only in countdown text and tokens."""
    steady = CSRF_VALUE.sub(r"\1", COUNTDOWN_TEXT.sub(r"\1", html))
    stamp = int(time.time() // TOKEN_REFRESH_SECONDS)
    return hashlib.sha256(f"{stamp}\n{steady}".encode()).hexdigest()[:32]


def conditional(html: str) -> Response:
    """The fragment as a response with its ETag, or an empty 304 when the poller has it already."""
    response = Response(html, mimetype="text/html")
    response.set_etag(tag_of(html))
    environ = request.environ
    if request.if_match.star_tag:
        # "If-Match: *" holds whenever a current representation exists (RFC 9110, 13.1.1), as a fragment
        # always does; Werkzeug answers it 412, so the condition is taken as met and left out.
        environ = {k: v for k, v in environ.items() if k != "HTTP_IF_MATCH"}
    response.make_conditional(environ)  # turns it into the 304 (or 412) in place
    return response
