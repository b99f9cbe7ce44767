"""The playbooks shipped with warroom. The YAML files here are the playbooks; this file
only lets the folder be installed as the package `bot.shipped_playbooks` (see setup.py)."""
