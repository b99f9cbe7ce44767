"""warroom: a Slack bot that runs major incidents."""
