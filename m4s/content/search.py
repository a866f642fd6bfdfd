"""Search of content in Chinese, English and Korean.

Chosen: our own segmentation into space-separated tokens, stored per item and language in
`SearchEntry.tokens`, then the database's own full-text engine over those tokens:
SQLite FTS5 on the embedded default (a `content_search_fts` table kept beside the entries) and
PostgreSQL full-text (`to_tsvector('simple', tokens)` with a GIN expression index). Why: neither
engine segments Chinese (no spaces between words) nor handles Korean particles ("서울에서" =
"서울" + "에서"); segmenting in Python with `jieba` (Chinese) and character bigrams (Korean)
gives both engines plain words to match, and the same code path runs on both databases.

Tokens: a text is split into script runs. Han runs go through jieba's search mode (words and
the dictionary words inside longer ones: 北京烤鸭 → 北京 烤鸭 北京烤鸭); Hangul words give the
word and its character bigrams; anything else lower-case words. A query is tokenised the same
way but to its finest pieces (a Chinese word to the dictionary words inside it, a Korean word to
its bigrams) and every piece must match (AND). A query piece of one Chinese character (鸭, 湖) is
no index token (jieba keeps it inside 烤鸭, 西湖): it is matched as a substring of the stored
tokens instead, among the items the other pieces found. Results are only items the owner may see
(the feed's filter), best match first."""

import re
from functools import lru_cache

from django.db import connection, transaction

from .models import ContentItem, SearchEntry

MAX_QUERY = 100
MAX_RESULTS = 50
_CANDIDATES = 500

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HANGUL = r"\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
_RUNS = re.compile(rf"([{_HAN}]+)|([{_HANGUL}]+)|([^\W_]+)", re.UNICODE)
# Chinese function words that alone would match nearly everything: left out of queries.
_ZH_STOP = frozenset("的了是在和与及或也就都而吗呢吧啊我你他她它这那有")


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _bigrams(word: str) -> list[str]:
    return [word[i : i + 2] for i in range(len(word) - 1)] if len(word) > 1 else [word]


def tokens(text: str) -> list[str]:
    """Index tokens of a text (any mix of Chinese, Korean and Latin script)."""
    out: list[str] = []
    for han, hangul, other in _RUNS.findall(text or ""):
        if han:
            out += [w for w in _jieba().cut_for_search(han) if w.strip()]
        elif hangul:
            out.append(hangul)
            if len(hangul) > 2:
                out += _bigrams(hangul)
        elif other:
            out.append(other.lower())
    return out


def query_tokens(q: str) -> list[str]:
    """A query's tokens, each of which must be in a matching text's tokens."""
    out: list[str] = []
    for han, hangul, other in _RUNS.findall((q or "")[:MAX_QUERY]):
        if han:
            jb = _jieba()
            for word in jb.cut(han):
                inner = [s for s in jb.cut_for_search(word) if len(s) < len(word)]
                # the dictionary words inside a long word, when they cover it; else the word
                pieces = inner if inner and "".join(inner) == word else [word]
                for p in pieces:
                    if p.strip() and p not in _ZH_STOP:
                        out.append(p)
        elif hangul:
            out += _bigrams(hangul)
        elif other:
            out.append(other.lower())
    seen: set[str] = set()
    return [t for t in out if not (t in seen or seen.add(t))]  # type: ignore[func-returns-value]


# --- the index ------------------------------------------------------------------------------------
def _sqlite_fts() -> bool:
    return connection.vendor == "sqlite"


def index_item(item: ContentItem) -> None:
    """(Re)write the item's search entries, one per language it has a text in. Idempotent."""
    rows = []
    for t in item.translations.all():
        words = tokens(" ".join([t.title, t.summary, _strip_tags(t.body_html)]))
        words += [w for tag in item.tags or [] for w in tokens(str(tag))]
        rows.append(SearchEntry(item=item, language=t.language, tokens=" ".join(words)))
    with transaction.atomic():
        old = list(SearchEntry.objects.filter(item=item).values_list("pk", flat=True))
        if _sqlite_fts() and old:
            _fts_delete(old)
        SearchEntry.objects.filter(item=item).delete()
        SearchEntry.objects.bulk_create(rows)
        if _sqlite_fts():
            fresh = SearchEntry.objects.filter(item=item).values_list("pk", "tokens")
            with connection.cursor() as cur:
                cur.executemany(
                    "INSERT INTO content_search_fts(rowid, tokens) VALUES (%s, %s)", list(fresh)
                )


