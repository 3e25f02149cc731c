"""Preference pairs: where the user regenerated a reply, the one kept against the ones not kept.

Written to pairs.jsonl for later preference training (DPO and the like), not used by SFT:
`{"prompt": [system, …, user turn], "chosen": text, "rejected": [texts], "session_id": id}`.
The prompt is the conversation up to the user turn, cut from the front (whole exchanges) so
that prompt and chosen reply fit `--max-length`. Only replies that are trained on count.
"""

from __future__ import annotations

from typing import Any

from training.dataset.windows import Budget, Message, Sized


def _prompt(budget: Budget, sized: list[Sized], start: int, index: int) -> list[Message]:
    messages: list[Message] = [budget.system]
    for item in sized[start:index]:
        messages.append({"role": "user", "content": item.exchange.user.text})
        messages.append({"role": "assistant", "content": item.exchange.reply.text})
    messages.append({"role": "user", "content": sized[index].exchange.user.text})
    return messages


def pairs(sized: list[Sized], budget: Budget, session_id: int) -> list[dict[str, Any]]:
    """The conversation's pairs, oldest first."""
    out: list[dict[str, Any]] = []
    for index, item in enumerate(sized):
        reply = item.exchange.reply
        if not reply.rejected or not reply.trained:
            continue
        start, total = index, budget.system_tokens + item.estimate(budget.per_turn)
        while start > 0 and total + sized[start - 1].estimate(budget.per_turn) <= budget.max_length:
            start -= 1
            total += sized[start].estimate(budget.per_turn)
        while start <= index:
            prompt = _prompt(budget, sized, start, index)
            chosen = {"role": "assistant", "content": reply.text}
            if budget.exact([*prompt, chosen]) <= budget.max_length:
                out.append({
                    "prompt": prompt,
                    "chosen": reply.text,
                    "rejected": list(reply.rejected),
                    "session_id": session_id,
                })  # fmt: skip
                break
            start += 1
    return out
