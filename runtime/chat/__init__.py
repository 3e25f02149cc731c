"""Chat turns for every UI: the plain chat (`hearth chat --plain`) and the TUI share this package.

- `session`   ChatSession: send, regenerate, edit, alternatives, undo, context report
- `setup`     open_chat: companion → model → engine → memory, and which session to continue
- `memory`    ChatMemory: retrieval for each prompt, indexing after each reply (keyword fallback)
- `commands`  the slash commands (/regen, /edit, /alt, /undo, /context, /help, /quit)
"""

from runtime.chat.commands import COMMANDS, Command, help_text, parse
from runtime.chat.memory import ChatMemory
from runtime.chat.session import BranchPoint, ChatSession, Turn
from runtime.chat.setup import OpenChat, chat_model, engine_config, open_chat

__all__ = [
    "COMMANDS",
    "BranchPoint",
    "ChatMemory",
    "ChatSession",
    "Command",
    "OpenChat",
    "Turn",
    "chat_model",
    "engine_config",
    "help_text",
    "open_chat",
    "parse",
]