def remove_item(item: ContentItem) -> None:
    with transaction.atomic():
        old = list(SearchEntry.objects.filter(item=item).values_list("pk", flat=True))
        if _sqlite_fts() and old:
            _fts_delete(old)
        SearchEntry.objects.filter(item=item).delete()


def _fts_delete(entry_ids: list[int]) -> None:
    with connection.cursor() as cur:
        cur.executemany(
            "DELETE FROM content_search_fts WHERE rowid = %s", [(i,) for i in entry_ids]
        )


_TAG = re.compile(r"<[^>]+>")


def _strip_tags(html: str) -> str:
    return _TAG.sub(" ", html or "").replace("&nbsp;", " ").replace("&amp;", "&")


# --- the query ------------------------------------------------------------------------------------
def _matching_item_ids(words: list[str], language: str) -> list[int]:
    """Item ids whose tokens contain every word, best first (the reader's language first)."""
    with connection.cursor() as cur:
        if _sqlite_fts():
            match = " ".join('"{}"'.format(w.replace('"', '""')) for w in words)
            cur.execute(
                "SELECT e.item_id FROM content_search_fts f "
                "JOIN content_searchentry e ON e.id = f.rowid "
                "WHERE content_search_fts MATCH %s "
                "ORDER BY (e.language = %s) DESC, bm25(content_search_fts) LIMIT %s",
                [match, language, _CANDIDATES],
            )
        else:
            cur.execute(
                "SELECT e.item_id FROM content_searchentry e "
                "WHERE to_tsvector('simple', e.tokens) @@ plainto_tsquery('simple', %s) "
                "ORDER BY (e.language = %s) DESC, "
                "ts_rank(to_tsvector('simple', e.tokens), plainto_tsquery('simple', %s)) DESC "
                "LIMIT %s",
                [" ".join(words), language, " ".join(words), _CANDIDATES],
            )
        found = [row[0] for row in cur.fetchall()]
    seen: set[int] = set()
    return [i for i in found if not (i in seen or seen.add(i))]  # type: ignore[func-returns-value]


_ONE_HAN = re.compile(rf"^[{_HAN}]$")


def _items_containing(chars: list[str], language: str, among: list[int] | None) -> list[int]:
    """Item ids whose tokens contain every one of these characters (a substring match), in the
    order of `among` when the other query pieces ranked them, else the reader's language first."""
    entries = SearchEntry.objects.all()
    for ch in chars:
        entries = entries.filter(tokens__contains=ch)
    if among is not None:
        found = set(entries.filter(item_id__in=among).values_list("item_id", flat=True))
        return [i for i in among if i in found]
    rows = entries.values_list("item_id", "language").order_by("-item_id")[: _CANDIDATES * 2]
    ordered = sorted(rows, key=lambda r: r[1] != language)
    seen: set[int] = set()
    return [i for i, _ in ordered if not (i in seen or seen.add(i))][:_CANDIDATES]  # type: ignore[func-returns-value]


def search(owner, q: str, language: str, *, module: str | None = None, limit: int = MAX_RESULTS):
    """Items the owner may see that match `q`, best first, titles in the reader's language."""
    from .selectors import owner_profile, visible_items, with_texts

    words = query_tokens(q)
    if not words:
        return []
    singles = [w for w in words if _ONE_HAN.match(w)]
    rest = [w for w in words if w not in singles]
    ids = _matching_item_ids(rest, language) if rest else None
    if singles and ids != []:
        ids = _items_containing(singles, language, ids)
    if not ids:
        return []
    qs = visible_items(owner, profile=owner_profile(owner)).filter(pk__in=ids)
    if module:
        qs = qs.filter(module=module)
    found = {i.pk: i for i in with_texts(qs, language)}
    return [found[i] for i in ids if i in found][: max(1, min(limit, MAX_RESULTS))]
