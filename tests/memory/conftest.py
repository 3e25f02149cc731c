"""Fixtures for memory tests: a companion in the test's data home, conversations written with
chosen dates, its memory opened with the real all-MiniLM-L6-v2 and real Chroma (tmp dirs), and
tiny BERT / XLM-RoBERTa encoders built here (random weights, a WordPiece tokenizer trained on
local text) for the plumbing of other embedding models.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runtime.companion import Companion, Persona
from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.memory import open_memory
from runtime.memory.service import CompanionMemory
from runtime.paths import DataHome
from runtime.store import NewMessage, TranscriptStore

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
"""The tests' "now" for time-aware retrieval."""


@pytest.fixture
def home() -> DataHome:
    """The test's data home (HEARTH_HOME from the autouse fixture), created."""
    return DataHome.resolve(Path(os.environ["HEARTH_HOME"])).ensure()


@pytest.fixture
def entry(home: DataHome) -> CompanionEntry:
    """A companion named Mira."""
    return CompanionRegistry(home).create(Companion(persona=Persona(name="Mira")))


Turns = Sequence[tuple[str, str]]


@pytest.fixture
def converse(entry: CompanionEntry) -> Callable[..., list[int]]:
    """converse([(user, reply), …], at=datetime) → the new message ids, in order."""

    def write(turns: Turns, at: datetime = NOW - timedelta(days=30), **names: str) -> list[int]:
        with TranscriptStore.open(entry.paths.transcript) as store:
            session = store.create_session("chat", created_at=at)
            messages = []
            for number, (user, reply) in enumerate(turns):
                moment = at + timedelta(minutes=2 * number)
                messages.append(NewMessage("user", user, created_at=moment, metadata=names or None))
                messages.append(NewMessage("assistant", reply, created_at=moment))
            return store.append_many(session.id, messages)

    return write


@pytest.fixture
def memory(entry: CompanionEntry) -> Iterator[CompanionMemory]:
    """Mira's memory, opened (not yet indexed), closed after the test."""
    opened = open_memory(entry, clock=lambda: NOW)
    yield opened
    opened.close()


def _train_tokenizer(folder: Path) -> None:
    from tokenizers.implementations import BertWordPieceTokenizer

    text = (
        "my cat mochi loves green tea and long walks in the park with my sister. "
        "we went hiking in the mountains last summer. 我喜欢喝绿茶。 우리는 바다에 갔어."
    )
    tokenizer = BertWordPieceTokenizer(lowercase=True)
    tokenizer.train_from_iterator([text] * 20, vocab_size=300, min_frequency=1)
    tokenizer.save(str(folder / "tokenizer.json"))


@pytest.fixture(scope="session")
def tiny_encoders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders with config.json, tokenizer.json and model.safetensors of a 2-layer BERT and a
    2-layer XLM-RoBERTa with random weights. torch/transformers only make them."""
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    folders: dict[str, Path] = {}
    for kind in ("bert", "xlm-roberta"):
        folder = tmp_path_factory.mktemp(f"tiny-{kind}")
        _train_tokenizer(folder)
        torch.manual_seed(0)
        shape = dict(
            vocab_size=300, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=64,
        )  # fmt: skip
        if kind == "bert":
            model = transformers.BertModel(transformers.BertConfig(**shape))
        else:
            config = transformers.XLMRobertaConfig(
                **shape, max_position_embeddings=130, pad_token_id=0, type_vocab_size=1
            )
            model = transformers.XLMRobertaModel(config)
        model.save_pretrained(folder, safe_serialization=True)
        folders[kind] = folder
    return folders
