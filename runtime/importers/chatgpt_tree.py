"""One ChatGPT conversation (its `mapping` tree) → an `ImportedSession` with every branch.

The mapping is a tree of nodes linked by `parent`. All of it is kept: edited user turns and
regenerated replies become siblings, and the thread the user saw (from `current_node` up to
the root) is the active branch. What is not dialogue (tool calls, browsing, code, reasoning,
hidden and system messages) is dropped and its children are re-attached to the nearest kept
ancestor, so the tree stays connected. An assistant message whose only kept child is another
assistant message ("continue generating", or a reply split by a tool call) becomes one turn.

Order comes from the tree (parents first, siblings in the export's `children` order), never
from timestamps, which may be null. Malformed trees are repaired with a warning: a parent id
that is not in the mapping makes the node a root; a cycle is cut where it closes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runtime.importers.base import ImportedMessage, ImportedSession, ImportWarning
from runtime.importers.chatgpt_content import Classified, Kind, classify, to_time

SOURCE = "chatgpt"


@dataclass
class Converted:
    """What one conversation yields besides its session: facts, instructions, warnings."""

    session: ImportedSession | None = None
    custom: Classified | None = None
    """The conversation's custom instructions (the newest conversation's win)."""
    facts: list[tuple[str, datetime | None]] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)
    time: datetime | None = None
    """When the conversation was last updated (to pick the newest custom instructions)."""


def conversation_label(title: str | None, conversation_id: str) -> str:
    """How warnings name a conversation: its title and id."""
    return f"{title!r} ({conversation_id})" if title else f"untitled ({conversation_id})"


def _conversation_id(conversation: dict[str, Any], mapping: dict[str, Any]) -> str:
    for key in ("id", "conversation_id"):
        value = conversation.get(key)
        if isinstance(value, str) and value:
            return value
    # No id: derive one from the node ids, so a re-import recognises the same conversation.
    keys = "\n".join(sorted(mapping)).encode("utf-8", "surrogatepass")
    digest = hashlib.sha1(keys).hexdigest()[:20]
    return f"noid-{digest}"


def _children_order(
    mapping: dict[str, Any], parent_of: dict[str, str | None]
) -> dict[str | None, list[str]]:
    """Children of every node (None: the roots), in the parent's `children` order first."""
    children: dict[str | None, list[str]] = {}
    for node_id, parent in parent_of.items():
        children.setdefault(parent, []).append(node_id)
    for parent, kids in children.items():
        if parent is None or len(kids) < 2:
            continue
        node = mapping.get(parent)
        listed = node.get("children") if isinstance(node, dict) else None
        if isinstance(listed, list):
            rank = {kid: i for i, kid in enumerate(listed) if isinstance(kid, str)}
            kids.sort(key=lambda kid: rank.get(kid, len(rank)))  # stable: mapping order after
    return children


def _walk(mapping: dict[str, Any], parent_of: dict[str, str | None], warn: list[str]) -> list[str]:
    """Every node id, parents before children (depth first); cycles are cut, with a warning."""
    children = _children_order(mapping, parent_of)
    order: list[str] = []
    seen: set[str] = set()

    def visit(root: str) -> None:
        stack = [root]
        while stack:
            node_id = stack.pop()
            if node_id in seen:
                continue
            seen.add(node_id)
            order.append(node_id)
            stack.extend(reversed(children.get(node_id, ())))

    for root in children.get(None, ()):
        visit(root)
    if len(seen) < len(parent_of):
        # Whatever is left hangs off a cycle: follow parents until a node repeats, cut there.
        for node_id in parent_of:
            if node_id in seen:
                continue
            path: set[str] = set()
            current = node_id
            while current not in path:
                path.add(current)
                current = parent_of[current]  # type: ignore[assignment]  # never None here
            parent_of[current] = None
            warn.append(f"the message tree has a cycle; cut at node {current}")
            children = _children_order(mapping, parent_of)
            visit(current)
    return order


