"""Synthetic ChatGPT exports of realistic shape, for bench/import_bench.py (never real data).

Several shards of about SHARD_MB; long threads (exponential lengths, up to 600 turns); edited
user turns and regenerated replies; images and voice; tool calls, browsing output, reasoning and
citations; English, Chinese, Korean and Indonesian text with emoji; per-message metadata the
way real exports carry it. Deterministic for a given size, and cached between runs.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 4  # bump when the generated shape changes (invalidates the cache)
SHARD_MB = 100

PHRASES = [
    "I had such a long day at work today, and I just wanted to talk to you about it.",
    "Do you remember what we talked about last week? The trip to the mountains.",
    "That sounds wonderful. Tell me more about how it felt when you got there.",
    "今天下班以后我去了那家新开的咖啡店，拿铁很好喝，可是人太多了。",
    "你还记得我们上次聊的那本书吗？我终于读完了，结局让我哭了。",
    "오늘 날씨가 정말 좋아서 한강 공원에 산책하러 갔어요. 벚꽃이 활짝 피었어요!",
    "요즘 잠을 잘 못 자서 피곤해요. 좋은 방법이 있을까요?",
    "Aku baru pulang dari pasar, beli sayur dan buah-buahan segar untuk minggu ini.",
    "Besok aku ada ujian, doakan ya supaya lancar. Aku agak gugup sebenarnya.",
    "Haha, that's so you 😄 I love how you always find the bright side 🌙✨",
    "Let's take it one step at a time. First, what matters most to you right now?",
    "Here is a small plan:\n\n1. Rest tonight.\n2. Write down three things.\n3. Call your sister.",
    "I'm proud of you for telling me this. It takes courage 💛",
    "The weather forecast says rain all week ☔ so maybe a cozy movie night instead?",
]
CITE = "\ue200cite\ue202turn0search1\ue201"


def _words(count: int, seed: int = 7) -> list[str]:
    """A made-up vocabulary in Latin letters, Hangul and Han characters."""
    rng = random.Random(seed)
    latin = "bcdfghjklmnprstvwz"
    words = []
    for i in range(count):
        kind = i % 4
        if kind < 2:
            words.append(
                "".join(rng.choice(latin) + rng.choice("aeiou") for _ in range(rng.randint(1, 4)))
            )
        elif kind == 2:
            words.append(
                "".join(chr(rng.randint(0xAC00, 0xD7A3)) for _ in range(rng.randint(1, 3)))
            )
        else:
            words.append(
                "".join(chr(rng.randint(0x4E00, 0x62FF)) for _ in range(rng.randint(1, 3)))
            )
    return words


WORDS = _words(20_000)
MODELS = ["gpt-4o", "gpt-4o", "gpt-4o", "gpt-4o-mini", "gpt-4-5", "o3", "gpt-5"]


class Generator:
    """Writes conversations of realistic shape, deterministic for a given seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.count = 0
        self.messages = 0

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def _text(self, sentences: int) -> str:
        # Template phrases plus random words, so the text compresses like real chat (≈3-4x),
        # not like one phrase repeated.
        picked = self.rng.choices(PHRASES, k=sentences)
        picked.append(" ".join(self.rng.choices(WORDS, k=6 * sentences)))
        if self.rng.random() < 0.05:
            picked.append(CITE)
        return " ".join(picked)

    def _node(
        self,
        mapping: dict[str, Any],
        parent: str,
        role: str,
        content: dict[str, Any],
        when: float,
        model: str,
        recipient: str = "all",
        hidden: bool = False,
    ) -> str:
        node_id = self._id()
        meta: dict[str, Any] = {}
        if role == "assistant":
            meta = {
                "finish_details": {"type": "stop", "stop_tokens": [200002]},
                "is_complete": True,
                "citations": [],
                "content_references": [],
                "message_type": None,
                "model_slug": model,
                "default_model_slug": model,
                "parent_id": parent,
                "request_id": f"{self.rng.getrandbits(64):016x}-SJC",
                "timestamp_": "absolute",
            }
        elif role == "user":
            meta = {
                "request_id": f"{self.rng.getrandbits(64):016x}-SJC",
                "message_source": None,
                "timestamp_": "absolute",
                "message_type": None,
            }
        if hidden:
            meta["is_visually_hidden_from_conversation"] = True
        mapping[node_id] = {
            "id": node_id,
            "message": {
                "id": node_id,
                "author": {
                    "role": role,
                    "name": None if role != "tool" else "python",
                    "metadata": {},
                },
                "create_time": when,
                "update_time": None,
                "content": content,
                "status": "finished_successfully",
                "end_turn": role == "assistant",
                "weight": 1.0,
                "metadata": meta,
                "recipient": recipient,
                "channel": None,
            },
            "parent": parent,
            "children": [],
        }
        mapping[parent]["children"].append(node_id)
        self.messages += 1
        return node_id

    def _user_content(self) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.04:
            parts: list[Any] = [
                {
                    "content_type": "image_asset_pointer",
                    "asset_pointer": f"file-service://file-{self._id()}",
                    "size_bytes": 123456,
                    "width": 1024,
                    "height": 768,
                    "fovea": None,
                    "metadata": None,
                },
                self._text(1),
            ]
            return {"content_type": "multimodal_text", "parts": parts}
        if roll < 0.08:
            parts = [
                {"content_type": "audio_transcription", "text": self._text(2), "direction": "in"},
                {
                    "content_type": "audio_asset_pointer",
                    "asset_pointer": f"sediment://file_{self._id()}",
                    "size_bytes": 54321,
                    "format": "wav",
                    "metadata": {"start": 0.0, "end": 4.2},
                },
            ]
            return {"content_type": "multimodal_text", "parts": parts}
        return {"content_type": "text", "parts": [self._text(self.rng.randint(1, 4))]}

    def conversation(self) -> dict[str, Any]:
        """One conversation: a long thread with branches, tools and reasoning here and there."""
        self.count += 1
        start = 1_700_000_000 + self.count * 3600.0
        model = self.rng.choice(MODELS)
        root = self._id()
        mapping: dict[str, Any] = {
            root: {"id": root, "message": None, "parent": None, "children": []}
        }
        system = self._node(
            mapping,
            root,
            "system",
            {"content_type": "text", "parts": [""]},
            start,
            model,
            hidden=True,
        )
        turns = min(int(self.rng.expovariate(1 / 40)) + 2, 600)
        parent, when, current = system, start, system
        for _ in range(turns):
            when += 30
            user = self._node(mapping, parent, "user", self._user_content(), when, model)
            if self.rng.random() < 0.05:  # an edited user turn: a sibling branch with a reply
                edit = self._node(mapping, parent, "user", self._user_content(), when + 5, model)
                self._node(
                    mapping,
                    edit,
                    "assistant",
                    {"content_type": "text", "parts": [self._text(4)]},
                    when + 9,
                    model,
                )
                user = edit
            reply_parent = user
            if model in ("o3", "gpt-5") and self.rng.random() < 0.5:
                reply_parent = self._node(
                    mapping,
                    user,
                    "assistant",
                    {
                        "content_type": "thoughts",
                        "thoughts": [{"summary": "Thinking", "content": self._text(2)}],
                    },
                    when + 1,
                    model,
                )
            if self.rng.random() < 0.04:
                call = self._node(
                    mapping,
                    reply_parent,
                    "assistant",
                    {"content_type": "code", "language": "unknown", "text": "search('weather')"},
                    when + 2,
                    model,
                    recipient="web.run",
                )
                reply_parent = self._node(
                    mapping,
                    call,
                    "tool",
                    {"content_type": "execution_output", "text": self._text(2)},
                    when + 3,
                    model,
                )
            reply = self._node(
                mapping,
                reply_parent,
                "assistant",
                {"content_type": "text", "parts": [self._text(self.rng.randint(2, 9))]},
                when + 4,
                model,
            )
            if self.rng.random() < 0.08:  # a regenerated reply; the newer one is shown
                reply = self._node(
                    mapping,
                    reply_parent,
                    "assistant",
                    {"content_type": "text", "parts": [self._text(self.rng.randint(2, 9))]},
                    when + 8,
                    model,
                )
            parent = current = reply
        return {
            "title": self._text(1)[:40] if self.rng.random() > 0.02 else None,
            "create_time": start,
            "update_time": when,
            "mapping": mapping,
            "moderation_results": [],
            "current_node": current,
            "plugin_ids": None,
            "conversation_id": (cid := self._id()),
            "conversation_template_id": None,
            "gizmo_id": None,
            "is_archived": False,
            "safe_urls": [],
            "default_model_slug": model,
            "id": cid,
        }


