"""The plain retrieval baselines `recall.py` prints beside Hearth's: one message, one document.

What a simple RAG over a chat log does, and what the memory issue's reference figures describe
(plain dense all-MiniLM-L6-v2, BM25, and the two fused by rank): every message of the
transcript is a document of its own, written as a log line ("Caroline: I went to a support
group yesterday"); no turns, no neighbours, no pronouns resolved, no time, no speaker boost.

- dense: the message embedded with Hearth's default embedder (the same weights and precision
  as the index), cosine to the question;
- keyword: Okapi BM25 (k1 1.2, b 0.75) over lower-cased words, no stemming or stopwords
  (CJK runs are single tokens, as a whitespace tokenizer leaves them);
- fusion: reciprocal rank fusion of the two top-100 lists, k = 60.

A result is one message, so a baseline's top 10 shows 10 messages (Hearth's shows ~4 per result).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

TOKEN = re.compile(r"\w+")
K1, B = 1.2, 0.75
FUSION_K = 60
FUSION_DEPTH = 100
MODES = ("plain-dense", "plain-keyword", "plain-fusion")


class PlainBaseline:
    """Ranks the messages of a transcript for questions, the plain ways."""

    def __init__(self, embedder: Any, lines: Sequence[tuple[str, str]]) -> None:
        """`lines`: (source id, "Speaker: text") of every message; embedded here."""
        self.ids = [source_id for source_id, _ in lines]
        texts = [text for _, text in lines]
        self.embedder = embedder
        self.vectors = embedder.embed(texts)
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.lengths = np.zeros(len(texts))
        for row, text in enumerate(texts):
            words = TOKEN.findall(text.lower())
            self.lengths[row] = len(words)
            for word, count in Counter(words).items():
                self.postings[word].append((row, count))
        self.mean_length = float(self.lengths.mean()) if texts else 0.0

    def rankings(self, question: str, k: int) -> dict[str, list[str]]:
        """The top `k` source ids of each mode, best first."""
        dense = self.vectors @ self.embedder.embed([question], query=True)[0]
        keyword = self._bm25(question)
        dense_order = np.argsort(-dense, kind="stable")
        keyword_order = [row for row in np.argsort(-keyword, kind="stable") if keyword[row] > 0]
        fused: dict[int, float] = defaultdict(float)
        for order in (dense_order[:FUSION_DEPTH], keyword_order[:FUSION_DEPTH]):
            for rank, row in enumerate(order):
                fused[int(row)] += 1.0 / (FUSION_K + rank + 1)
        fusion_order = sorted(fused, key=lambda row: (-fused[row], row))
        return {
            "plain-dense": [self.ids[row] for row in dense_order[:k]],
            "plain-keyword": [self.ids[row] for row in keyword_order[:k]],
            "plain-fusion": [self.ids[row] for row in fusion_order[:k]],
        }

    def _bm25(self, question: str) -> np.ndarray:
        scores = np.zeros(len(self.ids))
        total = len(self.ids)
        for word in set(TOKEN.findall(question.lower())):
            posting = self.postings.get(word)
            if not posting:
                continue
            idf = math.log(1 + (total - len(posting) + 0.5) / (len(posting) + 0.5))
            rows = np.fromiter((row for row, _ in posting), dtype=np.int64)
            counts = np.fromiter((count for _, count in posting), dtype=np.float64)
            norm = K1 * (1 - B + B * self.lengths[rows] / self.mean_length)
            scores[rows] += idf * counts * (K1 + 1) / (counts + norm)
        return scores
