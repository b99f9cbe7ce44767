"""The Slack layer: parse payloads into domain calls, render results, perform Web API calls."""
