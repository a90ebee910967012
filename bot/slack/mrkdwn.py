"""Turning untrusted text (Hub metadata, user input) into Slack text that cannot become markup.

Slack parses `<...>` in mrkdwn as links, user mentions and broadcasts (`<!channel>`), so any
string we did not write ourselves goes through `escape` before it is placed in a message.
Plain-text objects (headers, button labels) are never parsed for markup, but Slack shows
their entities literally, so they get `plain` instead, which swaps the angle brackets for
look-alikes rather than entity-escaping them.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

HUB_URL = "https://huggingface.co"

ZERO_WIDTH_JOINER = "\u200d"
MAX_LINK_LABEL = 300  # real repo ids are under 100 characters; longer labels are noise

_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029]")
# C0/C1 controls except tab and newline, lone surrogates, and the bidirectional overrides and
# isolates that can make a name display as something else.
_UNWANTED_CHARS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_BROADCAST_WORDS = re.compile(r"@(?=(?:channel|here|everyone|group)\b)", re.IGNORECASE)
_ENTITIES = ("&amp;", "&lt;", "&gt;")
_LONGEST_ENTITY = max(len(entity) for entity in _ENTITIES)

# Inside `*bold*`, `_italic_`, `~strike~` or `code` spans a stray marker would end the span
# early; these look-alikes read the same but Slack does not treat them as formatting.
_INLINE_LOOKALIKES = (("`", "ˋ"), ("*", "∗"), ("_", "ˍ"), ("~", "∼"))
_PLAIN_LOOKALIKES = (("<", "‹"), (">", "›"))
_LINK_LABEL_LOOKALIKES = (("|", "¦"),)
_UNSAFE_URL_CHARS = re.compile(r"[\s<>|\"'`\\]")


def clean(text: object) -> str:
    """Text without control, bidi-override or unpaired-surrogate characters.

    Control characters can corrupt how a message renders and lone surrogates cannot be
    encoded as JSON for Slack, so both go; newlines and tabs stay because layout uses them.
    """
    if text is None:
        return ""
    value = text if isinstance(text, str) else str(text)
    value = _LINE_BREAKS.sub("\n", value)
    return _UNWANTED_CHARS.sub("", value)


def _swap(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """Replace characters pairwise (str.replace is far faster than str.translate here)."""
    for old, new in pairs:
        text = text.replace(old, new)
    return text


def _neutralise_broadcasts(text: str) -> str:
    """Put a zero-width joiner after `@` in `@channel`/`@here`/`@everyone` so nothing pings."""
    return _BROADCAST_WORDS.sub("@" + ZERO_WIDTH_JOINER, text)


def escape(text: object) -> str:
    """Make any untrusted value safe to embed in mrkdwn: no links, mentions or broadcasts."""
    value = clean(text)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _neutralise_broadcasts(value)


def escape_inline(text: object) -> str:
    """Like `escape`, and also unable to close a surrounding bold, italic or code span."""
    return _swap(escape(text), _INLINE_LOOKALIKES)


def plain(text: object) -> str:
    """Safe text for `plain_text` objects (headers, buttons), which Slack shows verbatim."""
    return _neutralise_broadcasts(_swap(clean(text), _PLAIN_LOOKALIKES))


def is_safe_url(url: str) -> bool:
    """Only absolute https URLs without characters that could end Slack's link syntax."""
    if not isinstance(url, str) or not url.startswith("https://"):
        return False
    if _UNSAFE_URL_CHARS.search(url) or clean(url) != url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname)


def link(url: str, label: str) -> str:
    """A mrkdwn link `<url|label>`; an unsafe URL degrades to the escaped label alone."""
    safe_label = _swap(escape(label), _LINK_LABEL_LOOKALIKES).replace("\n", " ").strip()
    safe_label = truncate(safe_label, MAX_LINK_LABEL)
    if not is_safe_url(url):
        return safe_label
    target = url.replace("&", "&amp;")
    return f"<{target}|{safe_label or target}>"


def hub_url(repo_id: str, *, base: str = HUB_URL) -> str:
    """The Hub page of a repo (or namespace); path characters are percent-encoded."""
    return f"{base.rstrip('/')}/{quote(clean(repo_id).strip(), safe='/')}"


def hub_link(repo_id: str, label: str | None = None, *, base: str = HUB_URL) -> str:
    """A link to a repo's Hub page, labelled with the repo id unless told otherwise."""
    return link(hub_url(repo_id, base=base), repo_id if label is None else label)


def _cut_point(text: str, cut: int) -> int:
    """Move `cut` left so it does not split an entity like `&amp;` or a `<...>` link."""
    window_start = max(0, cut - _LONGEST_ENTITY + 1)
    ampersand = text.rfind("&", window_start, cut)
    splits_entity = ampersand != -1 and ";" not in text[ampersand:cut]
    if splits_entity and any(text.startswith(entity, ampersand) for entity in _ENTITIES):
        cut = ampersand
    opening = text.rfind("<", 0, cut)
    if opening != -1 and ">" not in text[opening:cut]:
        cut = opening
    return cut


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """At most `limit` characters, ending in `ellipsis` when shortened.

    The cut never lands inside an escape entity or one of our `<url|label>` links, since
    half of either would show as garbage (or as a broken link) in Slack.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if len(ellipsis) >= limit:
        return ellipsis[:limit]
    cut = _cut_point(text, limit - len(ellipsis))
    return text[:cut].rstrip() + ellipsis
