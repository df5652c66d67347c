"""Tokenisation: the one place text becomes index terms and query terms.

- Text is NFKC-normalised and lower-cased; it splits into runs of Chinese
  characters and runs of Latin letters and digits; everything else (quotes,
  `*`, `-`, `:`, brackets, FTS operators' punctuation) separates tokens and is
  never passed to a backend, so no query can carry FTS or SQL syntax.
- Chinese runs are segmented with jieba: search mode (`cut_for_search`: long
  words and the dictionary words inside them) for the index, precise mode for
  queries, so a query word is one the index holds. The operators' dictionary
  words (`DictionaryWord`) are added to jieba before segmenting.
- Each Chinese word also gives its pinyin, full (`shouji`) and initials (`sj`).
- Latin tokens are stemmed with the Snowball English stemmer (pinyin tokens
  too, on both sides, so they always agree). Words `OR`, `NEAR`, `AND`, `NOT`
  are plain words here.
"""

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import jieba
import snowballstemmer
from django.core.cache import cache
from pypinyin import Style, lazy_pinyin

jieba.setLogLevel(logging.WARNING)

MAX_QUERY_LENGTH = 200
MAX_QUERY_TOKENS = 12
MAX_TOKEN_LENGTH = 64

RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
PARTS = re.compile(r"[a-z]+|[0-9]+")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
DICTIONARY_VERSION_KEY = "search:dictionary-version"

_stemmer = snowballstemmer.stemmer("english")
_lock = threading.Lock()
_loaded = {"version": None}


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def is_cjk(token: str) -> bool:
    return bool(CJK.match(token))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _stemmer.stemWord(word) if word.isalpha() and len(word) > 3 else word


@lru_cache(maxsize=200_000)
def pinyin_full(word: str) -> str:
    return "".join(lazy_pinyin(word, errors="ignore"))


