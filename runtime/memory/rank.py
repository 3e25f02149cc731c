"""Hybrid ranking: meaning (vectors) and words (BM25) fused, time-aware, de-duplicated.

For a query, each side proposes candidates: the nearest vectors (compared exactly while the
memory is small, from Chroma's graph beyond: see `exact`; less each vector's density, so that
stock lines near everything give way to the message that answers: see `density`) and the best
BM25 matches in SQLite FTS5, and, when the query names a time ("last summer", "去年六月"), the
nearest vectors within that time too (the time words are left out of what is embedded: they say
when, not what; the keyword side keeps them, as the name of a holiday or season is often what
was talked about too; a BM25 search within the time added nothing on the benchmark). The
candidates are fused by weighted reciprocal rank (score = Σ weight / (k + rank)), which needs no
calibration between cosine and BM25 scores. Then time: memories inside the named period get a
boost, and a small recency term breaks near ties in favour of what is newer (of two facts the
later is usually the true one); ten times stronger when the query asks how things are now ("Who
is my boss now?"). A memory in which someone the query names speaks gets a boost too ("What did
Caroline paint?": Caroline's turns, not those of another pair of people in the same memory), a
memory whose text names someone the query names a smaller one (see `named`), and so do the
turns of the episodes (stretches of a session) whose words best match the query as a whole
(`episodes`). Last, maximal marginal relevance picks the results one by one and drops
near-duplicates, so ten results are ten different memories.

An English-only embedding model places Chinese, Japanese or Korean text almost anywhere, so
with such a model the vector side only counts between texts of the same script, and among CJK
texts of the same language (a Chinese question's nearest vectors were often Japanese lines:
Chinese recall@10 on the synthetic set 0.55 → 0.65 without them). The query is embedded in
the third person, as messages are (`person`): the user's "my" is the user's, by the name the
transcript gives the user (`speaker_names`).

Defaults were chosen on the synthetic benchmark (`bench/recall.py`; figures in the README).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from runtime.memory.items import item_id_of
from runtime.memory.language import CJK_SHARE, cjk_language, cjk_share
from runtime.memory.named import NamedSpeakers
from runtime.memory.person import third_person
from runtime.memory.timeq import Period, find_period
from runtime.memory.timewords import CURRENT_STATE

if TYPE_CHECKING:
    from runtime.memory.embedder import Embedder
    from runtime.memory.items import Item, ItemStore
    from runtime.memory.speaker_names import KnownSpeakers
    from runtime.memory.turns import Speakers
    from runtime.memory.vectors import VectorIndex


LANGUAGE_CHARS = 120
"""Characters of a memory read to tell its CJK language (`_score`)."""


@dataclass(frozen=True)
class RankSettings:
    """How the two sides are weighed and the results chosen."""

    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    foreign_dense_weight: float = 0.5
    """Dense weight for a CJK query when the embedding model is English-only."""
    candidates: int = 100
    period_candidates: int = 20
    period_vectors: int = 20_000
    """A period holding more vectors than this is not searched on its own (it is a good part of
    the memory; the time boost still applies). Nor is any period once the memory is past exact
    search (see `_candidates`)."""
    rrf_k: float = 10.0
    """Small: the first ranks of each side matter much more than the tail (60, the textbook
    value, lost 3 points of recall@10 on the benchmark)."""
    time_boost: float = 0.5
    """Added to the score multiplier of memories inside the period the query names (whose
    nearest vectors also come in as candidates of their own). At 1.0, a day's small talk on
    Christmas outranked the present bought for it two weeks before; recall@10 on the benchmark
    sets is the same from 0.3 to 1.5."""
    recency_weight: float = 0.03
    current_recency_weight: float = 0.3
    """Recency weight for a query that asks how things are now (`timewords.CURRENT_STATE`):
    the newer of two facts on a topic is the answer. On the benchmark's changed-fact questions
    (all asked with "now", "现在", "요즘", …) recall@10 0.53 → 0.60 (0.3), 0.60 (1.0)."""
    recency_half_life_days: float = 180.0
    speaker_boost: float = 1.7
    """Added to the score multiplier of memories in which someone the query names speaks
    (other than the user and the companion themselves, who speak in nearly every turn). On the
    hand-written dialogs, six pairs of people in one memory, recall@10 +1.5 to +2.6 points
    (1.7, i.e. ~e: +0.6 less at 0.65); with one pair alone it changes nothing."""
    mention_boost: float = 0.5
    """Added to the score multiplier of memories whose text names someone the query names,
    when no speaker it names speaks there (`named`). Recall@10 on the hand-written dialogs
    +0.6 and +0.2 points, all six pairs in one memory +0.3 (1.0: +0.3, +0.3, +0.4)."""
    density_weight: float = 1.0
    """Times a vector's density (how crowded its neighbourhood is, see `density`) taken off
    its cosine to the query, so that stock lines near everything do not crowd out the answer."""
    mmr_lambda: float = 0.9
    duplicate_similarity: float = 0.92
    """Candidates this similar to one already chosen are dropped as duplicates."""
    pool_factor: int = 4
    """MMR chooses k results among the k * pool_factor best candidates."""
    episodes: int = 3
    episode_boost: float = 0.6
    """The turns of the query's best `episodes` by keyword (see `episodes`) have their score
    multiplied by 1 + episode_boost, 1 + 2/3 of it, 1 + 1/3 of it (best, second, third); not
    for a query about how things are now."""

    @classmethod
    def dense_only(cls) -> RankSettings:
        """Vectors only (for comparison in benchmarks)."""
        return cls(keyword_weight=0.0, foreign_dense_weight=1.0, episode_boost=0.0)

    @classmethod
    def keyword_only(cls) -> RankSettings:
        """BM25 only (for comparison in benchmarks)."""
        return cls(dense_weight=0.0, foreign_dense_weight=0.0)


@dataclass(frozen=True)
class Hit:
    """A ranked memory."""

    item: Item
    score: float


@dataclass
class _Candidate:
    item_id: str
    dense: float = 0.0
    """Reciprocal-rank share of the vector side."""
    keyword: float = 0.0
    timely: float = 0.0
    """Share of the nearest vectors within the period the query names."""
    score: float = 0.0


class Ranker:
    """Runs queries against one companion's vectors and keyword index."""

    def __init__(
        self,
        embedder: Embedder,
        vectors: VectorIndex,
        items: ItemStore,
        settings: RankSettings,
        speakers: KnownSpeakers,
    ) -> None:
        """Search `vectors` and `items` (the same companion's), embedding with `embedder`;
        queries are the user's, spoken to the companion (as `speakers` names them)."""
        self.embedder = embedder
        self.vectors = vectors
        self.items = items
        self.settings = settings
        self.speakers = speakers
        self._sql_side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-keywords")
        self._period_side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-period")

    def search(
        self,
        query: str,
        k: int,
        *,
        now: datetime,
        exclude_message_ids: Collection[int] = (),
        settings: RankSettings | None = None,
    ) -> list[Hit]:
        """The `k` best memories for `query`, best first; none whose messages are all excluded."""
        settings = settings or self.settings
        period = find_period(query, now)
        words = query  # the keyword side keeps the time words: see `_candidates`
        if period is not None:
            query = without_words(query, period.label) or query
        speakers = self.speakers.current()
        candidates, lift = self._candidates(query, words, speakers, period, settings)
        named = NamedSpeakers(query, ignored=(*speakers.names(), *self.speakers.defaults.names()))
        excluded = set(exclude_message_ids)
        scored = self._score(candidates, lift, named, period, now, excluded, settings)
        chosen = self._diverse(scored[: k * settings.pool_factor], k, settings)
        # Only the chosen are read whole (every candidate scored had its row: see `_score`).
        items = self.items.get([c.item_id for c in chosen])
        return [Hit(items[c.item_id], round(c.score, 6)) for c in chosen if c.item_id in items]

    def _candidates(
        self,
        query: str,
        words: str,
        speakers: Speakers,
        period: Period | None,
        settings: RankSettings,
    ) -> tuple[dict[str, _Candidate], dict[str, float]]:
        """The candidates of every side, and the score multiplier of the turns in the query's
        best episodes. `query` is embedded without the time it names; `words`, the query whole,
        goes to the keyword side: "Valentine's", "Christmas" or "summer" are what people talked
        about as well as when (recall@10 with them there: dialogs 0.803 → 0.806 and 0.791 →
        0.797, synthetic 0.774 → 0.782; in the embedded query too: no better)."""
        dense_weight = settings.dense_weight
        if not self.embedder.info.multilingual and cjk_share(query) > CJK_SHARE:
            dense_weight = min(dense_weight, settings.foreign_dense_weight)
        epoch = period.epoch() if period is not None else None
        found: dict[str, _Candidate] = {}

        def credit(ids: Sequence[str], weight: float, side: str) -> None:
            for rank, item_id in enumerate(dict.fromkeys(ids)):
                candidate = found.setdefault(item_id, _Candidate(item_id))
                share = weight / (settings.rrf_k + rank + 1)
                setattr(candidate, side, max(getattr(candidate, side), share))

        # The SQLite side (the period's items first, then keywords and episodes) runs in a
        # thread while the query is embedded and Chroma searched: both release the GIL. The
        # period's own vector search runs beside the main one in a thread of its own, and only
        # while search is exact: in Chroma's graph, filtered to a period's ids, it took 13-33 ms
        # at 100k memories, the slowest part of every query naming a time, for little (without
        # it recall@10 on the synthetic set 0.774 → 0.767, on the dialogs unchanged).
        within = None
        if epoch is not None and self.vectors.searches_exactly():
            within = self._sql_side.submit(self.items.vector_ids_between, *epoch)
        sql = self._sql_side.submit(self._keyword_side, words, settings)
        timely = None
        if dense_weight > 0:
            said = third_person(query, speakers.user, speakers.companion)
            vector = self.embedder.embed([said], query=True)[0]
            period_ids = within.result() if within is not None else []
            if 0 < len(period_ids) <= settings.period_vectors:
                n = 2 * settings.period_candidates
                timely = self._period_side.submit(
                    self.vectors.query_among, vector, n, period_ids,
                    density_weight=settings.density_weight,
                )  # fmt: skip
            # An item has a vector per message (see `turns`): ask for more, keep each one's best.
            hits = self.vectors.query(
                vector, 2 * settings.candidates, density_weight=settings.density_weight
            )
            credit([item_id_of(v) for v, _ in hits], dense_weight, "dense")
        keyword, lift = sql.result()
        if timely is not None:
            credit([item_id_of(v) for v, _ in timely.result()], settings.dense_weight, "timely")
        credit(keyword, settings.keyword_weight, "keyword")
        return found, lift

    def _keyword_side(
        self, query: str, settings: RankSettings
    ) -> tuple[list[str], dict[str, float]]:
        """(BM25 ranking, multiplier of the turns in the best episodes)."""
        keyword: list[str] = []
        if settings.keyword_weight > 0:
            keyword = [item_id for item_id, _ in self.items.search(query, settings.candidates)]
        lift: dict[str, float] = {}
        # A question about how things are now is about which of several turns on one topic is
        # the newest; lifting the conversation with most of its words would undo that.
        if settings.episode_boost > 0 and settings.episodes > 0 and not CURRENT_STATE.search(query):
            best = self.items.episode_items(query, settings.episodes)
            for rank, members in enumerate(best):
                factor = 1 + settings.episode_boost * (1 - rank / settings.episodes)
                for item_id in members:
                    lift.setdefault(item_id, factor)
        return keyword, lift

    def close(self) -> None:
        """Stop the worker threads."""
        self._sql_side.shutdown(wait=True)
        self._period_side.shutdown(wait=True)

    def _score(
        self,
        candidates: dict[str, _Candidate],
        lift: dict[str, float],
        named: NamedSpeakers,
        period: Period | None,
        now: datetime,
        excluded: set[int],
        settings: RankSettings,
    ) -> list[_Candidate]:
        """Fused score × time factor for every candidate that may be returned, best first."""
        query = named.query
        query_cjk = cjk_share(query) > CJK_SHARE
        multilingual = self.embedder.info.multilingual
        # An English-only model's vectors of Chinese, Japanese and Korean text are near each
        # other for no reason of meaning: the vector side counts only within the query's own.
        language = cjk_language(query) if query_cjk and not multilingual else None
        with_text = language is not None or (settings.mention_boost > 0 and named.mentions_anyone)
        briefs = self.items.briefs(list(candidates), text=with_text)
        span = period.epoch() if period is not None else None
        recency = settings.recency_weight
        if CURRENT_STATE.search(query):
            recency = settings.current_recency_weight
        scored: list[_Candidate] = []
        for item_id, candidate in candidates.items():
            brief = briefs.get(item_id)
            if brief is None:  # a vector left over from an interrupted write
                continue
            if excluded:
                message_ids = brief.message_ids()
                if message_ids and excluded.issuperset(message_ids):
                    continue
            # Another script's vectors from an English-only model: their nearness means nothing.
            dense = candidate.dense if multilingual or brief.cjk == query_cjk else 0.0
            # Nor another CJK language's (see above). A memory's first line says which: the
            # whole text took ~2 µs a candidate.
            if dense and language is not None and brief.cjk:
                dense *= cjk_language(brief.text[:LANGUAGE_CHARS]) == language
            factor = 1.0
            if span is not None and span[0] <= brief.created_at < span[1]:
                factor += settings.time_boost
            if settings.speaker_boost and named.any_of(brief.speakers_json):
                factor += settings.speaker_boost
            elif named.mentioned_in(brief.text):
                factor += settings.mention_boost
            age_days = max(0.0, (now.timestamp() - brief.created_at) / 86400)
            factor += recency * 0.5 ** (age_days / settings.recency_half_life_days)
            candidate.score = (dense + candidate.keyword + candidate.timely) * factor
            candidate.score *= lift.get(item_id, 1.0)
            if candidate.score > 0:
                scored.append(candidate)
        scored.sort(key=lambda c: (-c.score, c.item_id))
        return scored

    def _diverse(self, top: list[_Candidate], k: int, settings: RankSettings) -> list[_Candidate]:
        """Maximal marginal relevance over the fused scores, dropping near-duplicates."""
        import numpy as np

        if not top:
            return []
        stored = self.vectors.vectors([c.item_id for c in top])
        matrix = np.zeros((len(top), self.embedder.dim), dtype=np.float32)
        for row, candidate in enumerate(top):
            vector = stored.get(candidate.item_id)
            if vector is not None:  # else zeros: like nothing chosen, never a duplicate
                matrix[row] = vector
        relevance = np.array([c.score for c in top]) / top[0].score
        nearest = np.zeros(len(top))  # similarity to the closest result chosen so far
        open_ = np.ones(len(top), dtype=bool)
        chosen: list[int] = []
        while len(chosen) < k and open_.any():
            value = settings.mmr_lambda * relevance - (1 - settings.mmr_lambda) * nearest
            index = int(np.argmax(np.where(open_, value, -np.inf)))
            chosen.append(index)
            nearest = np.maximum(nearest, matrix @ matrix[index])
            open_ &= nearest < settings.duplicate_similarity
            open_[index] = False
        return [top[i] for i in chosen]


_TIME_GLUE = re.compile(r"\b(?:in|on|at|during|last|this|ago)\b", re.IGNORECASE)


def without_words(query: str, label: str) -> str:
    """`query` without the words of `label` (and English words that only tied them on).

    A Latin word goes only as a whole word ("in" from "in October", not from "begin"); CJK
    text has no spaces, so there the characters go wherever they are (去年夏天)."""
    for word in label.split():
        if word.isascii():
            query = re.sub(rf"\b{re.escape(word)}\b", " ", query)
        else:
            query = query.replace(word, " ")
    return " ".join(_TIME_GLUE.sub(" ", query).split())