def convert(
    conversation: Any, index: int, feedback: Mapping[str, dict[str, Any]] | None = None
) -> Converted:
    """Turn one conversation into a session (None when nothing visible is left) and facts."""
    if not isinstance(conversation, dict):
        return Converted(
            warnings=[ImportWarning(f"item {index}", "not a conversation object; skipped")]
        )
    mapping = conversation.get("mapping")
    raw_title = conversation.get("title")
    title = raw_title if isinstance(raw_title, str) and raw_title else None
    if not isinstance(mapping, dict) or not mapping:
        label = conversation_label(title, str(conversation.get("id") or f"item {index}"))
        return Converted(warnings=[ImportWarning(label, "no messages (empty mapping); skipped")])
    mapping = {key: node for key, node in mapping.items() if isinstance(key, str)}
    conversation_id = _conversation_id(conversation, mapping)
    label = conversation_label(title, conversation_id)
    notes: list[str] = []
    out = Converted()

    parent_of: dict[str, str | None] = {}
    dangling = 0
    for node_id, node in mapping.items():
        parent = node.get("parent") if isinstance(node, dict) else None
        if isinstance(parent, str) and parent not in mapping:
            dangling += 1
            parent = None
        parent_of[node_id] = parent if isinstance(parent, str) else None
    if dangling:
        notes.append(f"{dangling} message(s) point to a parent that is not in the export")
    order = _walk(mapping, parent_of, notes)

    default_model = conversation.get("default_model_slug")
    default_model = default_model if isinstance(default_model, str) else None
    feedback = feedback or {}
    kept: dict[str, ImportedMessage] = {}
    anchor: dict[str, str | None] = {}  # node → the kept message it hangs under (itself if kept)
    kept_children: dict[str | None, int] = {}
    unknown: dict[str, int] = {}
    messages: list[ImportedMessage] = []
    newest_custom: datetime | None = None
    for node_id in order:
        node = mapping[node_id]
        message = node.get("message") if isinstance(node, dict) else None
        parent = parent_of[node_id]
        above = anchor.get(parent) if parent is not None else None
        found = classify(message)
        if found.kind is Kind.DIALOGUE:
            assert isinstance(message, dict)
            created = to_time(message.get("create_time"))
            metadata: dict[str, Any] = {"voice": True} if found.voice else {}
            if feedback:
                rating = feedback.get(node_id) or feedback.get(str(message.get("id")))
                if rating:
                    metadata.update(rating)
            model = None
            if found.role == "assistant":
                meta = message.get("metadata")
                slug = meta.get("model_slug") if type(meta) is dict else None
                model = slug if type(slug) is str and slug else default_model
            item = ImportedMessage(node_id, above, found.role, found.text, created, model, metadata)  # type: ignore[arg-type]
            kept[node_id] = item
            messages.append(item)
            kept_children[above] = kept_children.get(above, 0) + 1
            anchor[node_id] = node_id
            continue
        anchor[node_id] = above
        if found.kind is Kind.CUSTOM_INSTRUCTIONS and (found.about_user or found.about_model):
            when = to_time(message.get("create_time")) if isinstance(message, dict) else None
            if out.custom is None or (when and (newest_custom is None or when >= newest_custom)):
                out.custom, newest_custom = found, when
        elif found.kind is Kind.SAVED_MEMORY:
            out.facts.extend(fact for fact in found.facts or () if fact[0])
        elif found.kind is Kind.UNKNOWN:
            unknown[found.content_type] = unknown.get(found.content_type, 0) + 1
    for content_type, count in sorted(unknown.items()):
        notes.append(f"skipped {count} message(s) of unknown type {content_type!r}")

    messages, merged = _merge_continuations(messages, kept, parent_of, kept_children)
    out.time = to_time(conversation.get("update_time")) or to_time(conversation.get("create_time"))
    out.warnings = [ImportWarning(label, note) for note in notes]
    if not messages:
        out.warnings.append(ImportWarning(label, "no visible messages; skipped"))
        return out
    current = conversation.get("current_node")
    leaf = _active_leaf(current, mapping, anchor, merged, messages, out, label)
    created = to_time(conversation.get("create_time")) or next(
        (m.created_at for m in messages if m.created_at), None
    )
    out.session = ImportedSession(SOURCE, conversation_id, title, created, messages, leaf)
    return out


def _merge_continuations(
    messages: list[ImportedMessage],
    kept: dict[str, ImportedMessage],
    parent_of: dict[str, str | None],
    kept_children: dict[str | None, int],
) -> tuple[list[ImportedMessage], dict[str, str]]:
    """Fold an assistant message into its assistant parent when it is that parent's only child.

    "Continue generating" continues the same text, so it is joined directly; a reply split by a
    dropped tool call is joined with a blank line. Children of a merged message move up to the
    message it was folded into. Returns the remaining messages and merged id → kept id.
    """
    into: dict[str, str] = {}
    result: list[ImportedMessage] = []
    for message in messages:
        original = message.parent_source_id
        target_key = into.get(original, original) if original is not None else None
        parent = kept.get(original) if original is not None else None
        if (
            parent is not None
            and target_key is not None
            and message.role == "assistant"
            and parent.role == "assistant"
            and kept_children.get(original) == 1
        ):
            target = kept[target_key]
            direct = parent_of.get(message.source_id) == original
            target.text += ("" if direct else "\n\n") + message.text
            target.metadata.setdefault("merged_source_ids", []).append(message.source_id)
            target.model = target.model or message.model
            for key, value in message.metadata.items():
                target.metadata.setdefault(key, value)  # voice, feedback of the fragment
            into[message.source_id] = target_key
            continue
        message.parent_source_id = target_key
        result.append(message)
    return result, into


def _active_leaf(
    current: Any,
    mapping: dict[str, Any],
    anchor: dict[str, str | None],
    merged: dict[str, str],
    messages: list[ImportedMessage],
    out: Converted,
    label: str,
) -> str | None:
    """The kept message at the end of the thread the user saw."""
    if isinstance(current, str) and current in mapping:
        found = anchor.get(current)
        return merged.get(found, found) if found is not None else None
    if current is not None:
        out.warnings.append(
            ImportWarning(label, "current_node is not in the export; showing the newest branch")
        )
    # No current node: the newest leaf by time, else the last leaf in tree order.
    parents = {m.parent_source_id for m in messages}
    leaves = [m for m in messages if m.source_id not in parents]
    timed = [(m.created_at, i) for i, m in enumerate(leaves) if m.created_at is not None]
    if timed:
        return leaves[max(timed)[1]].source_id
    return leaves[-1].source_id if leaves else None