@lru_cache(maxsize=200_000)
def pinyin_initials(word: str) -> str:
    return "".join(lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore"))


# --- the operators' dictionary -------------------------------------------------


def dictionary_changed() -> None:
    """Tell every process to reload the dictionary before its next segmentation."""
    try:
        cache.incr(DICTIONARY_VERSION_KEY)
    except ValueError:
        cache.set(DICTIONARY_VERSION_KEY, 1, None)


def ensure_dictionary() -> None:
    """Load the operators' words into jieba when they changed since this process last did."""
    version = cache.get(DICTIONARY_VERSION_KEY, 0)
    if _loaded["version"] == version:
        return
    from .models import DictionaryWord

    with _lock:
        if _loaded["version"] == version:
            return
        for word, freq in DictionaryWord.objects.values_list("word", "frequency"):
            jieba.add_word(normalise(word), freq=freq)
        for word in _loaded.get("removed", ()):
            jieba.del_word(word)
        _loaded["removed"] = ()
        _loaded["version"] = version


def forget_word(word: str) -> None:
    _loaded["removed"] = (*_loaded.get("removed", ()), normalise(word))


# --- index side -----------------------------------------------------------------


@dataclass
class Terms:
    words: list = field(default_factory=list)
    pinyin: list = field(default_factory=list)
    initials: list = field(default_factory=list)

    def all(self) -> list:
        return [*self.words, *self.pinyin, *self.initials]


def index_terms(*texts: str) -> Terms:
    """The index terms of some text: words (Chinese words and stemmed Latin
    tokens) and the pinyin, full and initials, of its Chinese words."""
    out = Terms()
    for text in texts:
        for run in RUN.findall(normalise(text)):
            words, pinyin, initials = _run_terms(run, _loaded["version"])
            out.words += words
            out.pinyin += pinyin
            out.initials += initials
    return out


@lru_cache(maxsize=100_000)
def _run_terms(run: str, version) -> tuple:
    """The terms of one run of Chinese or Latin characters (cached: titles repeat words;
    the dictionary version is part of the key, so a changed dictionary segments anew)."""
    words, pinyin, initials = [], [], []
    if is_cjk(run):
        for word in jieba.cut_for_search(run, HMM=True):
            if not word.strip():
                continue
            words.append(word)
            full, first = pinyin_full(word), pinyin_initials(word)
            if full:
                pinyin.append(stem(full))
            if len(first) > 1:
                initials.append(stem(first))
        if len(run) > 1:  # the whole run's pinyin: "huaweishouji", "hwsj"
            pinyin.append(stem(pinyin_full(run)))
            initials.append(stem(pinyin_initials(run)))
    else:
        parts = PARTS.findall(run)
        if len(parts) > 1:  # "256gb": indexed whole and as "256", "gb"
            words.append(run[:MAX_TOKEN_LENGTH])
        words += [stem(p[:MAX_TOKEN_LENGTH]) for p in parts]
    return words, pinyin, initials


def head_terms(title: str, title_en: str = "") -> list[str]:
    """The head word of a title, which in Chinese product names comes last (透明硅胶手机壳 is a 壳,
    not a 手机): the last word of its last Chinese run of two or more characters, with that word's
    pinyin and initials, and the last English word of the English title. Ranked above other words."""
    out = []
    runs = [r for r in RUN.findall(normalise(title)) if is_cjk(r) and len(r) > 1]
    if runs:
        words = [w for w in jieba.cut(runs[-1], HMM=True) if w.strip()]
        if words:
            word = words[-1] if len(words[-1]) > 1 or len(words) == 1 else words[-2] + words[-1]
            heads = [word, *(w for w in jieba.cut_for_search(word) if w != word and len(w) > 1 and word.endswith(w))]
            for head in heads:  # 智能手机 is a 手机 too
                out += [head, stem(pinyin_full(head)), stem(pinyin_initials(head))]
    latin = [w for w in re.findall(r"[a-z]+", normalise(title_en)) if len(w) > 1]
    if latin:
        out.append(stem(latin[-1]))
    return [t for t in out if t]


def joined(tokens) -> str:
    """Tokens as the space-separated text the index stores (each once, in first-seen order)."""
    return " ".join(dict.fromkeys(t[:MAX_TOKEN_LENGTH] for t in tokens if t))


# --- query side -------------------------------------------------------------------


def clean_query(raw) -> str:
    """What a shopper typed, trimmed to a length the search accepts (never an error)."""
    text = " ".join(str(raw or "").replace("\x00", " ").split())
    return text[:MAX_QUERY_LENGTH]


def query_words(text: str) -> list[str]:
    """The words of a query (jieba precise mode; Latin stemmed), at most MAX_QUERY_TOKENS."""
    words = []
    for run in RUN.findall(normalise(text)):
        if is_cjk(run):
            words += [w for w in jieba.cut(run, HMM=True) if w.strip()]
        else:
            words += [stem(p[:MAX_TOKEN_LENGTH]) for p in PARTS.findall(run)]
    return words[:MAX_QUERY_TOKENS]


@dataclass(frozen=True)
class Query:
    """A parsed query: every group must match; a group matches when one of its
    alternatives does; an alternative matches when all its tokens do."""

    groups: tuple  # tuple[tuple[tuple[str, ...], ...], ...]
    text: str = ""

    def __bool__(self):
        return bool(self.groups)

    def tokens(self) -> list[str]:
        return list(dict.fromkeys(t for g in self.groups for alt in g for t in alt))


def word_alternatives(word: str) -> list[tuple]:
    """A query word and what else stands for it: a long Chinese word also
    matches as the dictionary words inside it (indexed by search mode)."""
    alts = [(word,)]
    if is_cjk(word) and len(word) >= 3:
        inner = tuple(w for w in jieba.cut_for_search(word) if w != word and len(w) > 1)
        if inner:
            alts.append(inner)
    return alts


def parse(text: str, synonyms: list[list[tuple]] | None = None) -> Query:
    """Parse `text` into a Query; `synonyms` are groups of token tuples that
    stand for each other (from `Synonym` rows)."""
    ensure_dictionary()
    words = query_words(text)
    index = {}
    for group in synonyms or ():
        for seq in group:
            if seq:
                index.setdefault(seq[0], []).append((seq, group))
    groups, i = [], 0
    while i < len(words):
        match = None
        for seq, group in sorted(index.get(words[i], ()), key=lambda sg: -len(sg[0])):
            if tuple(words[i:i + len(seq)]) == seq:
                match = (seq, group)
                break
        if match:
            seq, group = match
            alts = list(dict.fromkeys([seq, *group, *(word_alternatives(seq[0])[1:] if len(seq) == 1 else ())]))
            groups.append(tuple(alts))
            i += len(seq)
        else:
            groups.append(tuple(word_alternatives(words[i])))
            i += 1
    return Query(groups=tuple(groups), text=text)


def synonym_tokens(terms: list[str]) -> list[tuple]:
    """A synonym group's terms as token tuples, tokenised like queries."""
    return [t for t in (tuple(query_words(term)) for term in terms) if t]