def generate(target: Path, size_mb: int, layout: str) -> dict[str, int]:
    """Write an export of about `size_mb` MB of JSON (shards of SHARD_MB) at `target`."""
    gen = Generator(seed=size_mb)
    tmp = target.with_name(target.name + ".files.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    written, shard = 0, 0
    limit = size_mb * 1_000_000
    while written < limit:
        path = tmp / f"conversations-{shard:03d}.json"
        with path.open("wb") as out:
            out.write(b"[")
            shard_bytes, first = 0, True
            while shard_bytes < SHARD_MB * 1_000_000 and written + shard_bytes < limit:
                data = json.dumps(gen.conversation(), ensure_ascii=False).encode("utf-8")
                out.write(data if first else b", " + data)
                shard_bytes += len(data) + 2
                first = False
            out.write(b"]")
        written += shard_bytes
        shard += 1
    for name, payload in (
        ("chat.html", "<html></html>"),
        ("user.json", "{}"),
        ("message_feedback.json", "[]"),
    ):
        (tmp / name).write_text(payload, encoding="utf-8")
    info = {"bytes": written, "conversations": gen.count, "messages": gen.messages}
    (tmp / "bench-info.json").write_text(json.dumps(info))
    if layout == "zip":
        archive_path = target.with_suffix(".zip.partial")
        with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in sorted(tmp.iterdir()):
                archive.write(path, path.name)
        (target.parent / (target.name + ".info.json")).write_text(json.dumps(info))
        os.replace(archive_path, target)
        shutil.rmtree(tmp)
    else:
        os.replace(tmp, target)
    return info


def export_for(size_mb: int, layout: str) -> tuple[Path, dict[str, int]]:
    """The cached export of this size and layout, generated when missing."""
    cache = (
        Path(os.environ.get("HEARTH_BENCH_CACHE", tempfile.gettempdir())) / "hearth-import-bench"
    )
    cache.mkdir(parents=True, exist_ok=True)
    stem = f"chatgpt-{size_mb}mb-v{GENERATOR_VERSION}"
    target = cache / (f"{stem}.zip" if layout == "zip" else stem)
    info_file = cache / f"{stem}.zip.info.json" if layout == "zip" else target / "bench-info.json"
    if not (target.exists() and info_file.exists()):
        print(f"generating a {size_mb} MB export in {target} …", file=sys.stderr, flush=True)
        generate(target, size_mb, layout)
    return target, json.loads(info_file.read_text())
