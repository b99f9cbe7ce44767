"""Renderings of domain facts for people to read outside the chat (Markdown documents).

Pure functions: no database, no Slack. Whatever depends on the chat (people's names, how
said text reads) arrives in `Readers`.
"""
