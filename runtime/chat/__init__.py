"""Chat turns for every UI: the plain chat (`hearth chat --plain`) and the TUI share this package.

- `session`   ChatSession: send, regenerate, edit, alternatives, undo, context report
- `setup`     open_chat: companion → model → engine, and which session to continue
- `commands`  the slash commands (/regen, /edit, /alt, /undo, /context, /help, /quit)
"""

from runtime.chat.commands import COMMANDS, Command, help_text, parse
from runtime.chat.session import BranchPoint, ChatSession, Turn
from runtime.chat.setup import OpenChat, chat_model, engine_config, open_chat

__all__ = [
    "COMMANDS",
    "BranchPoint",
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
